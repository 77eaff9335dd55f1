"""Customer API fixtures: a timed-entry booking type, customers Alice and Bob signed in, booking requests.

``tenants``, ``signed_in_customer`` and ``problem`` come from the root conftest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from customer_api_setup import ANSWERS, DESCRIPTION, FORM, NAME, UI, iso, windows
from flask.testing import FlaskClient
from tenant_setup import make_booking_type

from yuyue.provisioning.operations import get_tenant


@pytest.fixture
def make_type(session, tenants) -> Callable[..., Any]:
    """``make_type("entry", capacity=1, price_amount=500, tenant="tenant-b")``: a timed-entry type, 09:00-10:00 and 10:00-11:00, up to 4 people a booking."""

    def make(slug: str = "entry", *, tenant: str = "tenant-a", capacity: int = 20, rules=None, **options):
        return make_booking_type(
            session,
            get_tenant(session, tenant),
            slug,
            name=options.pop("name", NAME),
            description=options.pop("description", DESCRIPTION),
            rules=rules or windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=capacity),
            max_party_size=options.pop("max_party_size", 4),
            form=FORM,
            ui=UI,
            **options,
        )

    return make


@pytest.fixture
def entry(make_type):
    """Booking type ``entry`` of tenant-a: free, 20 places a slot, up to 4 people a booking."""
    return make_type()


@pytest.fixture
def alice(signed_in_customer) -> FlaskClient:
    return signed_in_customer(1)


@pytest.fixture
def bob(signed_in_customer) -> FlaskClient:
    return signed_in_customer(2)


@pytest.fixture
def booking_request() -> Callable[..., dict]:
    """``booking_request(hour=10, party_size=2)``: a valid POST bookings body for type ``entry``."""

    def make(hour: int = 9, **fields) -> dict:
        return {"booking_type": "entry", "starts_at": iso(hour), "answers": dict(ANSWERS), **fields}

    return make


@pytest.fixture
def book(booking_request) -> Callable[..., dict]:
    """``book(alice)`` or ``book(client, phone=…)``: POST bookings under tenant-a, asserting 201; returns the booking JSON."""

    def make(client: FlaskClient, tenant: str = "tenant-a", headers: dict | None = None, **fields) -> dict:
        response = client.post(f"/api/v1/t/{tenant}/bookings", json=booking_request(**fields), headers=headers or {})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make
