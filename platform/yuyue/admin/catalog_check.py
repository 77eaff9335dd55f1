"""``yuyue i18n check`` and ``yuyue i18n update``: every message of the host's and every installed plugin's and
theme's Python and templates, in every catalog of its own package.

The msgids are extracted with Babel's own extractors, as ``pybabel extract -F babel.cfg`` would
(the mapping is the repository's ``babel.cfg``), plus the English texts the schema forms of the
booking-type builder show from the host's schemas (slot rules' and policies' titles, field labels and
help texts: :func:`schema_form_messages`). ``check`` fails when a catalog lacks a msgid, leaves
one untranslated (English too: its msgstr repeats the msgid), keeps a fuzzy one, defines one twice
(two areas added the same text: keep one), or changes its ``%(name)s`` placeholders; it lists them by
catalog so they can be fixed at once. ``update`` appends the missing msgids to every catalog's end
for translators, leaving everything already written where it is (unlike ``pybabel update``, which
would reorder the areas' sections).

Plugins and themes (the ``yuyue.plugins`` entry points) are checked the same way, each package against
the msgids of its own ``*.py`` and ``templates/**.html`` and its own catalogs
(``<package>/translations/<locale>/LC_MESSAGES/messages.po``): a plugin cannot count on the host (or
another plugin) to translate its texts, and a report names the package it is about.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, unescape

import yuyue
import yuyue_schemas
from yuyue.admin.schema_form import schema_messages
from yuyue.events.email import EMAIL_SETTINGS_SCHEMA
from yuyue.events.sms import SMS_SETTINGS_SCHEMA
from yuyue.events.wechat import WECHAT_SETTINGS_SCHEMA
from yuyue.plugins import ENTRY_POINT_GROUP
from yuyue.presenting.catalogs import CATALOG_LOCALES, DOMAIN, catalog_path

__all__ = [
    "CatalogPackage",
    "CatalogReport",
    "check_catalogs",
    "check_package",
    "extract_messages",
    "extract_package_messages",
    "i18n_cli",
    "installed_packages",
    "schema_form_messages",
    "update_catalogs",
    "update_package",
]

PACKAGE = Path(yuyue.__file__).parent
# The checkout's babel.cfg (platform/yuyue/ → the repository root).
MAPPING = PACKAGE.parent.parent / "babel.cfg"
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "lazy_ngettext": (1, 2), "_nl": (1, 2), "lazy_pgettext": ((1, "c"), 2)}
# What a plugin's or theme's package holds messages in (paths relative to the package).
PACKAGE_METHOD_MAP = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
PACKAGE_OPTIONS_MAP = {"**/templates/**.html": {"encoding": "utf-8"}}
NEW_MESSAGES = "# ==== new messages (yuyue i18n update): translate them, then move them into your area's section ===="
_MSGID = re.compile(r'^msgid "(.*)"$')
_CONTINUATION = re.compile(r'^"(.*)"$')
_PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


@dataclass
class CatalogReport:
    """What is wrong with one catalog; empty when nothing is."""

    locale: str
    missing: list[str] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    # In the catalog, in no source: reported, never a failure (a message may be used where extraction cannot see).
    unused: list[str] = field(default_factory=list)
    # Where each missing msgid is used (its first place), so the message can be found.
    used_at: dict[str, str] = field(default_factory=dict)
    # The package the catalog belongs to (``yuyue``, or a plugin's or theme's) and the catalog's file.
    package: str = "yuyue"
    path: Path | None = None

    @property
    def failed(self) -> bool:
        return bool(self.missing or self.untranslated or self.fuzzy or self.duplicated or self.placeholders)

    def lines(self) -> list[str]:
        found = []
        for title, items in (
            ("missing msgids (yuyue i18n update appends them)", self.missing),
            ("empty msgstr", self.untranslated),
            ("fuzzy entries (check the msgstr, then remove the fuzzy flag)", self.fuzzy),
            ("msgids defined twice (keep one)", self.duplicated),
            ("msgstr placeholders differ from the msgid's", self.placeholders),
        ):
            if items:
                found.append(f"  {title}: {len(items)}")
                found.extend(f"    msgid {_quoted(item)}" + (f"  ({self.used_at[item]})" if item in self.used_at else "") for item in items)
        return found


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _key(msgid: str | tuple[str, ...]) -> str:
    return msgid[0] if isinstance(msgid, tuple) else msgid


# The host's schemas the booking-type builder draws with schema_form: every slot rule's params, and policies.
_SCHEMA_FORMS = "policies"
# The built-in notification channels' settings, drawn with schema_form on the channels page.
_CHANNEL_SETTINGS = {"email": EMAIL_SETTINGS_SCHEMA, "sms": SMS_SETTINGS_SCHEMA, "wechat": WECHAT_SETTINGS_SCHEMA}


def schema_form_messages() -> dict[str, list[str]]:
    """Every English text the builder shows from the host's schemas → where (``yuyue_schemas/v1/policies.json#/quotas``).

    The slot rules' titles (the rule's heading and the add-a-rule choice) and everything their
    params', the policies' and the built-in notification channels' settings forms show
    (:func:`yuyue.admin.schema_form.schema_messages`).
    """
    found: dict[str, list[str]] = defaultdict(list)
    forms = [(f"slot-rules/{key}", schema, True) for key, schema in yuyue_schemas.slot_rule_types().items()]
    forms.append((_SCHEMA_FORMS, yuyue_schemas.schema(_SCHEMA_FORMS), False))
    for name, schema, titled in forms:
        file = f"yuyue_schemas/v1/{name}.json"
        if titled and isinstance(schema.get("title"), str):
            found[schema["title"]].append(f"{file}#title")
        for text, where in schema_messages(schema):
            found[text].append(f"{file}#{where}")
    for key, schema in _CHANNEL_SETTINGS.items():
        for text, where in schema_messages(schema):
            found[text].append(f"events/{key}.py#settings_schema{where}")
    return dict(found)


class Extracted(dict[str, list[str]]):
    """msgid → where it is used; ``plurals`` holds the plural msgid of each ``ngettext`` message."""

    def __init__(self, *args: object, plurals: dict[str, str] | None = None) -> None:
        super().__init__(*args)
        self.plurals = dict(plurals or {})


def _extract(source: Path, method_map: list[tuple[str, str]], options_map: dict[str, dict[str, str]]) -> Extracted:
    found = Extracted()
    for filename, lineno, message, _comments, _context in extract_from_dir(source, method_map, options_map, keywords=KEYWORDS):
        found.setdefault(_key(message), []).append(f"{filename}:{lineno}")
        if isinstance(message, tuple) and len(message) > 1 and message[1]:
            found.plurals[message[0]] = message[1]
    return found


def extract_messages(mapping: Path = MAPPING, source: Path = PACKAGE) -> dict[str, list[str]]:
    """Every msgid in ``source`` (the ``yuyue`` package) and the host's schema forms → where it is used (``admin/base.py:120``)."""
    if not mapping.exists():
        raise click.ClickException(f"{mapping} is missing: run this from a checkout of yuyue")
    with mapping.open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = _extract(source, method_map, options_map)
    for text, places in schema_form_messages().items():
        found.setdefault(text, []).extend(places)
    return found


