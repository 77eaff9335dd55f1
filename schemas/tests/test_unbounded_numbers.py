"""unbounded_numbers(): where a schema admits a number without bounds an integer column holds."""

import pytest

from yuyue_schemas import MAX_INTEGER, unbounded_numbers


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "minimum": 0, "maximum": 10},
        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 2},
        {"type": ["integer", "null"], "minimum": -MAX_INTEGER, "maximum": MAX_INTEGER},
        {"type": "integer", "enum": [1, 2**40]},
        {"type": "integer", "const": 3},
        {"type": "string"},
    ],
)
def test_a_bounded_number_or_no_number_is_fine(schema):
    assert unbounded_numbers(schema) == []


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer"},
        {"type": "integer", "minimum": 1},
        {"type": "number", "maximum": 5},
        {"type": ["string", "number"], "maxLength": 3},
        {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER + 1},
        {"type": "integer", "minimum": -(2**63), "maximum": 0},
    ],
)
def test_a_number_without_both_bounds_inside_the_column_range_is_reported_at_the_root(schema):
    assert unbounded_numbers(schema) == [""]


def test_numbers_are_found_in_every_kind_of_subschema():
    loose = {"type": "integer"}
    schema = {
        "type": "object",
        "properties": {"a/b": loose},
        "additionalProperties": loose,
        "items": loose,
        "prefixItems": [{"type": "string"}, loose],
        "anyOf": [loose],
        "if": loose,
        "then": loose,
        "dependentSchemas": {"x": loose},
        "$defs": {"d": loose},
    }
    assert sorted(unbounded_numbers(schema)) == sorted(
        ["/properties/a~1b", "/additionalProperties", "/items", "/prefixItems/1", "/anyOf/0", "/if", "/then", "/dependentSchemas/x", "/$defs/d"]
    )


def test_references_are_followed_once_even_when_they_recurse():
    schema = {"$defs": {"node": {"type": "object", "properties": {"n": {"type": "integer"}, "next": {"$ref": "#/$defs/node"}}}}, "$ref": "#/$defs/node"}
    assert unbounded_numbers(schema) == ["/$ref/properties/n", "/$defs/node/properties/n"]


def test_references_into_a_surrounding_document_and_into_the_shared_schemas_are_followed():
    document = {"components": {"schemas": {"Count": {"type": "integer"}}}}
    assert unbounded_numbers({"$ref": "#/components/schemas/Count"}, document=document) == ["/$ref"]
    assert unbounded_numbers({"$ref": "https://schemas.yuyue.dev/v1/policies.json"}) == []
