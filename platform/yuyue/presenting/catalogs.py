"""Languages: catalogs compiled when the application starts, and the reader's locale on every surface.

``pip install -e`` has no build step, and five people edit the ``.po`` files at once, so no ``.mo``
is committed (it would be stale, or a binary merge conflict, after every change). The catalogs are
compiled at start-up into the instance folder instead: a few milliseconds, skipped when the sources
have not changed since the last start, written atomically so that gunicorn workers starting together
never read half a file.

Flask-AppBuilder ships ``zh`` (simplified) and ``zh_HK`` (traditional) catalogs of its own strings,
and gettext reads ``zh_Hant`` as ``zh``: its pages would show simplified Chinese to a zh_Hant
reader. yuyue's zh_Hant catalog is therefore compiled on top of Flask-AppBuilder's ``zh_HK``.

Plugins and themes ship catalogs inside their packages (``<package>/translations/<locale>/LC_MESSAGES/
messages.po``); they are merged under the host's into the one ``messages`` domain, so a plugin's
``gettext`` finds its own texts and the host's texts cannot be changed by a plugin.
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

__all__ = [
    "CATALOG_LOCALES",
    "LOCALE_COOKIE",
    "catalog_path",
    "compile_catalogs",
    "init_languages",
    "locale_tag",
    "package_catalog_path",
    "select_locale",
]

# The admin's locales, as Babel names them; the first is the default.
CATALOG_LOCALES = ("zh_Hans", "zh_Hant", "en")
DOMAIN = "messages"
# Flask-AppBuilder's own catalog each of ours is compiled over (gettext already finds its ``zh`` for zh_Hans).
FAB_BASE = {"zh_Hant": "zh_HK"}
_DIGEST_FILE = "SOURCE-DIGEST"


# The locale of messages read outside a request (the CLI, jobs): their readers are operators.
OUTSIDE_REQUESTS = "en"

# The customer site's choice of language (``?lang=`` sets it), read before ``Accept-Language``.
LOCALE_COOKIE = "yuyue_lang"


def package_catalog_path(package: str, locale: str) -> Path:
    """The ``.po`` file of ``locale`` inside ``package`` (the host's ``yuyue``, or a plugin's or theme's package)."""
    return Path(str(files(package) / "translations" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"))


def catalog_path(locale: str) -> Path:
    """The host's ``.po`` file of ``locale``."""
    return package_catalog_path("yuyue", locale)


def _fab_catalog_path(locale: str) -> Path:
    return Path(flask_appbuilder.__file__).parent / "translations" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _plugin_catalogs(packages: tuple[str, ...], locale: str) -> list[Path]:
    """The catalogs of ``locale`` that ``packages`` (plugins, themes) ship; a package without one is skipped."""
    return [path for path in (package_catalog_path(package, locale) for package in packages) if path.is_file()]


def _sources(packages: tuple[str, ...]) -> list[Path]:
    found = [catalog_path(locale) for locale in CATALOG_LOCALES] + [_fab_catalog_path(base) for base in FAB_BASE.values()]
    return found + [path for locale in CATALOG_LOCALES for path in _plugin_catalogs(packages, locale)]


def _read(path: Path, locale: str) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def _compiled(locale: str, packages: tuple[str, ...]) -> Catalog:
    """``locale``'s catalog over Flask-AppBuilder's base for it, with the plugins' entries the host lacks; fuzzy and empty ones left out, as msgfmt does."""
    ours = _read(catalog_path(locale), locale)
    for path in _plugin_catalogs(packages, locale):
        for message in _read(path, locale):
            if message.id and message.id not in ours:
                ours[message.id] = message
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


@functools.lru_cache(maxsize=4)
def _mo_files(digest: str, packages: tuple[str, ...]) -> dict[str, bytes]:
    """Every locale's ``.mo``, once per process for sources with ``digest`` (each test's app has an instance folder of its own)."""
    compiled = {}
    for locale in CATALOG_LOCALES:
        out = io.BytesIO()
        write_mo(out, _compiled(locale, packages))
        compiled[locale] = out.getvalue()
    return compiled


def compile_catalogs(target: Path, packages: tuple[str, ...] = ()) -> Path:
    """Write ``target/<locale>/LC_MESSAGES/messages.mo`` for every locale unless the sources are unchanged; return ``target``.

    ``packages`` are the plugins' and themes' packages whose catalogs are merged under the host's.
    """
    digest = hashlib.sha256()
    for source in _sources(packages):
        digest.update(str(source).encode() + b"\0" + source.read_bytes())
    marker = target / _DIGEST_FILE
    if marker.exists() and marker.read_text() == digest.hexdigest():
        return target
    for locale, mo in _mo_files(digest.hexdigest(), packages).items():
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


def _catalog_locale(tag: str | None) -> str | None:
    """``zh-Hans`` or ``zh_Hans`` → ``zh_Hans``; anything that names no catalog → None."""
    if not tag:
        return None
    name = tag.replace("-", "_")
    return name if name in CATALOG_LOCALES else None


def _accepted() -> str | None:
    """The best locale ``Accept-Language`` names, or None if it names none (absent, or only other languages)."""
    return _catalog_locale(accepted_locale((tag for tag, _quality in request.accept_languages), default=None))


def _tenant_default() -> str | None:
    tenant = g.get("tenant")
    return _catalog_locale((getattr(tenant, "locales", None) or [None])[0]) if tenant is not None else None


def select_locale() -> str:
    """The reader's locale, by surface.

    - The customer site (``/t/…``): ``?lang=``, then the ``yuyue_lang`` cookie it sets, then
      ``Accept-Language``, then the tenant's first locale.
    - The API (``/api/…``): ``?lang=``, then ``Accept-Language``, then the tenant's first locale.
    - The admin: the choice on its language links (kept in the session), then ``Accept-Language``.

    Anything outside a request (a command, a job, an operation called from a test) gets English:
    its readers are operators and logs, and an error raised there is put into words when a request
    shows it. Replaces Flask-AppBuilder's selector, which never
    reads ``Accept-Language`` and writes the default into every visitor's session (after which it
    would win over the browser's language for good).
    """
    if not has_request_context():
        return OUTSIDE_REQUESTS
    if request.path.startswith(("/t/", "/api/")):
        choices = [_catalog_locale(request.args.get("lang"))]
        if request.path.startswith("/t/"):
            choices.append(_catalog_locale(request.cookies.get(LOCALE_COOKIE)))
        choices += [_accepted(), _tenant_default()]
    else:
        choices = [session.get("locale") if session.get("locale") in CATALOG_LOCALES else None, _accepted()]
    return next((choice for choice in choices if choice), CATALOG_LOCALES[0])


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


def _choose_again(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    refresh()


def _forget_the_locale(_error: BaseException | None) -> None:
    refresh()


def init_languages(app: Flask) -> None:
    """Take over the locale choice from Flask-AppBuilder's Babel manager (call after ``AppBuilder.init_app``)."""
    app.extensions["babel"].locale_selector = select_locale
    # Flask-Babel keeps the locale on ``g``, which outlives a request where an app context is already
    # pushed (tests, CLI code calling views): every request chooses again, before any hook of its own
    # (one that answers early, such as the API's envelope check or a tenant not found, would otherwise
    # read the last request's). URL value preprocessors are the first hooks Flask runs.
    app.url_value_preprocessors.setdefault(None, []).insert(0, _choose_again)
    # And forgets it after: code run later in the same context (a test's direct call) is outside any request.
    app.teardown_request(_forget_the_locale)
    app.after_request(_back_to_the_page)

    @app.context_processor
    def _html_lang() -> dict[str, Any]:
        g.admin_locale_tag = locale_tag()
        return {"current_locale": str(get_locale())}
