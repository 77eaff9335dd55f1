"""A field shown only for one answer of another (``x-show-if``): required only while shown, dropped while hidden."""

import pytest

import yuyue_schemas
from yuyue.errors import InvalidInput
from yuyue.forms.validation import shown_fields

FORM = {
    "type": "object",
    "properties": {
        "visitor_type": {"x-field": "select", "x-options": [{"value": "adult", "label": "成人"}, {"value": "student", "label": "学生"}]},
        "name": {"x-field": "text", "minLength": 1},
        "school": {"x-field": "text", "minLength": 2, "x-show-if": {"field": "visitor_type", "enum": ["student"]}},
        "grade": {"x-field": "number", "type": "integer", "minimum": 1, "maximum": 12, "x-show-if": {"field": "school", "enum": ["一中", "二中"]}},
    },
    "required": ["visitor_type", "name", "school", "grade"],
}


def _problems(registry, answers) -> dict[str, str]:
    with pytest.raises(InvalidInput) as raised:
        registry.validate(registry.compile(FORM), answers)
    return {problem.pointer: problem.code for problem in raised.value.errors}


def test_the_dialect_accepts_a_show_if_and_refuses_a_malformed_one():
    assert yuyue_schemas.problems("form-dialect", FORM) == []
    broken = {**FORM, "properties": {**FORM["properties"], "school": {"x-field": "text", "x-show-if": {"field": "visitor_type"}}}}
    assert [p.pointer for p in yuyue_schemas.problems("form-dialect", broken)] == ["/properties/school/x-show-if/enum"]


def test_a_shown_field_is_required(registry):
    assert _problems(registry, {"visitor_type": "student", "name": "Li"}) == {"/school": "required"}


def test_a_hidden_field_is_not_required(registry):
    answers = registry.validate(registry.compile(FORM), {"visitor_type": "adult", "name": "Li"})
    assert dict(answers) == {"visitor_type": "adult", "name": "Li"}


def test_a_hidden_fields_answer_is_dropped_not_checked(registry):
    answers = registry.validate(registry.compile(FORM), {"visitor_type": "adult", "name": "Li", "school": "x", "grade": 99})
    assert dict(answers) == {"visitor_type": "adult", "name": "Li"}


def test_a_shown_fields_answer_is_checked(registry):
    assert _problems(registry, {"visitor_type": "student", "name": "Li", "school": "x"}) == {"/school": "min_length"}


def test_a_field_shown_for_a_hidden_field_is_hidden_too(registry):
    fields = registry.compile(FORM)["properties"]
    assert shown_fields(fields, {"visitor_type": "adult", "school": "一中"}) == {"visitor_type", "name"}
    assert shown_fields(fields, {"visitor_type": "student", "school": "一中"}) == {"visitor_type", "name", "school", "grade"}
    answers = registry.validate(registry.compile(FORM), {"visitor_type": "student", "name": "Li", "school": "三中"})
    assert dict(answers) == {"visitor_type": "student", "name": "Li", "school": "三中"}


def test_the_end_of_a_chain_is_required_when_every_link_shows_it(registry):
    assert _problems(registry, {"visitor_type": "student", "name": "Li", "school": "一中"}) == {"/grade": "required"}


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ({"field": "school", "enum": ["x"]}, "show_if_cycle"),
        ({"field": "nowhere", "enum": ["x"]}, "unknown_field"),
        ({"field": "interests", "enum": ["tea"]}, "show_if_not_single"),
    ],
)
def test_a_show_if_must_follow_another_single_answer(registry, condition, code):
    form = {
        "type": "object",
        "properties": {
            "school": {"x-field": "text", "x-show-if": condition},
            "interests": {"x-field": "multiselect", "x-options": [{"value": "tea", "label": "茶"}]},
        },
    }
    with pytest.raises(InvalidInput) as raised:
        registry.compile(form)
    assert [(p.pointer, p.code) for p in raised.value.errors] == [("/properties/school/x-show-if/field", code)]


def test_two_fields_shown_for_each_other_are_refused(registry):
    form = {
        "type": "object",
        "properties": {
            "a": {"x-field": "text", "x-show-if": {"field": "b", "enum": ["x"]}},
            "b": {"x-field": "text", "x-show-if": {"field": "a", "enum": ["x"]}},
        },
    }
    with pytest.raises(InvalidInput) as raised:
        registry.compile(form)
    assert {p.code for p in raised.value.errors} == {"show_if_cycle"}


def test_a_persons_field_cannot_be_shown_for_an_answer(registry):
    form = {
        "type": "object",
        "properties": {
            "kind": {"x-field": "select", "x-options": [{"value": "a", "label": "A"}]},
            "people": {
                "x-field": "person_list",
                "items": {"type": "object", "properties": {"name": {"x-field": "text", "x-show-if": {"field": "kind", "enum": ["a"]}}}},
            },
        },
    }
    with pytest.raises(InvalidInput) as raised:
        registry.compile(form)
    assert [p.code for p in raised.value.errors] == ["nested_show_if"]


def test_a_yes_no_field_can_show_another(registry):
    form = {
        "type": "object",
        "properties": {"bring_car": {"x-field": "checkbox"}, "plate": {"x-field": "text", "x-show-if": {"field": "bring_car", "enum": [True]}}},
        "required": ["plate"],
    }
    compiled = registry.compile(form)
    assert dict(registry.validate(compiled, {"bring_car": False, "plate": "x"})) == {"bring_car": False}
    with pytest.raises(InvalidInput):
        registry.validate(compiled, {"bring_car": True})
