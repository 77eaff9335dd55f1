"""Field types: each turns a posted value into a typed answer, and declares what a merchant may set."""

from datetime import date, time
from decimal import Decimal

import pytest

from yuyue.forms.fields import BUILTIN_FIELD_TYPES, infer_field_type
from yuyue.forms.validation import InvalidAnswers

ID = "11010519491231002X"


def options(*values):
    return [{"value": value, "label": value.title()} for value in values]


FORM = {
    "type": "object",
    "properties": {
        "name": {"x-field": "text"},
        "remarks": {"x-field": "textarea"},
        "mobile": {"x-field": "phone"},
        "email": {"x-field": "email"},
        "id_card": {"x-field": "id_card"},
        "seats": {"x-field": "number", "type": "integer"},
        "weight": {"x-field": "number"},
        "day": {"x-field": "date"},
        "arrival": {"x-field": "time"},
        "level": {"x-field": "select", "x-options": options("beginner", "advanced")},
        "extras": {"x-field": "multiselect", "x-options": options("tea", "guide")},
        "newsletter": {"x-field": "checkbox"},
        "consent": {"x-field": "consent"},
        "pickup": {"x-field": "location", "x-options": options("south_gate", "airport")},
        "dropoff": {"x-field": "route_stop"},
        "companions": {
            "x-field": "person_list",
            "items": {"type": "object", "properties": {"name": {"x-field": "text"}, "id_card": {"x-field": "id_card"}, "born": {"x-field": "date"}}},
        },
    },
}


@pytest.fixture(scope="module")
def compiled(registry):
    return registry.compile(FORM)


def test_every_built_in_type_is_covered_here():
    assert {spec["x-field"] for spec in FORM["properties"].values()} == {t.key for t in BUILTIN_FIELD_TYPES}


@pytest.mark.parametrize(
    ("field", "posted", "typed"),
    [
        ("name", "  张三 ", "张三"),
        ("remarks", "Wheelchair, please\n", "Wheelchair, please"),
        ("mobile", "+86 138-0013-8000", "13800138000"),
        ("email", " zhang@example.cn ", "zhang@example.cn"),
        ("id_card", "110105 19491231 002x", ID),
        ("seats", 3, 3),
        ("seats", 3.0, 3),
        ("weight", 62.5, Decimal("62.5")),
        ("weight", 70, 70),
        ("day", "2025-05-01", date(2025, 5, 1)),
        ("arrival", "09:30", time(9, 30)),
        ("level", "advanced", "advanced"),
        ("extras", ["guide", "tea"], ["guide", "tea"]),
        ("newsletter", False, False),
        ("consent", True, True),
        ("pickup", "airport", "airport"),
        ("dropoff", " airport_t2 ", "airport_t2"),
    ],
)
def test_posted_value_becomes_a_typed_answer(registry, compiled, field, posted, typed):
    answer = registry.validate(compiled, {field: posted})[field]
    assert answer == typed and type(answer) is type(typed)


@pytest.mark.parametrize("posted", ["airport t2", "机场", "-airport", "a" * 61, 7])
def test_a_route_stop_answer_is_a_stop_code(registry, compiled, posted):
    with pytest.raises(InvalidAnswers):
        registry.validate(compiled, {"dropoff": posted})


def test_person_list_becomes_a_list_of_typed_people(registry, compiled):
    answers = registry.validate(compiled, {"companions": [{"name": " 李四 ", "id_card": ID.lower(), "born": "1949-12-31"}]})
    assert answers["companions"] == [{"name": "李四", "id_card": ID, "born": date(1949, 12, 31)}]


def test_blank_answer_counts_as_not_given(registry, compiled):
    assert dict(registry.validate(compiled, {"name": "   ", "email": "", "day": None})) == {}


def test_typed_answers_turn_back_into_normalized_json(registry, compiled):
    answers = registry.validate(compiled, {"day": "2025-05-01", "weight": 62.5, "id_card": ID.lower(), "companions": [{"born": "2010-01-02"}]})
    assert answers.to_json() == {"day": "2025-05-01", "weight": 62.5, "id_card": ID, "companions": [{"born": "2010-01-02"}]}


def test_options_give_the_allowed_values(compiled):
    assert compiled["properties"]["level"]["enum"] == ["beginner", "advanced"]
    assert compiled["properties"]["extras"]["items"]["enum"] == ["tea", "guide"]


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("id_card", {"type": "string", "format": "cn-id-card"}),
        ("phone", {"type": "string", "format": "cn-mobile"}),
        ("email", {"type": "string", "format": "email"}),
        ("date", {"type": "string", "format": "date"}),
        ("time", {"type": "string", "format": "time"}),
        ("consent", {"type": "boolean", "const": True}),
    ],
)
def test_field_type_carries_its_schema_fragment(registry, key, fragment):
    assert dict(registry.field_types[key].schema) == fragment


def test_field_type_describes_what_a_merchant_may_set_as_a_json_schema(registry):
    config = registry.field_types["text"].config_schema()
    assert {"minLength", "maxLength", "pattern", "title", "x-person"} <= set(config["properties"])
    assert config["additionalProperties"] is False


def test_every_field_type_names_its_widget(registry):
    assert registry.field_types["location"].widget == "picker"
    assert all(field_type.widget for field_type in registry.field_types.values())


@pytest.mark.parametrize(
    ("field", "key"),
    [
        ({"type": "string", "format": "cn-id-card"}, "id_card"),
        ({"type": "string", "format": "date"}, "date"),
        ({"type": "string"}, "text"),
        ({"type": "integer", "minimum": 1}, "number"),
        ({"type": "string", "enum": ["a", "b"]}, "select"),
        ({"type": "boolean"}, "checkbox"),
        ({"type": "boolean", "const": True}, "consent"),
        ({"type": "array", "items": {"type": "string", "enum": ["a"]}}, "multiselect"),
        ({"type": "array", "items": {"type": "object", "properties": {}}}, "person_list"),
        ({"type": "object"}, None),
    ],
)
def test_field_without_x_field_gets_the_type_its_schema_implies(field, key):
    assert infer_field_type(field) == key
