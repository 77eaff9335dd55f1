"""localized-text: a non-empty string, or a string per known language."""

import pytest

import yuyue_schemas


@pytest.mark.parametrize(
    "text",
    [
        "活动报名",
        {"zh-Hans": "活动报名"},
        {"zh-Hant": "活動報名", "en": "Event registration"},
        {"zh-Hans": "活动报名", "zh-Hant": "活動報名", "en": "Event registration"},
    ],
)
def test_string_or_per_language_object_is_accepted(text):
    assert yuyue_schemas.problems("localized-text", text) == []


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        ("", ""),
        ({}, ""),
        (None, ""),
        (["活动"], ""),
        ({"zh-Hans": ""}, "/zh-Hans"),
        ({"zh-Hans": 1}, "/zh-Hans"),
        ({"zh-CN": "活动"}, "/zh-CN"),
    ],
)
def test_empty_or_unknown_language_is_refused(text, pointer):
    found = yuyue_schemas.problems("localized-text", text)
    assert [p.pointer for p in found] == [pointer]
