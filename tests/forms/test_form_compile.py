"""Compiling a form: x-field becomes its type's schema, the merchant's constraints and conditions are kept."""

import copy

import pytest
from jsonschema import Draft202012Validator

from yuyue.errors import InvalidInput
from yuyue.forms.compiler import compile_form
from yuyue.plugins import make_plugin_host

VERTICAL_PLUGINS = ["activity", "course", "exhibition", "scenic", "vehicle"]

FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Scenic entry",
    "type": "object",
    "properties": {
        "visitor_type": {"x-field": "select", "x-options": [{"value": "individual", "label": "散客"}, {"value": "group", "label": "团队"}]},
        "name": {"x-field": "text", "x-person": "name", "minLength": 1, "maxLength": 40},
        "id_card": {"x-field": "id_card", "x-person": "id_number"},
        "mobile": {"x-field": "phone", "x-person": "phone"},
        "group_size": {"x-field": "number", "type": "integer", "minimum": 15, "maximum": 200},
        "group_leader": {"x-field": "text"},
        "companions": {
            "x-field": "person_list",
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {"name": {"x-field": "text", "x-person": "name"}, "id_number": {"x-field": "id_card", "x-person": "id_number"}},
                "required": ["name", "id_number"],
            },
        },
        "consent": {"x-field": "consent", "title": "I agree"},
    },
    "required": ["visitor_type", "name", "mobile", "consent"],
    "dependentRequired": {"group_leader": ["group_size"]},
    "if": {"properties": {"visitor_type": {"const": "group"}}, "required": ["visitor_type"]},
    "then": {"required": ["group_size"]},
    "else": {"properties": {"group_size": False, "group_leader": False}},
    "allOf": [{"if": {"properties": {"group_size": {"minimum": 50}}, "required": ["group_size"]}, "then": {"properties": {"companions": {"maxItems": 0}}}}],
}


def changed(path, value):
    form = copy.deepcopy(FORM)
    node = form
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return form


def problems(registry, form):
    with pytest.raises(InvalidInput) as caught:
        registry.compile(form)
    assert caught.value.code == "invalid_form"
    return [(p.pointer, p.code) for p in caught.value.errors]


@pytest.fixture(scope="module")
def compiled(registry):
    return registry.compile(FORM)


def test_compiled_form_is_a_valid_json_schema(compiled):
    Draft202012Validator.check_schema(compiled)


def test_x_field_expands_to_its_type_schema(compiled):
    assert compiled["properties"]["id_card"] == {"type": "string", "format": "cn-id-card", "x-field": "id_card", "x-person": "id_number"}


def test_the_merchants_own_constraints_are_kept(compiled):
    name = compiled["properties"]["name"]
    assert (name["type"], name["minLength"], name["maxLength"]) == ("string", 1, 40)
    assert compiled["properties"]["group_size"]["type"] == "integer"


def test_conditions_are_kept_as_written(compiled):
    for keyword in ("required", "dependentRequired", "if", "then", "else", "allOf"):
        assert compiled[keyword] == FORM[keyword]


def test_person_list_items_are_compiled_field_by_field(compiled):
    items = compiled["properties"]["companions"]["items"]
    assert items["properties"]["id_number"]["format"] == "cn-id-card"
    assert items["additionalProperties"] is False
    assert items["required"] == ["name", "id_number"]


def test_unknown_answers_are_refused_even_if_the_author_did_not_say_so(compiled):
    assert compiled["additionalProperties"] is False


def test_the_definition_is_not_changed(registry):
    form = copy.deepcopy(FORM)
    registry.compile(form)
    assert form == FORM


def test_form_outside_the_dialect_is_refused_with_every_pointer(registry):
    form = changed(["properties", "name", "placeholder"], "张三")
    form["properties"]["mobile"]["type"] = "null"
    found = problems(registry, form)
    assert {pointer for pointer, _ in found} == {"/properties/name/placeholder", "/properties/mobile/type"}
    assert {code for _, code in found} == {"not_in_dialect"}