@dataclass(frozen=True)
class CatalogPackage:
    """A plugin's or theme's package, checked against its own catalogs: ``name`` imports it, ``source`` is its folder."""

    name: str
    source: Path

    def catalog(self, locale: str) -> Path:
        return self.source / "translations" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def installed_packages() -> list[CatalogPackage]:
    """The top-level package of every installed plugin and theme (its ``yuyue.plugins`` entry point), by name."""
    packages = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        name = entry_point.value.partition(":")[0].partition(".")[0]
        spec = find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            packages[name] = CatalogPackage(name, Path(next(iter(spec.submodule_search_locations))))
    return [packages[name] for name in sorted(packages)]


def extract_package_messages(package: CatalogPackage) -> dict[str, list[str]]:
    """Every msgid in ``package``'s Python and templates → where it is used (relative to the package)."""
    return _extract(package.source, PACKAGE_METHOD_MAP, PACKAGE_OPTIONS_MAP)


def _duplicates(path: Path) -> list[str]:
    """msgids that the file defines more than once (Babel keeps the last silently; gettext's tools refuse the file)."""
    seen: set[str] = set()
    twice: list[str] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        match = _MSGID.match(line)
        if not match:
            continue
        parts = [match.group(1)]
        for following in lines[index + 1 :]:
            continuation = _CONTINUATION.match(following)
            if not continuation:
                break
            parts.append(continuation.group(1))
        msgid = "".join(parts)
        if msgid and msgid in seen:
            twice.append(unescape(f'"{msgid}"'))
        seen.add(msgid)
    return twice


def _read(locale: str) -> Catalog:
    return _read_file(catalog_path(locale), locale)


def _read_file(path: Path, locale: str) -> Catalog:
    if not path.is_file():
        return Catalog(locale=locale)
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def _report(locale: str, catalog: Catalog, path: Path, extracted: dict[str, list[str]], package: str) -> CatalogReport:
    report = CatalogReport(locale, package=package, path=path)
    present = {_key(message.id) for message in catalog if message.id}
    report.missing = sorted(set(extracted) - present)
    report.used_at = {msgid: extracted[msgid][0] for msgid in report.missing if extracted[msgid]}
    report.unused = sorted(present - set(extracted))
    report.duplicated = _duplicates(path) if path.is_file() else []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            report.untranslated.append(_key(message.id))
        elif any(set(_PLACEHOLDER.findall(text)) != set(_PLACEHOLDER.findall(_key(message.id))) for text in strings):
            report.placeholders.append(_key(message.id))
        if message.fuzzy:
            report.fuzzy.append(_key(message.id))
    return report


def check_catalogs(extracted: dict[str, list[str]] | None = None) -> list[CatalogReport]:
    """One report per catalog of the host (zh_Hans, zh_Hant, en)."""
    extracted = extract_messages() if extracted is None else extracted
    return [_report(locale, _read(locale), catalog_path(locale), extracted, "yuyue") for locale in CATALOG_LOCALES]


