"""Tenant isolation of the merchant API, generated from the URL map: tenant B's ids under tenant A's token are never found.

Every ``admin/`` route is called with each of its methods, its path parameters
filled with tenant B's booking-type slug, resource code or booking id, and a
manager token of tenant A. Routes with parameters must answer 404; routes
without must answer without any of tenant B's identifiers in the body.
"""

from __future__ import annotations

import re

import pytest
from merchant_setup import at

ADMIN_PREFIX = "/api/v1/t/<tenant_slug>/admin/"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
# Path parameters that name something of the application, not of a tenant: a login provider's key.
# What a tenant stores under one is isolated by tests/auth/test_login_settings_api.py.
APPLICATION_PARAMETERS = {"provider"}


def admin_routes(app) -> list[tuple[str, str]]:
    return sorted((rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith(ADMIN_PREFIX) for method in rule.methods - SKIPPED_METHODS)


@pytest.fixture
def tenant_b_rows(make_type, make_coach, book):
    """Tenant B's booking type, resource and booking, with identifiers that tenant A does not have."""
    make_type("tenant-b", "b-only-tour")
    coach = make_coach("tenant-b", "b-only-coach")
    booking = book("tenant-b", at(9), "13900000009", name="B Customer", booking_type="b-only-tour")
    return {"slug": "b-only-tour", "code": coach.code, "public_id": booking.public_id, "voucher": booking.voucher_code}


def test_the_matrix_covers_every_admin_route(app):
    assert len({rule for rule, _ in admin_routes(app)}) >= 12


def test_tenant_b_ids_under_tenant_a_are_not_found(app, manager, make_type, tenant_b_rows, problem):
    make_type("tenant-a", "entry")
    checked = []
    for rule, method in admin_routes(app):
        names = re.findall(r"<(?:[^<>:]+:)?([^<>]+)>", rule.removeprefix("/api/v1/t/<tenant_slug>"))
        if not names or set(names) <= APPLICATION_PARAMETERS:
            continue
        assert set(names) <= tenant_b_rows.keys(), f"{rule}: add its parameters to the isolation matrix"
        path = rule.replace("<tenant_slug>", "tenant-a")
        for name in names:
            path = re.sub(rf"<(?:[^<>:]+:)?{name}>", tenant_b_rows[name], path)
        response = manager.open(path, method=method, json={} if method in {"POST", "PATCH", "PUT"} else None)
        problem(response, 404)
        checked.append((method, rule))
    assert len(checked) >= 7


def test_tenant_a_lists_and_exports_show_nothing_of_tenant_b(app, manager, tenant_b_rows):
    for rule, method in admin_routes(app):
        if method != "GET" or "<" in rule.removeprefix("/api/v1/t/<tenant_slug>"):
            continue
        response = manager.get(rule.replace("<tenant_slug>", "tenant-a"))
        assert response.status_code == 200, rule
        data = response.get_data()
        for value in ("b-only-tour", "b-only-coach", tenant_b_rows["public_id"], tenant_b_rows["voucher"], "13900000009"):
            assert value.encode() not in data, (rule, value)


def test_tenant_b_voucher_code_cannot_be_checked_in_under_tenant_a(manager, tenant_b_rows, problem):
    problem(manager.post("/api/v1/t/tenant-a/admin/check-ins", json={"code": tenant_b_rows["voucher"]}), 404, "voucher_not_found")


def test_tenant_b_filters_find_nothing_under_tenant_a(manager, tenant_b_rows):
    for query in ({"booking_type": "b-only-tour"}, {"q": "13900000009"}, {"q": tenant_b_rows["voucher"]}, {"q": "B Customer"}):
        assert manager.get("/api/v1/t/tenant-a/admin/bookings", query_string=query).get_json()["bookings"] == [], query
