"""Catalogs across packages: ``yuyue i18n check`` and ``update`` cover every installed plugin and theme, each
against its own sources; a plugin's messages are translated from the catalog it ships; messages outside a
request (the CLI) stay English.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask_babel import force_locale

from yuyue.admin import catalog_check
from yuyue.admin.catalog_check import CatalogPackage, check_package, i18n_cli, installed_packages, update_package
from yuyue.errors import NotFound, schema_problem_message
from yuyue.presenting.catalogs import CATALOG_LOCALES

COURSE_MESSAGE = "choose a class in another week"


@pytest.fixture
def course_copy(tmp_path: Path) -> CatalogPackage:
    """A copy of the course plugin's package (its Python and catalogs), to break without touching the checkout."""
    source = next(package for package in installed_packages() if package.name == "yuyue_course").source
    copy = tmp_path / "yuyue_course"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return CatalogPackage("yuyue_course", copy)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_every_bundled_plugin_and_theme_is_checked():
    names = {package.name for package in installed_packages()}

    assert {"yuyue_course", "yuyue_vehicle", "yuyue_activity", "yuyue_scenic", "yuyue_theme_default", "yuyue_theme_ink"} <= names


@pytest.mark.parametrize("package", installed_packages(), ids=lambda package: package.name)
def test_every_installed_package_translates_its_own_messages(package):
    failed = [report for report in check_package(package) if report.failed]

    assert not failed, "\n".join(line for report in failed for line in [f"{report.package} {report.locale}", *report.lines()])


def test_the_theme_templates_msgids_are_the_themes_to_translate():
    theme = next(package for package in installed_packages() if package.name == "yuyue_theme_default")

    extracted = catalog_check.extract_package_messages(theme)

    assert extracted and all(place.startswith("templates/") for places in extracted.values() for place in places)


def test_a_plugin_copy_passes_as_it_is(course_copy):
    assert not any(report.failed for report in check_package(course_copy))


def test_a_fuzzy_entry_in_a_plugin_catalog_fails_and_names_the_package(course_copy):
    _edit(course_copy.catalog("zh_Hant"), f'msgid "{COURSE_MESSAGE}"', f'#, fuzzy\nmsgid "{COURSE_MESSAGE}"')

    report = {report.locale: report for report in check_package(course_copy)}

    assert report["zh_Hant"].fuzzy == [COURSE_MESSAGE]
    assert report["zh_Hant"].package == "yuyue_course"
    assert not report["zh_Hans"].failed


def test_a_message_missing_from_a_plugin_catalog_fails(course_copy):
    _edit(course_copy.source / "hooks.py", f'_l("{COURSE_MESSAGE}")', '_l("pick a class next week")')

    reports = check_package(course_copy)

    assert [report.missing for report in reports] == [["pick a class next week"]] * len(CATALOG_LOCALES)
    assert all(COURSE_MESSAGE in report.unused for report in reports)


def test_a_plugin_placeholder_changed_in_translation_fails(course_copy):
    _edit(course_copy.catalog("zh_Hans"), "已预约 %(booked)s 节", "已预约 %(count)s 节")

    report = {report.locale: report for report in check_package(course_copy)}

    assert report["zh_Hans"].placeholders and report["zh_Hans"].placeholders[0].startswith("a student may book at most")


def test_the_cli_check_fails_on_a_broken_plugin_catalog_naming_it(course_copy, monkeypatch):
    _edit(course_copy.catalog("en"), f'msgid "{COURSE_MESSAGE}"', f'#, fuzzy\nmsgid "{COURSE_MESSAGE}"')
    monkeypatch.setattr(catalog_check, "installed_packages", lambda: [course_copy])

    result = CliRunner().invoke(i18n_cli, ["check"])

    assert result.exit_code == 1
    assert "yuyue_course en: FAILED" in result.output
    assert "the catalogs of yuyue_course are incomplete" in result.output


def test_update_writes_a_catalog_for_a_package_that_has_none(course_copy):
    shutil.rmtree(course_copy.source / "translations")

    assert update_package(course_copy) == dict.fromkeys(CATALOG_LOCALES, 2)

    report = {report.locale: report for report in check_package(course_copy)}
    assert not report["en"].failed
    assert report["zh_Hans"].untranslated and not report["zh_Hans"].missing


def test_a_message_read_outside_a_request_is_english(app):
    error = NotFound(schema_problem_message("maxLength", 40, "fallback"))

    assert error.message == "at most 40 characters"


def test_a_message_is_put_into_words_when_it_is_read(app):
    error = NotFound(schema_problem_message("maxLength", 40, "fallback"))

    with force_locale("zh_Hans"):
        assert error.message == "最多 40 个字符"
    with force_locale("zh_Hant"):
        assert error.message == "最多 40 個字元"
