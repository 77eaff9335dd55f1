"""The booking flow walked in each language: every message the pages show comes from the reader's catalog.

The walk opens the pages a customer sees from the front page to the voucher (with a refused form on the
way, a login page, an error page), in zh_Hans, zh_Hant and en, and reads their visible text (with the
texts a screen reader reads: labels, placeholders, ``aria-label``, ``alt``, button values). In Chinese,
no English msgid of the host's, the themes' or the plugins' catalogs may appear: a message someone
forgot to translate, or one shown without ``_()``, fails the walk. Merchant text is localized by the
merchant (the demo gives each language its own), so it takes part in the same check.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from site_booking_setup import hidden_fields
from tenant_setup import make_booking_type, make_tenant, windows

from yuyue.presenting.catalogs import CATALOG_LOCALES, package_catalog_path

ZONE = ZoneInfo("Asia/Shanghai")
DAY = datetime.now(ZONE).date() + timedelta(days=2)
AT = datetime.combine(DAY, datetime.min.time(), ZONE).replace(hour=9)
PACKAGES = ("yuyue", "yuyue_theme_default", "yuyue_activity", "yuyue_course", "yuyue_exhibition", "yuyue_scenic", "yuyue_vehicle")
# Placeholders, markup and words that read the same in every language; what is left must be longer than this to count.
SHORTEST_CHECKED = 4


class _VisibleText(HTMLParser):
    """Text a reader sees or hears: character data outside script/style, and the attributes that carry words."""

    SPOKEN = ("placeholder", "aria-label", "alt", "title")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "svg"):
            self._hidden += 1
        found = dict(attrs)
        self.parts += [found[name] for name in self.SPOKEN if found.get(name)]
        if tag == "input" and found.get("type") in ("submit", "button") and found.get("value"):
            self.parts.append(found["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "svg"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def _pattern(msgid: str) -> re.Pattern[str] | None:
    """A msgid as a pattern of what it renders to (placeholders match anything); None if too short to tell languages apart."""
    literal = re.sub(r"%\(\w+\)[sd]", "", msgid)
    if len(re.sub(r"[^A-Za-z]", "", literal)) < SHORTEST_CHECKED:
        return None
    parts = [re.escape(part) for part in re.split(r"%\(\w+\)[sd]", msgid)]
    return re.compile(r"\b" + r".{0,40}?".join(parts) + r"(?![A-Za-z])")


def english_msgids(locale: str) -> list[tuple[str, re.Pattern[str]]]:
    """Every catalog msgid that ``locale`` translates to something else, as a pattern."""
    found = []
    for package in PACKAGES:
        path = package_catalog_path(package, locale)
        if not path.is_file():
            continue
        with path.open("rb") as source:
            for message in read_po(source, locale=locale):
                msgid = message.id if isinstance(message.id, str) else message.id[0]
                msgstr = message.string if isinstance(message.string, str) else message.string[0]
                pattern = _pattern(msgid) if msgid and msgstr != msgid else None
                if pattern is not None:
                    found.append((msgid, pattern))
    return found


@pytest.fixture
def gallery(session):
    """A tenant whose booking type has a name, a description and form labels in all three languages."""
    tenant = make_tenant(session, "gallery")
    form = {
        "type": "object",
        "properties": {"name": {"type": "string", "x-field": "text", "minLength": 1, "maxLength": 40}},
        "required": ["name"],
    }
    ui = {"order": ["name"], "fields": {"name": {"label": {"zh-Hans": "姓名", "zh-Hant": "姓名", "en": "Name"}}}}
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00"), capacity=5), form=form, ui=ui)
    return tenant


def walk(client, locale: str) -> dict[str, str]:
    """The booking flow in ``locale``: each page's visible text by name."""
    base = "/t/gallery"
    pages = {}
    pages["home"] = client.get(f"{base}/?lang={locale}")
    pages["booking type"] = client.get(f"{base}/book/entry/?day={DAY.isoformat()}")
    form_url = f"{base}/book/entry/form?at={AT.isoformat().replace('+', '%2B')}"
    pages["form"] = client.get(form_url)
    refused = client.post(form_url, data={**hidden_fields(pages["form"]), "answers.name": "", "phone": "12", "party_size": "1"})
    pages["refused form"] = refused
    placed = client.post(form_url, data={**hidden_fields(refused), "answers.name": "Lin", "phone": "13800138001", "party_size": "1"})
    assert placed.status_code == 303, placed.get_data(as_text=True)[:500]
    pages["voucher"] = client.get(placed.headers["Location"])
    pages["login"] = client.get(f"{base}/login")
    pages["missing page"] = client.get(f"{base}/book/nothing-here/")
    pages["full form (no such slot)"] = client.get(f"{base}/book/entry/form?at=2001-01-01T09:00:00%2B08:00")
    for name, page in pages.items():
        assert page.status_code < 500, (name, page.status_code)
    return {name: visible_text(page.get_data(as_text=True)) for name, page in pages.items()}


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_no_english_message_on_any_page_of_the_chinese_booking_flow(client, gallery, locale):
    texts = walk(client, locale)
    untranslated = [f"{page}: {msgid!r}" for page, text in texts.items() for msgid, pattern in english_msgids(locale) if pattern.search(text)]
    assert untranslated == []


@pytest.mark.parametrize("locale", CATALOG_LOCALES)
def test_each_language_shows_its_own_words_on_every_page(client, gallery, locale):
    texts = walk(client, locale)
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for page, text in texts.items():
        if locale == "en":
            # The tenant's name and the demo data are English here; no Chinese word of the catalogs may leak.
            assert not cjk.search(text.replace("简体中文", "").replace("繁體中文", "")), (page, cjk.findall(text)[:10])
        else:
            assert cjk.search(text), page


def test_the_refused_form_speaks_the_readers_language(client, gallery):
    zh = walk(client, "zh_Hans")["refused form"]
    en = walk(client, "en")["refused form"]
    assert zh != en
    assert "手机" in zh or "号码" in zh  # the phone number's problem, in Chinese


def test_the_catalogs_walked_are_the_installed_ones():
    assert all(Path(str(files(package))).is_dir() for package in PACKAGES)
    assert len(english_msgids("zh_Hans")) > 300


def test_the_walk_sees_english_messages_where_they_are_shown(client, gallery):
    """The check can fail: read in English, the same pages show many of the msgids the Chinese walk looks for."""
    texts = walk(client, "en")
    shown = {msgid for text in texts.values() for msgid, pattern in english_msgids("zh_Hans") if pattern.search(text)}
    assert len(shown) >= 15, shown
