"""The schema forms speak the reader's language: the host's schemas' titles, labels and help texts are in the catalogs."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

import yuyue_schemas
from yuyue.admin import catalog_check
from yuyue.admin.catalog_check import check_catalogs, extract_messages, schema_form_messages
from yuyue.admin.schema_form import render_schema_form, schema_messages
from yuyue.scheduling.registry import slot_rules

BOOKING_WINDOW = {"opens_days_ahead": 7, "release_time": "08:30", "closes_minutes_before": 0}


def booking_window_form(locale: str) -> str:
    with force_locale(locale):
        return str(render_schema_form(slot_rules().params_schemas()["booking_window"], BOOKING_WINDOW, prefix="p", errors={}))


@pytest.mark.parametrize(
    ("locale", "shown", "not_shown"),
    [
        (
            "zh_Hans",
            ["提前开放天数", "放票时间", "提前截止分钟数", "最多 3660 天（十年）", "当地时间，24 小时制，格式 HH:MM。"],
            ["Opens days ahead", "at most 3660"],
        ),
        (
            "zh_Hant",
            ["提前開放天數", "放票時間", "提前截止分鐘數", "最多 3660 天（十年）", "當地時間，24 小時制，格式 HH:MM。"],
            ["Opens days ahead", "提前开放天数"],
        ),
        ("en", ["Opens days ahead", "Release time", "Closes minutes before", "at most 3660 (ten years)", "Local wall-clock time, 24-hour HH:MM."], ["提前"]),
    ],
)
def test_the_booking_window_form_is_in_the_readers_language(app, locale, shown, not_shown):
    html = booking_window_form(locale)
    for text in shown:
        assert text in html
    for text in not_shown:
        assert text not in html


def test_the_policy_form_is_in_simplified_chinese(app):
    with force_locale("zh_Hans"):
        html = str(render_schema_form(yuyue_schemas.schema("policies"), {"cancellation": {"deadline_hours": 2}}, prefix="policies", errors={}))
    assert "限购规则" in html and "截止小时数" in html and "Deadline hours" not in html


def test_a_text_no_catalog_has_is_shown_as_is(app):
    schema = {"type": "object", "properties": {"plugin_colour": {"type": "string", "description": "A plugin's own help."}}}
    with force_locale("zh_Hans"):
        html = str(render_schema_form(schema, {}, prefix="p", errors={}))
    assert "Plugin colour" in html and "A plugin&#39;s own help." in html


def test_schema_messages_are_what_the_form_shows():
    found = dict(schema_messages(yuyue_schemas.slot_rule_types()["booking_window"]))
    assert found == {
        "Opens days ahead": "/opens_days_ahead",
        "at most 3660 (ten years)": "/opens_days_ahead",
        "Release time": "/release_time",
        "Local wall-clock time, 24-hour HH:MM.": "/release_time",
        "Closes minutes before": "/closes_minutes_before",
        "at most 527040 (366 days)": "/closes_minutes_before",
    }
    # The top's title and description are not the form's (the builder shows the rule's title itself).
    assert "When a slot can be booked" not in " ".join(found)


def test_the_host_schemas_texts_are_extracted_with_where_they_are():
    extracted = extract_messages()
    assert "yuyue_schemas/v1/slot-rules/booking_window.json#/opens_days_ahead" in extracted["Opens days ahead"]
    assert "yuyue_schemas/v1/slot-rules/booking_window.json#title" in extracted["Booking window"]
    assert "yuyue_schemas/v1/policies.json#/no_show/bans/-/ban_days" in extracted["Ban days"]
    assert set(schema_form_messages()) <= set(extracted)


def test_a_new_schema_property_without_a_translation_fails_the_check(monkeypatch):
    real = yuyue_schemas.slot_rule_types

    def with_new_property():
        types = real()
        types["booking_window"]["properties"]["brand_new_limit"] = {"type": "integer", "description": "A limit nobody translated."}
        return types

    monkeypatch.setattr(catalog_check.yuyue_schemas, "slot_rule_types", with_new_property)
    reports = check_catalogs()
    for report in reports:
        assert {"Brand new limit", "A limit nobody translated."} <= set(report.missing)
        assert report.failed