def check_package(package: CatalogPackage, extracted: dict[str, list[str]] | None = None) -> list[CatalogReport]:
    """One report per catalog of a plugin's or theme's package; a package with no messages and no catalogs passes."""
    extracted = extract_package_messages(package) if extracted is None else extracted
    return [_report(locale, _read_file(package.catalog(locale), locale), package.catalog(locale), extracted, package.name) for locale in CATALOG_LOCALES]


def _po_entry(msgid: str, places: list[str], msgstr: str, plural: str | None = None) -> str:
    references = "".join(f"#: {place}\n" for place in places[:3])
    flags = "#, python-format\n" if _PLACEHOLDER.search(msgid) else ""
    if plural is None:
        return f"{references}{flags}msgid {_quoted(msgid)}\nmsgstr {_quoted(msgstr)}\n"
    # English has two forms; the Chinese catalogs one (their Plural-Forms say so).
    forms = [msgid, plural] if msgstr else [""]
    return f"{references}{flags}msgid {_quoted(msgid)}\nmsgid_plural {_quoted(plural)}\n" + "".join(
        f"msgstr[{index}] {_quoted(form)}\n" for index, form in enumerate(forms)
    )


_HEADER = """# {package}'s messages in {locale}.
msgid ""
msgstr ""
"Project-Id-Version: {package}\\n"
"Language: {locale}\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=utf-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: {plural_forms}\\n"
"""


def _append_missing(report: CatalogReport, extracted: dict[str, list[str]], package: str) -> int:
    """Append ``report``'s missing msgids to its catalog (created with a header if the package has none yet)."""
    path = report.path or catalog_path(report.locale)
    if not report.missing:
        return 0
    if path.is_file():
        text = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        plural_forms = "nplurals=2; plural=(n != 1);" if report.locale == "en" else "nplurals=1; plural=0;"
        text = _HEADER.format(package=package, locale=report.locale, plural_forms=plural_forms)
    if NEW_MESSAGES not in text:
        text += f"\n{NEW_MESSAGES}\n"
    plurals = getattr(extracted, "plurals", {})
    for msgid in report.missing:
        text += "\n" + _po_entry(msgid, extracted[msgid], msgid if report.locale == "en" else "", plurals.get(msgid))
    path.write_text(text, encoding="utf-8")
    return len(report.missing)


def update_catalogs(extracted: dict[str, list[str]] | None = None) -> dict[str, int]:
    """Append every missing msgid to each host catalog (English: msgstr = msgid; Chinese: empty, to translate); the count per catalog."""
    extracted = extract_messages() if extracted is None else extracted
    added = {}
    for report in check_catalogs(extracted):
        report.path = catalog_path(report.locale)
        added[report.locale] = _append_missing(report, extracted, "yuyue")
    return added


def update_package(package: CatalogPackage) -> dict[str, int]:
    """:func:`update_catalogs` for a plugin's or theme's package."""
    extracted = extract_package_messages(package)
    return {report.locale: _append_missing(report, extracted, package.name) for report in check_package(package, extracted)}


@click.group("i18n")
def i18n_cli() -> None:
    """The message catalogs of the host (platform/yuyue/translations) and of every installed plugin and theme."""


def _echo_reports(package: str, count: int, reports: list[CatalogReport], show_unused: bool) -> None:
    for report in reports:
        status = "FAILED" if report.failed else "ok"
        click.echo(f"{package} {report.locale}: {status} ({count} msgids in the sources, {len(report.unused)} unused in the catalog)")
        if report.failed and report.path is not None:
            click.echo(f"  {report.path}")
        for line in report.lines():
            click.echo(line)
        if show_unused:
            click.echo("".join(f"    unused msgid {_quoted(item)}\n" for item in report.unused), nl=False)


@i18n_cli.command("check")
@click.option("--show-unused", is_flag=True, help="Also list catalog entries that no source uses.")
def check_command(show_unused: bool) -> None:
    """Fail unless every catalog translates every msgid of its package's Python and templates (the host's, each plugin's and theme's)."""
    extracted = extract_messages()
    reports = check_catalogs(extracted)
    _echo_reports("yuyue", len(extracted), reports, show_unused)
    for package in installed_packages():
        found = extract_package_messages(package)
        package_reports = check_package(package, found)
        _echo_reports(package.name, len(found), package_reports, show_unused)
        reports += package_reports
    failed = sorted({report.package for report in reports if report.failed})
    if failed:
        raise click.ClickException(f"the catalogs of {', '.join(failed)} are incomplete: see above (yuyue i18n update appends missing msgids)")


@i18n_cli.command("update")
def update_command() -> None:
    """Append the msgids the sources use and a catalog lacks to the end of that catalog (the host's, each plugin's and theme's)."""
    for locale, count in update_catalogs().items():
        click.echo(f"yuyue {locale}: {count} msgids appended to {catalog_path(locale)}")
    for package in installed_packages():
        for locale, count in update_package(package).items():
            if count:
                click.echo(f"{package.name} {locale}: {count} msgids appended to {package.catalog(locale)}")


if __name__ == "__main__":
    sys.exit(i18n_cli())
