"""A NUL character anywhere in a merchant request is a 4xx: PostgreSQL cannot even compare text holding one."""

from __future__ import annotations

import pytest

ADMIN = "/api/v1/t/tenant-a/admin"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/bookings/a%00b"), ("GET", "/booking-types/a%00b"), ("POST", "/bookings/a%00b/cancel"), ("PATCH", "/resources/a%00b")],
)
def test_a_nul_in_a_path_is_not_found(manager, problem, method, path):
    problem(manager.open(ADMIN + path, method=method, json={} if method == "PATCH" else None), 404)


@pytest.mark.parametrize("query", ["q=a%00b", "booking_type=a%00b", "from=2026-01-01%00", "status=held%00"])
@pytest.mark.parametrize("path", ["/bookings", "/exports/bookings.csv"])
def test_a_nul_in_a_query_parameter_is_a_422(manager, problem, path, query):
    body = problem(manager.get(f"{ADMIN}{path}?{query}"), 422, "validation_failed")

    assert body["errors"][0]["pointer"] == "/" + query.split("=")[0]


@pytest.mark.parametrize(
    ("path", "body", "pointer"),
    [
        ("/resources", {"kind": "co\u0000ach", "code": "c2", "name": "Li"}, "/kind"),
        ("/resources", {"kind": "coach", "code": "c2", "name": {"en": "L\u0000i"}}, "/name/en"),
        ("/check-ins", {"code": "AB\u0000C"}, "/code"),
        ("/check-ins", {"code": "ABC", "place": "gate\u0000"}, "/place"),
        ("/booking-types", {"vertical": "exhibition", "slug": "x", "name": "N", "policies": {"\u0000": 1}}, "/policies/\u0000"),
    ],
)
def test_a_nul_in_a_body_is_a_422_pointing_at_it(manager, problem, path, body, pointer):
    errors = problem(manager.post(ADMIN + path, json=body), 422, "validation_failed")["errors"]

    assert pointer in {e["pointer"] for e in errors}
