"""Every shipped schema is a valid 2020-12 schema, named by its $id, and resolvable offline."""

import jsonschema
import pytest
import referencing.exceptions

import yuyue_schemas

NAMES = [
    "localized-text",
    "vertical",
    "policies",
    "form-dialect",
    "ui-schema",
    "slot-rule",
    "slot-rules/weekly_hours",
    "slot-rules/fixed_windows",
    "slot-rules/special_hours",
    "slot-rules/closed_dates",
    "slot-rules/holiday_throttle",
    "slot-rules/booking_window",
    "slot-rules/daily_cap",
]


@pytest.mark.parametrize("name", NAMES)
def test_schema_id_is_base_uri_plus_name(name):
    assert yuyue_schemas.schema(name)["$id"] == f"{yuyue_schemas.BASE_URI}{name}.json"


@pytest.mark.parametrize("name", NAMES)
def test_schema_declares_draft_2020_12(name):
    assert yuyue_schemas.schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_a_valid_2020_12_schema(name):
    jsonschema.Draft202012Validator.check_schema(yuyue_schemas.schema(name))
    assert yuyue_schemas.check_json_schema(yuyue_schemas.schema(name)) == []


@pytest.mark.parametrize("name", NAMES)
def test_every_reference_resolves_through_the_registry(name):
    resolver = yuyue_schemas.registry().resolver()
    for ref in _refs(yuyue_schemas.schema(name)):
        base = yuyue_schemas.schema(name)["$id"]
        resolver.lookup(ref if "://" in ref else _join(base, ref))


def test_shipped_schemas_are_exactly_the_known_ones():
    ids = {uri for uri in yuyue_schemas.registry() if uri.startswith(yuyue_schemas.BASE_URI)}
    assert ids == {f"{yuyue_schemas.BASE_URI}{name}.json" for name in NAMES}


def test_unknown_schema_name_raises_key_error():
    with pytest.raises(KeyError):
        yuyue_schemas.schema("no-such-schema")
    with pytest.raises(KeyError):
        yuyue_schemas.problems("no-such-schema", {})


def test_schema_returns_a_copy_so_callers_cannot_change_validation():
    yuyue_schemas.schema("localized-text")["oneOf"].clear()
    assert yuyue_schemas.problems("localized-text", 42) != []


def test_registry_does_not_fetch_unknown_uris():
    with pytest.raises(referencing.exceptions.Unresolvable):
        yuyue_schemas.registry().resolver().lookup("https://example.com/elsewhere.json")


def test_validator_checks_formats():
    assert not yuyue_schemas.validator("slot-rules/closed_dates").is_valid({"dates": ["2025-02-30"]})


def test_slot_rule_types_maps_builtin_keys_to_params_schemas():
    types = yuyue_schemas.slot_rule_types()
    assert sorted(types) == [
        "booking_window",
        "closed_dates",
        "daily_cap",
        "fixed_windows",
        "holiday_throttle",
        "special_hours",
        "weekly_hours",
    ]
    assert types["weekly_hours"] == yuyue_schemas.schema("slot-rules/weekly_hours")


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _join(base, ref):
    from urllib.parse import urljoin

    return urljoin(base, ref)
