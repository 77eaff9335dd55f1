"""problems() and check_json_schema(): pointers, messages, ordering."""

from jsonschema import Draft202012Validator

import yuyue_schemas
from yuyue_schemas import Problem, _problems


def test_valid_instance_has_no_problems():
    assert yuyue_schemas.problems("localized-text", "预约") == []


def test_problem_at_root_has_empty_pointer():
    assert yuyue_schemas.problems("localized-text", "") == [Problem("", "'' should be non-empty", "minLength")]


def test_unknown_key_is_reported_at_the_key_itself():
    [problem] = yuyue_schemas.problems("localized-text", {"fr": "réserver"})
    assert problem.pointer == "/fr"
    assert problem.keyword == "additionalProperties"
    assert "'fr'" in problem.message and "zh-Hans" in problem.message


def test_each_unknown_key_gets_its_own_problem():
    found = yuyue_schemas.problems("ui-schema", {"order": [], "layout": {}, "css": ""})
    assert [p.pointer for p in found] == ["/css", "/layout"]


def test_unknown_key_under_unevaluated_properties_is_reported_at_the_key():
    checker = Draft202012Validator({"properties": {"a": True}, "allOf": [{"properties": {"b": True}}], "unevaluatedProperties": False})
    found = _problems(checker, {"a": 1, "b": 2, "c": 3, "d/e": 4})
    assert [(p.pointer, p.keyword) for p in found] == [
        ("/c", "unevaluatedProperties"),
        ("/d~1e", "unevaluatedProperties"),
    ]


def test_pointer_escapes_tilde_and_slash():
    found = yuyue_schemas.problems("ui-schema", {"fields": {"a": {"x~y": 1}}})
    assert [p.pointer for p in found] == ["/fields/a/x~0y"]


def test_bad_property_name_is_reported_at_the_name():
    [problem] = yuyue_schemas.problems("ui-schema", {"fields": {"Bad Name": {}}})
    assert problem.pointer == "/fields/Bad Name"
    assert "'Bad Name'" in problem.message


def test_problems_are_sorted_by_pointer_and_all_reported():
    found = yuyue_schemas.problems(
        "slot-rules/fixed_windows",
        {"windows": [{"start": "9:00", "end": "10:00", "capacity": 0}], "weekdays": ["monday"]},
    )
    pointers = [p.pointer for p in found]
    assert pointers == sorted(pointers)
    assert pointers == ["/weekdays/0", "/windows/0/capacity", "/windows/0/start"]


def test_one_of_reports_the_closest_branch():
    [problem] = yuyue_schemas.problems("localized-text", {"en": 3})
    assert problem.pointer == "/en"
    assert problem.keyword == "type"


def test_problem_is_a_frozen_value():
    problem = Problem("/a", "bad", "type")
    assert problem == Problem("/a", "bad", "type")
    assert hash(problem) == hash(Problem("/a", "bad", "type"))


def test_check_json_schema_accepts_a_settings_schema():
    settings = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"max_attendees": {"type": "integer", "minimum": 1, "default": 5}},
        "additionalProperties": False,
    }
    assert yuyue_schemas.check_json_schema(settings) == []


def test_check_json_schema_points_at_bad_keyword_values():
    found = yuyue_schemas.check_json_schema({"type": "object", "properties": {"a": {"type": "strin"}, "b": {"minimum": "1"}}})
    assert [p.pointer for p in found] == ["/properties/a/type", "/properties/b/minimum"]


def test_check_json_schema_refuses_a_broken_pattern():
    [problem] = yuyue_schemas.check_json_schema({"type": "string", "pattern": "("})
    assert problem.pointer == "/pattern"


def test_check_json_schema_refuses_other_drafts():
    [problem] = yuyue_schemas.check_json_schema({"$schema": "http://json-schema.org/draft-07/schema#"})
    assert problem.pointer == "/$schema"


def test_problems_against_validates_a_schema_given_as_data():
    from yuyue_schemas import problems_against

    schema = {"type": "object", "properties": {"seats": {"type": "integer", "minimum": 1}}, "additionalProperties": False}
    assert problems_against(schema, {"seats": 4}) == []
    found = problems_against(schema, {"seats": 0, "colour": "red"})
    assert [(p.pointer, p.keyword) for p in found] == [("/colour", "additionalProperties"), ("/seats", "minimum")]
