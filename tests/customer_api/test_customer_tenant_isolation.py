"""Tenant isolation of the customer API beyond the route matrix (tests/api/test_tenant_isolation_matrix.py).

The matrix calls every customer route with an id under tenant A with tenant A's
customer token; these cover a guest's booking token and an anonymous caller's list.
"""

from __future__ import annotations

from customer_api_setup import phone

A, B = "/api/v1/t/tenant-a", "/api/v1/t/tenant-b"


def test_a_guest_token_of_tenant_b_opens_nothing_under_tenant_a(client, make_type, book, problem):
    make_type(tenant="tenant-a")
    make_type(tenant="tenant-b")
    theirs = book(client, tenant="tenant-b", phone=phone(21))

    problem(client.get(f"{A}/bookings/{theirs['id']}", headers={"X-Booking-Token": theirs["booking_token"]}), 404, "booking_not_found")
    assert client.get(f"{B}/bookings/{theirs['id']}", headers={"X-Booking-Token": theirs["booking_token"]}).status_code == 200


def test_a_guest_token_of_tenant_b_pays_for_nothing_under_tenant_a(client, make_type, book, problem):
    make_type(tenant="tenant-a", price_amount=3000, hold_minutes=15)
    make_type(tenant="tenant-b", price_amount=3000, hold_minutes=15)
    theirs = book(client, tenant="tenant-b", phone=phone(22))
    token = {"X-Booking-Token": theirs["booking_token"]}

    problem(client.post(f"{A}/bookings/{theirs['id']}/pay", headers=token), 404, "booking_not_found")
    assert client.post(f"{B}/bookings/{theirs['id']}/pay", headers=token).status_code == 200


def test_tenant_b_booking_types_are_not_listed_under_tenant_a(client, make_type):
    make_type("b-only", tenant="tenant-b")

    assert client.get(f"{A}/booking-types").get_json()["booking_types"] == []
