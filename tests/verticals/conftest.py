"""Vertical settings fixtures: every vertical plugin enabled for tenant-a and tenant-b through the operator API,
settings set for tenant-a the same way, booking types made from each vertical's own form and default policies.

``tenants``, ``operator``, ``signed_in_customer``, ``staff_client`` and ``problem`` come from the root conftest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from tenant_setup import make_booking_type, windows
from verticals_setup import CONFIGURED, DEFAULTS, VERTICAL_PLUGINS, post_booking
from werkzeug.test import TestResponse

from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import get_tenant


@pytest.fixture
def set_settings(tenants, operator) -> Callable[..., None]:
    """``set_settings("vehicle", max_seats_per_order=2)``: the operator's PUT of tenant-a's plugins, with these settings for one.

    Both tenants start with every vertical plugin enabled and no settings.
    """

    def put(plugin: str | None, tenant: str = CONFIGURED, **settings: Any) -> None:
        body = {"plugins": {name: settings if name == plugin else {} for name in VERTICAL_PLUGINS}}
        response = operator.put(f"/api/v1/operator/tenants/{tenant}/plugins", json=body)
        assert response.status_code == 200, response.get_json()

    for slug in (CONFIGURED, DEFAULTS):
        put(None, slug)
    return put


@pytest.fixture
def offer(session, set_settings) -> Callable[..., object]:
    """``offer("course")``: booking type ``course`` for both tenants, from the vertical's form and default policies.

    Windows 09:00-10:00, 10:00-11:00 and 11:00-12:00 every day with 20 places, up to 10 people a booking.
    ``policies=`` replaces the vertical's defaults (a merchant's explicit choice).
    """

    def make(vertical: str, *, policies: dict | None = None, capacity: int = 20, max_party_size: int = 10) -> None:
        declared = plugin_host().verticals[vertical]
        for slug in (CONFIGURED, DEFAULTS):
            make_booking_type(
                session,
                get_tenant(session, slug),
                vertical,
                vertical=vertical,
                name=declared.name,
                rules=windows(("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00"), capacity=capacity),
                policies=declared.default_policies if policies is None else policies,
                form=declared.form_schema,
                ui=declared.ui_schema,
                max_party_size=max_party_size,
            )

    return make


@pytest.fixture
def split_offer(session, set_settings) -> Callable[..., None]:
    """``split_offer("scenic", individual=4, group=10)``: booking type ``scenic`` for both tenants, its slots split by channel.

    Windows 09:00-10:00, 10:00-11:00 and 11:00-12:00 every day, each with ``individual`` places for visitors
    on their own and ``group`` places for groups; the vertical's form and default policies; up to 300 places a booking.
    """

    def make(vertical: str, *, individual: int = 4, group: int = 10) -> None:
        declared = plugin_host().verticals[vertical]
        rules = windows(
            ("09:00", "10:00"),
            ("10:00", "11:00"),
            ("11:00", "12:00"),
            capacity=individual + group,
            capacity_by_channel={"individual": individual, "group": group},
        )
        for slug in (CONFIGURED, DEFAULTS):
            make_booking_type(
                session,
                get_tenant(session, slug),
                vertical,
                vertical=vertical,
                name=declared.name,
                rules=rules,
                policies=declared.default_policies,
                form=declared.form_schema,
                ui=declared.ui_schema,
                max_party_size=300,
            )

    return make


@pytest.fixture
def customer(signed_in_customer) -> Callable[..., FlaskClient]:
    """``customer(1, "tenant-b")``: the n-th customer of a tenant, signed in (tenant-a by default)."""
    return lambda n=1, tenant=CONFIGURED: signed_in_customer(n, tenant=tenant)


@pytest.fixture
def book() -> Callable[..., TestResponse]:
    """``book(client, "tenant-a", "course", answers, hour=10)``: the response to POST bookings."""
    return post_booking


@pytest.fixture
def booked(book) -> Callable[..., dict]:
    """Like ``book`` but asserts 201 and returns the booking JSON."""

    def make(*args: Any, **kwargs: Any) -> dict:
        response = book(*args, **kwargs)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """``clock(at(8, 30))``: the booking and check-in operations read this as "now"."""

    def set_now(now: datetime) -> None:
        monkeypatch.setattr("yuyue.bookings.operations.utcnow", lambda: now)
        monkeypatch.setattr("yuyue.bookings.checkin.utcnow", lambda: now)

    return set_now
