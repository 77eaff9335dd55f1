"""Tenant isolation of the customer API: every route that names an id answers 404 for another tenant's ids.

The routes come from the application's URL map, so a new customer route with an id is covered without editing this test.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from customer_api_setup import id_number, iso, phone

A, B = "/api/v1/t/tenant-a", "/api/v1/t/tenant-b"
ID_BODIES = {"reschedule": {"starts_at": iso(10)}, "cancel": {}}
QUERIES = {"availability": "?from=2026-01-01&to=2026-01-02"}


@pytest.fixture
def b_ids(make_type, signed_in_customer, book) -> dict[str, str]:
    """A booking type, a booking, a waitlist entry and a companion of tenant-b, all belonging to tenant-b customers."""
    make_type(tenant="tenant-b", capacity=1)
    make_type("b-only", tenant="tenant-b")
    dora = signed_in_customer(4, tenant="tenant-b")
    eve = signed_in_customer(5, tenant="tenant-b")
    booking = book(dora, tenant="tenant-b")
    entry = eve.post(f"{B}/waitlist", json={"booking_type": "entry", "starts_at": iso(9), "answers": {"name": "Eve"}}).get_json()
    companion = eve.post(f"{B}/me/companions", json={"name": "Eve Jr", "id_number": id_number(date(2010, 5, 1), 42)}).get_json()
    return {"slug": "b-only", "public_id": booking["id"], "entry_id": str(entry["id"]), "companion_id": str(companion["id"])}


def customer_routes_with_ids(app) -> list[tuple[str, str]]:
    return sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api_tenant.customer_") and rule.arguments - {"tenant_slug"}
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_the_isolation_matrix_covers_every_customer_route_with_an_id(app):
    assert len(customer_routes_with_ids(app)) == 8


def test_tenant_b_ids_under_tenant_a_answer_404(app, make_type, signed_in_customer, b_ids, problem):
    make_type(tenant="tenant-a")
    alice = signed_in_customer(1)
    for rule, method in customer_routes_with_ids(app):
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda m: "tenant-a" if m.group(1) == "tenant_slug" else b_ids[m.group(1)], rule)
        body = next((b for suffix, b in ID_BODIES.items() if path.endswith(suffix)), None)
        query = next((q for suffix, q in QUERIES.items() if path.endswith(suffix)), "")
        problem(alice.open(path + query, method=method, json=body), 404)


def test_tenant_b_ids_under_tenant_b_with_tenant_a_token_are_refused(make_type, signed_in_customer, b_ids, problem):
    alice = signed_in_customer(1)

    problem(alice.get(f"{B}/bookings/{b_ids['public_id']}"), 401, "invalid_token")


def test_a_guest_token_of_tenant_b_opens_nothing_under_tenant_a(client, make_type, book, problem):
    make_type(tenant="tenant-a")
    make_type(tenant="tenant-b")
    theirs = book(client, tenant="tenant-b", phone=phone(21))

    problem(client.get(f"{A}/bookings/{theirs['id']}", headers={"X-Booking-Token": theirs["booking_token"]}), 404, "booking_not_found")
    assert client.get(f"{B}/bookings/{theirs['id']}", headers={"X-Booking-Token": theirs["booking_token"]}).status_code == 200


def test_tenant_b_booking_types_are_not_listed_under_tenant_a(client, make_type, problem):
    make_type("b-only", tenant="tenant-b")

    assert client.get(f"{A}/booking-types").get_json()["booking_types"] == []
    problem(client.get(f"{A}/booking-types/b-only"), 404)
    problem(client.get(f"{A}/booking-types/b-only/availability?from=2026-01-01&to=2026-01-02"), 404)
