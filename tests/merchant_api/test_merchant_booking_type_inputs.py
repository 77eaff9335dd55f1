"""Bad input to ``POST admin/booking-types``, field by field: always a 4xx problem pointing at the field, never a 500."""

from __future__ import annotations

import json

import pytest

TYPES = "/api/v1/t/tenant-a/admin/booking-types"
VALID = {"vertical": "exhibition", "slug": "entry", "name": {"en": "Entry"}}

# (field, bad value, status, pointer the first error starts with)
BAD_FIELDS = [
    ("vertical", 7, 422, "/vertical"),
    ("vertical", "", 422, "/vertical"),
    ("vertical", None, 422, "/vertical"),
    ("slug", "Has Spaces", 422, "/slug"),
    ("slug", "-leading", 422, "/slug"),
    ("slug", "x" * 41, 422, "/slug"),
    ("slug", 12, 422, "/slug"),
    ("name", 12, 422, "/name"),
    ("name", "", 422, "/name"),
    ("name", {}, 422, "/name"),
    ("name", {"fr": "Entrée"}, 422, "/name"),
    ("name", {"en": 5}, 422, "/name"),
    ("name", "x" * 201, 422, "/name"),
    ("name", {"en": "x" * 201}, 422, "/name/en"),
    ("description", 5, 422, "/description"),
    ("description", {"en": ""}, 422, "/description"),
    ("description", "x" * 4001, 422, "/description"),
    ("availability_rules", {}, 422, "/availability_rules"),
    ("availability_rules", ["weekly"], 422, "/availability_rules/0"),
    ("availability_rules", [{"type": "moon_phases", "params": {}}], 422, "/availability_rules/0"),
    ("availability_rules", [{"type": "fixed_windows", "params": {"windows": []}}], 422, "/availability_rules/0"),
    (
        "availability_rules",
        [{"type": "fixed_windows", "params": {"windows": [{"start": "25:00", "end": "26:00", "capacity": 1}]}}],
        422,
        "/availability_rules/0",
    ),
    (
        "availability_rules",
        [{"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "10:00", "capacity": -1}]}}],
        422,
        "/availability_rules/0",
    ),
    ("policies", [], 422, "/policies"),
    ("policies", {"no_such_policy": True}, 422, "/policies"),
    ("resource_requirements", {}, 422, "/resource_requirements"),
    ("resource_requirements", [{"count": 1}], 422, "/resource_requirements/0"),
    ("resource_requirements", [{"kind": "coach", "per": "week"}], 422, "/resource_requirements/0/per"),
    ("resource_requirements", [{"kind": "coach", "count": 0}], 422, "/resource_requirements/0/count"),
    ("resource_requirements", [{"kind": "coach", "resource_ids": [999999]}], 422, "/resource_requirements/0/resource_ids/0"),
    ("resource_requirements", [{"kind": "coach", "resource_ids": [10**30]}], 422, "/resource_requirements/0/resource_ids/0"),
    ("price_amount", -1, 422, "/price_amount"),
    ("price_amount", 1.5, 422, "/price_amount"),
    ("price_amount", "100", 422, "/price_amount"),
    ("price_amount", True, 422, "/price_amount"),
    ("price_amount", 10**30, 422, "/price_amount"),
    ("currency", "cny", 422, "/currency"),
    ("currency", "YUAN", 422, "/currency"),
    ("hold_minutes", -5, 422, "/hold_minutes"),
    ("hold_minutes", 10**9, 422, "/hold_minutes"),
    ("max_party_size", 0, 422, "/max_party_size"),
    ("max_party_size", 1001, 422, "/max_party_size"),
    ("max_party_size", "2", 422, "/max_party_size"),
    ("form", "a form", 422, "/form"),
    ("form", {"type": "object", "properties": {"x": {"type": "string", "x-field": "no-such-type"}}}, 422, "/form/properties/x"),
    ("form", {"type": "object", "properties": {"x": {"type": "string", "x-field": "text", "minLength": "one"}}}, 422, "/form"),
    ("ui", [], 422, "/ui"),
    ("ui", {"order": ["no_such_field"]}, 422, "/ui"),
    ("surprise", 1, 422, "/surprise"),
]


@pytest.mark.parametrize(("field", "value", "status", "pointer"), BAD_FIELDS, ids=[f"{f}={v!r}"[:60] for f, v, _, _ in BAD_FIELDS])
def test_bad_field_is_refused_with_a_pointer_to_it(manager, problem, field, value, status, pointer):
    body = problem(manager.post(TYPES, json={**VALID, field: value}), status)

    assert body["errors"], body
    assert any(e["pointer"].startswith(pointer) for e in body["errors"]), body["errors"]
    assert manager.get(TYPES).get_json()["booking_types"] == []


@pytest.mark.parametrize("missing", ["vertical", "slug", "name"])
def test_a_missing_required_field_is_pointed_at(manager, problem, missing):
    body = problem(manager.post(TYPES, json={k: v for k, v in VALID.items() if k != missing}), 422, "validation_failed")

    assert [e["pointer"] for e in body["errors"]] == [f"/{missing}"]


@pytest.mark.parametrize("payload", [b"{", b"[1, 2", b"\xff\xfe", b"{'single': 'quotes'}"])
def test_malformed_json_is_a_400(manager, problem, payload):
    problem(manager.post(TYPES, data=payload, content_type="application/json"), 400, "malformed_json")


@pytest.mark.parametrize("payload", [b"[]", b'"entry"', b"5", b"null"])
def test_a_body_that_is_not_an_object_is_a_422(manager, problem, payload):
    problem(manager.post(TYPES, data=payload, content_type="application/json"), 422, "validation_failed")


def test_every_problem_is_reported_at_once(manager, problem):
    body = problem(manager.post(TYPES, json={**VALID, "slug": "Bad Slug", "price_amount": -1, "max_party_size": 0}), 422)

    assert {"/slug", "/price_amount", "/max_party_size"} <= {e["pointer"] for e in body["errors"]}


def test_the_valid_body_of_the_matrix_is_accepted(manager):
    assert manager.post(TYPES, json=VALID).status_code == 201


def test_a_form_of_ones_own_without_a_ui_is_shown_in_its_own_order(manager):
    form = {"type": "object", "properties": {"team": {"type": "string", "x-field": "text"}, "size": {"type": "integer", "x-field": "number"}}}

    # Sent as written: the test client's json= would sort the keys.
    body = manager.post(TYPES, data=json.dumps({**VALID, "form": form}), content_type="application/json").get_json()

    assert body["form"]["definition"] == form and body["form"]["ui"] == {"order": ["team", "size"], "fields": {}}
