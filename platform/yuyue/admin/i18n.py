"""The admin's languages: catalogs compiled when the application starts, and the reader's locale.

``pip install -e`` has no build step, and five people edit the ``.po`` files at once, so no ``.mo``
is committed (it would be stale, or a binary merge conflict, after every change). The catalogs are
compiled at start-up into the instance folder instead: a few milliseconds, skipped when the sources
have not changed since the last start, written atomically so that gunicorn workers starting together
never read half a file.

Flask-AppBuilder ships ``zh`` (simplified) and ``zh_HK`` (traditional) catalogs of its own strings,
and gettext reads ``zh_Hant`` as ``zh``: its pages would show simplified Chinese to a zh_Hant
reader. yuyue's zh_Hant catalog is therefore compiled on top of Flask-AppBuilder's ``zh_HK``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Any

import flask_appbuilder
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Response, g, has_request_context, request, session
from flask_babel import get_locale, refresh

from yuyue.presenting.language import accepted_locale

__all__ = ["CATALOG_LOCALES", "catalog_path", "compile_catalogs", "init_languages", "locale_tag", "select_locale"]

# The admin's locales, as Babel names them; the first is the default.
CATALOG_LOCALES = ("zh_Hans", "zh_Hant", "en")
DOMAIN = "messages"
# Flask-AppBuilder's own catalog each of ours is compiled over (gettext already finds its ``zh`` for zh_Hans).
FAB_BASE = {"zh_Hant": "zh_HK"}
_DIGEST_FILE = "SOURCE-DIGEST"


def catalog_path(locale: str) -> Path:
    """The ``.po`` file of ``locale`` in the installed package."""
    return Path(str(files("yuyue") / "translations" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"))


def _fab_catalog_path(locale: str) -> Path:
    return Path(flask_appbuilder.__file__).parent / "translations" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _sources() -> list[Path]:
    return [catalog_path(locale) for locale in CATALOG_LOCALES] + [_fab_catalog_path(base) for base in FAB_BASE.values()]


def _read(path: Path, locale: str) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def _compiled(locale: str) -> Catalog:
    """``locale``'s catalog over Flask-AppBuilder's base for it; our fuzzy and empty entries are left out, as msgfmt does."""
    ours = _read(catalog_path(locale), locale)
    if locale not in FAB_BASE:
        return ours
    merged = _read(_fab_catalog_path(FAB_BASE[locale]), locale)
    merged.fuzzy = False
    # Flask-AppBuilder's few fuzzy zh_HK entries are still traditional: better than its simplified zh, which gettext would use instead.
    for message in merged:
        message.flags.discard("fuzzy")
    for message in ours:
        if message.id:
            # Catalog's own __setitem__ would keep Flask-AppBuilder's msgstr of an id both define.
            merged.delete(message.id)
            merged[message.id] = message
    return merged


@functools.lru_cache(maxsize=2)
def _mo_files(digest: str) -> dict[str, bytes]:
    """Every locale's ``.mo``, once per process for sources with ``digest`` (each test's app has an instance folder of its own)."""
    compiled = {}
    for locale in CATALOG_LOCALES:
        out = io.BytesIO()
        write_mo(out, _compiled(locale))
        compiled[locale] = out.getvalue()
    return compiled


def compile_catalogs(target: Path) -> Path:
    """Write ``target/<locale>/LC_MESSAGES/messages.mo`` for every locale unless the sources are unchanged; return ``target``."""
    digest = hashlib.sha256()
    for source in _sources():
        digest.update(source.read_bytes())
    marker = target / _DIGEST_FILE
    if marker.exists() and marker.read_text() == digest.hexdigest():
        return target
    for locale, mo in _mo_files(digest.hexdigest()).items():
        folder = target / locale / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        _replace(folder / f"{DOMAIN}.mo", mo)
    _replace(marker, digest.hexdigest().encode())
    return target


def _replace(path: Path, content: bytes) -> None:
    """Write ``path`` whole or not at all: a worker starting beside this one reads the old file or the new."""
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as out:
        out.write(content)
    os.replace(out.name, path)


def select_locale() -> str:
    """The reader's locale: their choice on the language links (kept in the session), else ``Accept-Language``, else zh_Hans.

    Replaces Flask-AppBuilder's selector, which never reads ``Accept-Language`` and writes the default
    into every visitor's session (after which it would win over the browser's language for good).
    """
    if not has_request_context():
        return CATALOG_LOCALES[0]  # a command or a job: the default, as Flask-Babel's own would give
    chosen = session.get("locale")
    if chosen in CATALOG_LOCALES:
        return chosen
    return accepted_locale(request.accept_languages.values()).replace("-", "_")


def locale_tag() -> str:
    """The BCP 47 tag of the current locale (``zh-Hans``), for ``<html lang>``."""
    return str(get_locale() or CATALOG_LOCALES[0]).replace("_", "-")


def _is_local_path(target: str) -> bool:
    return target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target and all(c >= " " for c in target)


def _back_to_the_page(response: Response) -> Response:
    """Flask-AppBuilder's ``/lang/<locale>`` returns to its own page history; the admin's links say where they came from (``?next=``)."""
    if request.endpoint == "LocaleView.index" and response.status_code == 302:
        target = request.args.get("next", "")
        if _is_local_path(target):
            response.location = target
    return response


def init_languages(app: Flask) -> None:
    """Take over the locale choice from Flask-AppBuilder's Babel manager (call after ``AppBuilder.init_app``)."""
    app.extensions["babel"].locale_selector = select_locale
    # Flask-Babel keeps the locale on ``g``, which outlives a request where an app context is already
    # pushed (tests, CLI code calling views): every request chooses again.
    app.before_request(refresh)
    app.after_request(_back_to_the_page)

    @app.context_processor
    def _html_lang() -> dict[str, Any]:
        g.admin_locale_tag = locale_tag()
        return {"current_locale": str(get_locale())}