def test_unknown_field_type_is_refused(registry):
    assert problems(registry, changed(["properties", "name", "x-field"], "plate")) == [("/properties/name/x-field", "unknown_field_type")]


def test_keyword_a_field_type_does_not_take_is_refused(registry):
    assert problems(registry, changed(["properties", "id_card", "maxLength"], 20)) == [("/properties/id_card/maxLength", "not_configurable")]


def test_keyword_that_contradicts_the_field_type_is_refused(registry):
    assert problems(registry, changed(["properties", "consent", "const"], False)) == [("/properties/consent/const", "conflicts_with_field_type")]


def test_repeating_the_field_types_own_keyword_is_fine(registry):
    registry.compile(changed(["properties", "id_card", "format"], "cn-id-card"))


def test_number_may_be_limited_to_whole_numbers_but_not_to_text(registry):
    assert problems(registry, changed(["properties", "group_size", "type"], "string")) == [("/properties/group_size/type", "not_configurable")]


def test_select_needs_its_options(registry):
    assert problems(registry, changed(["properties", "visitor_type"], {"x-field": "select"})) == [("/properties/visitor_type", "missing_config")]


def test_options_that_differ_from_the_allowed_values_are_refused(registry):
    form = changed(["properties", "visitor_type", "enum"], ["individual", "school"])
    assert problems(registry, form) == [("/properties/visitor_type/x-options", "options_mismatch")]


def test_default_that_is_not_a_valid_answer_is_refused(registry):
    assert problems(registry, changed(["properties", "group_size", "default"], 5)) == [("/properties/group_size/default", "invalid_default")]


def test_person_list_inside_a_person_list_is_refused(registry):
    inner = {"x-field": "person_list", "items": {"type": "object", "properties": {"name": {"x-field": "text"}}}}
    found = problems(registry, changed(["properties", "companions", "items", "properties", "children"], inner))
    assert found == [("/properties/companions/items/properties/children", "nested_record_list")]


def test_requirement_naming_no_field_is_refused(registry):
    form = changed(["required"], ["visitor_type", "nmae"])
    form["then"]["required"] = ["group_sise"]
    form["properties"]["companions"]["items"]["required"] = ["id_card"]
    assert sorted(problems(registry, form)) == [
        ("/properties/companions/items/required/0", "unknown_field"),
        ("/required/1", "unknown_field"),
        ("/then/required/0", "unknown_field"),
    ]


def test_condition_naming_no_field_is_refused(registry):
    form = changed(["allOf", 0, "then", "properties"], {"friends": {"maxItems": 0}})
    assert problems(registry, form) == [("/allOf/0/then/properties/friends", "unknown_field")]


def test_one_field_per_person_detail(registry):
    form = changed(["properties", "group_leader", "x-person"], "name")
    assert problems(registry, form) == [("/properties/group_leader/x-person", "duplicate_person_role")]


def test_person_detail_must_fit_its_field(registry):
    form = changed(["properties", "group_size", "x-person"], "birth_date")
    assert problems(registry, form) == [("/properties/group_size/x-person", "person_role_mismatch")]


def test_format_nobody_registered_is_refused_when_formats_are_known(registry):
    form = changed(["properties", "name", "format"], "uri")
    formats = {name: check for name, check in registry.formats.items() if name != "uri"}
    with pytest.raises(InvalidInput) as caught:
        compile_form(form, registry.field_types, formats=formats)
    assert [(p.pointer, p.code) for p in caught.value.errors] == [("/properties/name/format", "unknown_format")]


def test_all_problems_of_a_form_are_reported_together(registry):
    form = changed(["properties", "id_card", "maxLength"], 20)
    form["properties"]["name"]["x-field"] = "plate"
    form["required"].append("nmae")
    assert len(problems(registry, form)) == 3


@pytest.mark.parametrize("plugin", VERTICAL_PLUGINS)
def test_each_vertical_plugins_shipped_form_compiles(registry, plugin):
    vertical = make_plugin_host([plugin]).verticals[plugin]
    compiled = registry.compile(vertical.form_schema)
    Draft202012Validator.check_schema(compiled)
    assert all("x-field" in field for field in compiled["properties"].values())
