"""ui-schema: order and per-field presentation of a form."""

import pytest

import yuyue_schemas

VALID = {
    "order": ["name", "companions"],
    "fields": {
        "name": {
            "label": {"zh-Hans": "姓名", "zh-Hant": "姓名", "en": "Name"},
            "placeholder": "张三",
            "help": {"en": "As on your ID card"},
            "widget": "text",
            "hidden": False,
        },
        "companions": {"label": "同行人", "fields": {"id_card": {"label": "身份证号"}}},
    },
}


def test_ui_schema_is_accepted():
    assert yuyue_schemas.problems("ui-schema", VALID) == []


def test_empty_ui_schema_is_accepted():
    assert yuyue_schemas.problems("ui-schema", {}) == []


@pytest.mark.parametrize(
    ("instance", "pointer"),
    [
        ({"order": ["name", "name"]}, "/order"),
        ({"order": ["Name"]}, "/order/0"),
        ({"fields": {"name": {"label": ""}}}, "/fields/name/label"),
        ({"fields": {"name": {"hidden": "yes"}}}, "/fields/name/hidden"),
        ({"fields": {"name": {"tooltip": "x"}}}, "/fields/name/tooltip"),
        ({"fields": {"name": {"widget": "Big Text"}}}, "/fields/name/widget"),
        ({"fields": [], "order": []}, "/fields"),
        ({"theme": "ink"}, "/theme"),
    ],
)
def test_bad_ui_schema_is_refused_at_the_value(instance, pointer):
    assert [p.pointer for p in yuyue_schemas.problems("ui-schema", instance)] == [pointer]
