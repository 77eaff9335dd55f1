"""Locales: which one a reader asked for, and the text of a localized value (``{"zh-Hans": …, "en": …}``) in it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

LOCALES = ("zh-Hans", "zh-Hant", "en")
DEFAULT_LOCALE = "zh-Hans"
# Accept-Language tags (lower case, most specific first) and the locale each means.
LANGUAGE_TAGS = (
    ("zh-hant", "zh-Hant"),
    ("zh-tw", "zh-Hant"),
    ("zh-hk", "zh-Hant"),
    ("zh-mo", "zh-Hant"),
    ("zh", "zh-Hans"),
    ("en", "en"),
)


def accepted_locale(tags: Iterable[str], default: str | None = DEFAULT_LOCALE) -> str | None:
    """The locale of the first language tag that names one (tags best first, as ``Accept-Language`` ranks them), else ``default``."""
    for tag in tags:
        tag = tag.lower()
        for prefix, locale in LANGUAGE_TAGS:
            if tag == prefix or tag.startswith(prefix + "-"):
                return locale
    return default


def localize(value: Any, locale: str) -> Any:
    """The ``locale`` text of a localized value, falling back to the others; other values as they are."""
    if not is_localized(value):
        return value
    for candidate in (locale, DEFAULT_LOCALE, *LOCALES):
        if value.get(candidate):
            return value[candidate]
    return None


def is_localized(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and value.keys() <= set(LOCALES) and all(isinstance(v, str) for v in value.values())


def localize_all(value: Any, locale: str) -> Any:
    """``value`` with every localized text inside it (a UI schema's labels, placeholders, help) in ``locale``."""
    if is_localized(value):
        return localize(value, locale)
    if isinstance(value, Mapping):
        return {key: localize_all(item, locale) for key, item in value.items()}
    if isinstance(value, list):
        return [localize_all(item, locale) for item in value]
    return value
