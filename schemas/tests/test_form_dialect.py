"""form-dialect: the restricted JSON Schema a booking form may use."""

import copy

import pytest
from jsonschema import Draft202012Validator

import yuyue_schemas

FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.com/forms/scenic.json",
    "title": "Scenic entry",
    "type": "object",
    "properties": {
        "visitor_type": {
            "type": "string",
            "x-field": "select",
            "enum": ["individual", "group"],
            "default": "individual",
            "x-options": [
                {"value": "individual", "label": {"zh-Hans": "散客", "en": "Individual"}},
                {"value": "group", "label": {"zh-Hans": "团队", "en": "Group"}},
            ],
        },
        "name": {"type": "string", "x-field": "text", "x-person": "name", "minLength": 1, "maxLength": 40},
        "id_card": {"type": "string", "format": "cn-id-card", "x-field": "id_card", "x-person": "id_number"},
        "mobile": {"type": "string", "format": "cn-mobile", "x-field": "phone"},
        "birthday": {"type": "string", "format": "date"},
        "group_size": {"type": "integer", "minimum": 15, "maximum": 200, "multipleOf": 1},
        "group_leader": {"x-field": "text"},
        "interests": {
            "type": "array",
            "x-field": "multiselect",
            "items": {"type": "string", "enum": ["tea", "hiking"]},
            "uniqueItems": True,
            "maxItems": 2,
        },
        "companions": {
            "type": "array",
            "x-field": "person_list",
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "x-field": "text", "x-person": "name"},
                    "id_card": {"type": "string", "format": "cn-id-card", "x-field": "id_card", "x-person": "id_number"},
                },
                "required": ["name", "id_card"],
                "additionalProperties": False,
            },
        },
        "consent": {"type": "boolean", "const": True, "x-field": "consent", "title": "I agree"},
    },
    "required": ["visitor_type", "name", "mobile", "consent"],
    "additionalProperties": False,
    "dependentRequired": {"group_leader": ["group_size"]},
    "if": {"properties": {"visitor_type": {"const": "group"}}, "required": ["visitor_type"]},
    "then": {"required": ["group_size", "group_leader"]},
    "else": {"properties": {"group_size": False, "group_leader": False}},
    "allOf": [
        {
            "if": {"properties": {"group_size": {"minimum": 50}}, "required": ["group_size"]},
            "then": {"properties": {"companions": {"maxItems": 0}}, "dependentRequired": {"name": ["id_card"]}},
        }
    ],
}


def changed(path, value):
    form = copy.deepcopy(FORM)
    node = form
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return form


def removed(path):
    form = copy.deepcopy(FORM)
    node = form
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return form


def pointers(form):
    return [p.pointer for p in yuyue_schemas.problems("form-dialect", form)]


def test_form_using_every_feature_is_accepted():
    assert yuyue_schemas.problems("form-dialect", FORM) == []


def test_accepted_form_is_itself_a_working_json_schema():
    Draft202012Validator.check_schema(FORM)
    form_validator = Draft202012Validator(FORM)
    assert form_validator.is_valid({"visitor_type": "individual", "name": "张三", "mobile": "13800138000", "consent": True})
    assert not form_validator.is_valid({"visitor_type": "group", "name": "张三", "mobile": "13800138000", "consent": True})


def test_smallest_form_is_accepted():
    assert pointers({"type": "object", "properties": {}}) == []


def test_unknown_keyword_in_a_field_is_refused_at_the_keyword():
    [problem] = yuyue_schemas.problems("form-dialect", changed(["properties", "name", "placeholder"], "张三"))
    assert problem.pointer == "/properties/name/placeholder"
    assert problem.keyword == "additionalProperties"
    assert "'placeholder'" in problem.message


def test_unknown_keyword_in_a_person_list_item_field_is_refused_at_the_keyword():
    form = changed(["properties", "companions", "items", "properties", "name", "oneOf"], [])
    assert pointers(form) == ["/properties/companions/items/properties/name/oneOf"]


def test_ref_is_refused():
    assert pointers(changed(["properties", "name", "$ref"], "#/$defs/name")) == ["/properties/name/$ref"]


def test_defs_at_top_level_is_refused():
    assert pointers(changed(["$defs"], {})) == ["/$defs"]


def test_field_needs_type_or_x_field():
    # Without x-field, type is required: reported at the key that is missing.
    assert pointers(changed(["properties", "name"], {"title": "Name"})) == ["/properties/name/type"]


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("type", "null"),
        ("type", ["string", "null"]),
        ("format", "ipv4"),
        ("pattern", "("),
        ("minLength", -1),
        ("multipleOf", 0),
        ("enum", []),
        ("x-field", "Text"),
        ("x-person", "nickname"),
        ("x-person", ["name"]),
        ("x-options", [{"value": "a"}]),
        ("title", {"en": "Name"}),
    ],
)
def test_bad_keyword_value_is_refused_under_the_keyword(keyword, value):
    found = pointers(changed(["properties", "name", keyword], value))
    assert found and all(p.startswith(f"/properties/name/{keyword}") for p in found)


def test_person_list_keywords_need_an_object_field():
    found = pointers(changed(["properties", "name", "properties"], {}))
    assert found == ["/properties/name/type"]


def test_array_keywords_need_an_array_field():
    assert pointers(changed(["properties", "name", "maxItems"], 3)) == ["/properties/name/type"]


@pytest.mark.parametrize("name", ["Name", "1st", "full-name", "x" * 64])
def test_bad_field_name_is_refused_at_the_name(name):
    assert pointers(changed(["properties", name], {"type": "string"})) == [f"/properties/{name}"]


def test_additional_properties_true_is_refused():
    assert pointers(changed(["additionalProperties"], True)) == ["/additionalProperties"]


def test_form_must_be_an_object_schema():
    assert pointers(changed(["type"], "array")) == ["/type"]


def test_required_must_name_fields():
    assert pointers(changed(["required"], ["Name"])) == ["/required/0"]


def test_then_without_if_is_refused():
    found = yuyue_schemas.problems("form-dialect", removed(["if"]))
    assert [(p.pointer, p.keyword) for p in found] == [("", "dependentRequired")] * 2


def test_unknown_keyword_in_a_condition_is_refused():
    form = changed(["if", "properties", "visitor_type", "not"], {"const": "group"})
    assert pointers(form) == ["/if/properties/visitor_type/not"]


def test_true_predicate_is_refused():
    assert pointers(changed(["else", "properties", "group_size"], True)) == ["/else/properties/group_size"]


def test_all_of_holds_only_conditional_blocks():
    found = yuyue_schemas.problems("form-dialect", changed(["allOf"], [{"required": ["name"]}]))
    assert ("/allOf/0/required", "additionalProperties") in [(p.pointer, p.keyword) for p in found]
    assert ("/allOf/0/if", "required") in [(p.pointer, p.keyword) for p in found]


def test_dependent_required_values_are_field_names():
    assert pointers(changed(["dependentRequired"], {"group_leader": "group_size"})) == ["/dependentRequired/group_leader"]
