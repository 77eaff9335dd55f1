"""The admin in zh_Hans, zh_Hant and English: complete catalogs, the reader's locale, Flask-AppBuilder's own strings."""

from __future__ import annotations

import re

from babel.support import Translations
from click.testing import CliRunner

from yuyue.admin import catalog_check
from yuyue.admin.catalog_check import check_catalogs, extract_messages, i18n_cli
from yuyue.presenting.catalogs import CATALOG_LOCALES, catalog_path, compile_catalogs

DASHBOARD = "/admin/t/tenant-a/"
# The dashboard's name in each locale, and the <html lang> each locale gets.
DASHBOARD_WORDS = {"zh_Hans": "仪表盘", "zh_Hant": "儀表板", "en": "Dashboard"}
HTML_LANG = {"zh_Hans": 'lang="zh-Hans"', "zh_Hant": 'lang="zh-Hant"', "en": 'lang="en"'}


def test_every_catalog_translates_every_message_of_the_sources():
    reports = check_catalogs()
    failures = "\n".join(f"{report.locale}:\n" + "\n".join(report.lines()) for report in reports if report.failed)
    assert not failures, failures


def test_the_sources_are_extracted_from_python_and_templates():
    extracted = extract_messages()
    assert "admin/dashboard.py" in " ".join(extracted["Dashboard"])
    assert any(place.startswith("admin/templates/admin/layout.html") for place in extracted["Log out"])
    assert any(place.startswith("templates/appbuilder/") for place in extracted["Sign in"])


def test_the_check_lists_a_missing_msgid_under_every_catalog():
    extracted = {**extract_messages(), "A message nobody translated": ["admin/new.py:1"]}
    reports = check_catalogs(extracted)
    assert [report.locale for report in reports if report.failed] == list(CATALOG_LOCALES)
    for report in reports:
        assert report.missing == ["A message nobody translated"]
        assert 'msgid "A message nobody translated"' in "\n".join(report.lines())


def test_the_cli_check_fails_with_the_missing_msgids(monkeypatch):
    monkeypatch.setattr(catalog_check, "extract_messages", lambda: {**extract_messages(), "Brand new": ["x.py:1"]})
    result = CliRunner().invoke(i18n_cli, ["check"])
    assert result.exit_code == 1
    assert result.output.count('msgid "Brand new"') == len(CATALOG_LOCALES)
    assert "zh_Hant: FAILED" in result.output


def test_an_untranslated_or_fuzzy_entry_fails_the_check(tmp_path, monkeypatch):
    copies = {}
    for locale in CATALOG_LOCALES:
        copies[locale] = tmp_path / f"{locale}.po"
        copies[locale].write_text(catalog_path(locale).read_text(encoding="utf-8"), encoding="utf-8")
    zh_hant = copies["zh_Hant"]
    text = zh_hant.read_text(encoding="utf-8")
    text = text.replace('msgid "Log out"\nmsgstr "登出"', 'msgid "Log out"\nmsgstr ""')
    text = text.replace('msgid "Menu"\n', '#, fuzzy\nmsgid "Menu"\n')
    text += '\nmsgid "Dashboard"\nmsgstr "儀表板"\n'
    zh_hant.write_text(text, encoding="utf-8")
    monkeypatch.setattr(catalog_check, "catalog_path", lambda locale: copies[locale])
    report = {report.locale: report for report in check_catalogs()}
    assert report["zh_Hant"].untranslated == ["Log out"]
    assert report["zh_Hant"].fuzzy == ["Menu"]
    assert report["zh_Hant"].duplicated == ["Dashboard"]
    assert not report["zh_Hans"].failed and not report["en"].failed


