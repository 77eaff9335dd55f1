"""``yuyue i18n check`` and ``yuyue i18n update``: every message of the host's Python and templates, in every catalog.

The msgids are extracted with Babel's own extractors, as ``pybabel extract -F babel.cfg`` would
(the mapping is the repository's ``babel.cfg``), plus the English texts the schema forms of the
booking-type builder show from the host's schemas (slot rules' and policies' titles, field labels and
help texts: :func:`schema_form_messages`). ``check`` fails when a catalog lacks a msgid, leaves
one untranslated (English too: its msgstr repeats the msgid), keeps a fuzzy one, defines one twice
(two areas added the same text: keep one), or changes its ``%(name)s`` placeholders; it lists them by
catalog so they can be fixed at once. ``update`` appends the missing msgids to every catalog's end
for translators, leaving everything already written where it is (unlike ``pybabel update``, which
would reorder the areas' sections).
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, unescape

import yuyue
import yuyue_schemas
from yuyue.admin.schema_form import schema_messages
from yuyue.presenting.catalogs import CATALOG_LOCALES, catalog_path

__all__ = ["CatalogReport", "check_catalogs", "extract_messages", "i18n_cli", "schema_form_messages", "update_catalogs"]

PACKAGE = Path(yuyue.__file__).parent
# The checkout's babel.cfg (platform/yuyue/ → the repository root).
MAPPING = PACKAGE.parent.parent / "babel.cfg"
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "lazy_ngettext": (1, 2), "lazy_pgettext": ((1, "c"), 2)}
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


def schema_form_messages() -> dict[str, list[str]]:
    """Every English text the builder shows from the host's schemas → where (``yuyue_schemas/v1/policies.json#/quotas``).

    The slot rules' titles (the rule's heading and the add-a-rule choice) and everything their
    params' and the policies' schema forms show (:func:`yuyue.admin.schema_form.schema_messages`).
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
    return dict(found)


def extract_messages(mapping: Path = MAPPING, source: Path = PACKAGE) -> dict[str, list[str]]:
    """Every msgid in ``source`` (the ``yuyue`` package) and the host's schema forms → where it is used (``admin/base.py:120``)."""
    if not mapping.exists():
        raise click.ClickException(f"{mapping} is missing: run this from a checkout of yuyue")
    with mapping.open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, list[str]] = defaultdict(list)
    for filename, lineno, message, _comments, _context in extract_from_dir(source, method_map, options_map, keywords=KEYWORDS):
        found[_key(message)].append(f"{filename}:{lineno}")
    for text, places in schema_form_messages().items():
        found[text].extend(places)
    return dict(found)


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
    with catalog_path(locale).open("rb") as source:
        return read_po(source, locale=locale)


def check_catalogs(extracted: dict[str, list[str]] | None = None) -> list[CatalogReport]:
    """One report per catalog (zh_Hans, zh_Hant, en)."""
    extracted = extract_messages() if extracted is None else extracted
    reports = []
    for locale in CATALOG_LOCALES:
        catalog = _read(locale)
        report = CatalogReport(locale)
        present = {_key(message.id) for message in catalog if message.id}
        report.missing = sorted(set(extracted) - present)
        report.used_at = {msgid: extracted[msgid][0] for msgid in report.missing if extracted[msgid]}
        report.unused = sorted(present - set(extracted))
        report.duplicated = _duplicates(catalog_path(locale))
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
        reports.append(report)
    return reports


def _po_entry(msgid: str, places: list[str], msgstr: str) -> str:
    references = "".join(f"#: {place}\n" for place in places[:3])
    flags = "#, python-format\n" if _PLACEHOLDER.search(msgid) else ""
    return f"{references}{flags}msgid {_quoted(msgid)}\nmsgstr {_quoted(msgstr)}\n"


def update_catalogs(extracted: dict[str, list[str]] | None = None) -> dict[str, int]:
    """Append every missing msgid to each catalog (English: msgstr = msgid; Chinese: empty, to translate); the count per catalog."""
    extracted = extract_messages() if extracted is None else extracted
    added = {}
    for report in check_catalogs(extracted):
        path = catalog_path(report.locale)
        if report.missing:
            text = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
            if NEW_MESSAGES not in text:
                text += f"\n{NEW_MESSAGES}\n"
            for msgid in report.missing:
                text += "\n" + _po_entry(msgid, extracted[msgid], msgid if report.locale == "en" else "")
            path.write_text(text, encoding="utf-8")
        added[report.locale] = len(report.missing)
    return added


@click.group("i18n")
def i18n_cli() -> None:
    """The admin's message catalogs (platform/yuyue/translations)."""


@i18n_cli.command("check")
@click.option("--show-unused", is_flag=True, help="Also list catalog entries that no source uses.")
def check_command(show_unused: bool) -> None:
    """Fail unless every catalog translates every msgid of the host's Python and templates."""
    extracted = extract_messages()
    reports = check_catalogs(extracted)
    for report in reports:
        status = "FAILED" if report.failed else "ok"
        click.echo(f"{report.locale}: {status} ({len(extracted)} msgids in the sources, {len(report.unused)} unused in the catalog)")
        for line in report.lines():
            click.echo(line)
        if show_unused:
            click.echo("".join(f"    unused msgid {_quoted(item)}\n" for item in report.unused), nl=False)
    if any(report.failed for report in reports):
        raise click.ClickException("the catalogs are incomplete: see above (yuyue i18n update appends missing msgids)")


@i18n_cli.command("update")
def update_command() -> None:
    """Append the msgids the sources use and a catalog lacks to the end of that catalog."""
    for locale, count in update_catalogs().items():
        click.echo(f"{locale}: {count} msgids appended to {catalog_path(locale)}")


if __name__ == "__main__":
    sys.exit(i18n_cli())