def test_update_appends_missing_msgids_and_keeps_the_sections(tmp_path, monkeypatch):
    copies = {}
    for locale in CATALOG_LOCALES:
        copies[locale] = tmp_path / f"{locale}.po"
        copies[locale].write_text(catalog_path(locale).read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(catalog_check, "catalog_path", lambda locale: copies[locale])
    before = copies["zh_Hans"].read_text(encoding="utf-8")
    extracted = {**extract_messages(), "%(count)s new bookings": ["admin/desk.py:9"]}
    assert catalog_check.update_catalogs(extracted) == dict.fromkeys(CATALOG_LOCALES, 1)
    after = copies["zh_Hans"].read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n"))
    assert '#: admin/desk.py:9\n#, python-format\nmsgid "%(count)s new bookings"\nmsgstr ""' in after
    assert 'msgstr "%(count)s new bookings"' in copies["en"].read_text(encoding="utf-8")
    report = {report.locale: report for report in check_catalogs(extracted)}
    assert report["zh_Hans"].untranslated == ["%(count)s new bookings"] and not report["en"].failed


def test_compiled_catalogs_say_what_the_po_files_say(tmp_path):
    target = compile_catalogs(tmp_path)
    for locale in CATALOG_LOCALES:
        compiled = Translations.load(str(target), [locale])
        for message in catalog_check._read(locale):
            if message.pluralizable:
                singular, plural = message.id[:2]
                assert compiled.ngettext(singular, plural, 1) == message.string[0], (locale, message.id)
            elif message.id:
                assert compiled.gettext(message.id) == message.string, (locale, message.id)
    mo = target / "zh_Hant" / "LC_MESSAGES" / "messages.mo"
    written = mo.stat().st_mtime_ns
    compile_catalogs(tmp_path)
    assert mo.stat().st_mtime_ns == written, "unchanged sources are not compiled again"


def test_zh_hant_has_flask_appbuilders_strings_in_traditional_chinese(tmp_path):
    compiled = Translations.load(str(compile_catalogs(tmp_path)), ["zh_Hant"])
    assert compiled.gettext("Invalid login. Please try again.") == "無效的用戶名或密碼，請重試！"
    assert compiled.gettext("List Users") == "用戶列表"
    assert compiled.gettext("Not a valid choice") == "選擇無效", "its entries marked fuzzy too: traditional beats simplified"


# --- the pages --------------------------------------------------------------------------


def test_the_dashboard_is_in_simplified_chinese_by_default(admin_login):
    page = admin_login("owner-a").get(DASHBOARD).get_data(as_text=True)
    assert DASHBOARD_WORDS["zh_Hans"] in page and HTML_LANG["zh_Hans"] in page
    assert "Dashboard" not in page


def test_the_dashboard_follows_accept_language(admin_login):
    owner = admin_login("owner-a")
    for header, locale in (
        ("zh-TW,zh;q=0.9", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-Hant-MO", "zh_Hant"),
        ("en-GB,en;q=0.8", "en"),
        ("fr-FR, en;q=0.5", "en"),
        ("zh-CN", "zh_Hans"),
        ("zh-SG", "zh_Hans"),
        ("de-DE", "zh_Hans"),
    ):
        page = owner.get(DASHBOARD, headers={"Accept-Language": header}).get_data(as_text=True)
        assert DASHBOARD_WORDS[locale] in page and HTML_LANG[locale] in page, header


def test_a_chosen_language_wins_over_accept_language_and_returns_to_the_page(admin_login):
    owner = admin_login("owner-a")
    page = owner.get(DASHBOARD).get_data(as_text=True)
    assert f'href="/lang/en?next={DASHBOARD}"' in page
    response = owner.get(f"/lang/en?next={DASHBOARD}")
    assert response.status_code == 302 and response.headers["Location"] == DASHBOARD
    page = owner.get(DASHBOARD, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert DASHBOARD_WORDS["en"] in page and HTML_LANG["en"] in page
    assert 'hreflang="en" aria-current="true"' in page


def test_the_language_link_never_leads_off_the_site(admin_login):
    owner = admin_login("owner-a")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "admin"):
        location = owner.get("/lang/zh_Hant", query_string={"next": target}).headers["Location"]
        assert "evil" not in location and location.startswith("/"), target
    assert owner.get("/lang/xx").status_code == 404


def test_the_login_page_looks_like_the_admin_in_each_language(client, admin_users):
    for header, words in (("zh-CN", ("登录", "用户名", "密码")), ("zh-TW", ("登入", "使用者名稱", "密碼")), ("en", ("Sign in", "Username", "Password"))):
        page = client.get("/login/", headers={"Accept-Language": header}).get_data(as_text=True)
        assert all(word in page for word in words), header
        assert "admin/admin.css" in page and "bootstrap" not in page.lower()
        assert 'for="username"' in page and 'for="password"' in page


def test_a_failed_login_says_so_in_the_readers_language(client, admin_users):
    for header, message in (("zh-CN", "无效的用户名或密码"), ("zh-HK", "無效的用戶名或密碼"), ("en", "Invalid login. Please try again.")):
        form = client.get("/login/").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        client.post("/login/", data={"username": "owner-a", "password": "wrong", "csrf_token": token}, headers={"Accept-Language": header})
        page = client.get("/login/", headers={"Accept-Language": header}).get_data(as_text=True)
        assert message in page, header


def test_refusals_are_translated(admin_login):
    staff = admin_login("owner-b")
    page = staff.get(DASHBOARD, headers={"Accept-Language": "zh-TW"}).get_data(as_text=True)
    assert "找不到" in page and "返回管理後台" in page


def test_outside_a_request_the_locale_is_english(app):
    # Commands and jobs are read by operators and logs (decisions §54); requests choose their own.
    from flask_babel import gettext, refresh

    refresh()
    assert gettext("Dashboard") == "Dashboard"
