"""Merchant API fixtures: two tenants, staff clients by role, and bookings made through the booking operations.

Slots lie ten days ahead of the real clock, so holds made now are still open
when a test confirms them over HTTP; tests that need "now" on the slot's day
(check-in, no-show) move the operations' clock with ``clock``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from merchant_setup import NAME_FORM, NAME_UI, PLUGINS, windows
from werkzeug.test import TestResponse

from yuyue.bookings import operations as booking_operations
from yuyue.bookings.models import Booking
from yuyue.catalog.operations import create_booking_type, create_resource
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.scheduling.rules import current_registry
from yuyue.tenancy.models import StaffRole, Tenant, TokenKind
from yuyue.tenancy.operations import create_tenant, create_token, get_tenant


@pytest.fixture
def tenants(session) -> dict[str, str]:
    """Tenants ``tenant-a`` and ``tenant-b``, both with the exhibition and course plugins."""
    for slug in ("tenant-a", "tenant-b"):
        create_tenant(session, plugin_host(), slug=slug, name=slug.title(), plugins=PLUGINS)
    return {"a": "tenant-a", "b": "tenant-b"}


@pytest.fixture
def operator_client(app: Flask, session) -> FlaskClient:
    _, secret = create_token(session, kind=TokenKind.operator, name="operator")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


@pytest.fixture
def problem() -> Callable[..., dict]:
    """``problem(response, 422, "validation_failed")`` asserts a problem document and returns its body."""

    def check(response: TestResponse, status: int, code: str | None = None) -> dict:
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
        body = response.get_json(force=True)
        assert {"type", "title", "status", "detail", "code", "errors"} <= body.keys() and body["status"] == status
        if code is not None:
            assert body["code"] == code, body
        return body

    return check


@pytest.fixture
def staff_client(app: Flask, session) -> Callable[..., FlaskClient]:
    """``staff_client("tenant-a", StaffRole.manager)``: a client sending a staff token of that tenant and role."""

    def make(tenant_slug: str, role=None) -> FlaskClient:
        _, secret = create_token(session, kind=TokenKind.staff, name=f"{tenant_slug} {role or 'staff'}", tenant_slug=tenant_slug, role=role)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        return client

    return make


@pytest.fixture
def manager(tenants, staff_client) -> FlaskClient:
    return staff_client("tenant-a", StaffRole.manager)


@pytest.fixture
def front_desk(tenants, staff_client) -> FlaskClient:
    """A tenant-a token with the plain staff role."""
    return staff_client("tenant-a")


@pytest.fixture
def manager_b(tenants, staff_client) -> FlaskClient:
    return staff_client("tenant-b", StaffRole.manager)


@pytest.fixture
def tenant_of(session, tenants) -> Callable[[str], Tenant]:
    return lambda slug: get_tenant(session, slug)


@pytest.fixture
def make_type(session, tenant_of) -> Callable[..., object]:
    """``make_type("tenant-a", "entry", price_amount=100)``: a timed-entry booking type with a name-only form."""

    def make(tenant_slug: str, slug: str = "entry", *, rules=None, **options):
        return create_booking_type(
            session,
            plugin_host(),
            form_registry(),
            current_registry(),
            tenant_of(tenant_slug),
            vertical=options.pop("vertical", "exhibition"),
            slug=slug,
            name=options.pop("name", {"zh-Hans": "参观", "en": "Visit"}),
            availability_rules=rules or windows(("09:00", "11:00"), ("14:00", "16:00")),
            policies=options.pop("policies", {}),
            form=NAME_FORM,
            ui=NAME_UI,
            **options,
        )

    return make


@pytest.fixture
def make_coach(session, tenant_of):
    def make(tenant_slug: str, code: str = "coach-li"):
        return create_resource(session, tenant_of(tenant_slug), kind="coach", code=code, name={"zh-Hans": "李教练", "en": "Coach Li"})

    return make


@pytest.fixture
def book(session, tenant_of) -> Callable[..., Booking]:
    """``book("tenant-a", at(9), "13800000001", name="Li")``: a booking of type ``entry``, confirmed unless ``confirm=False``."""

    def make(tenant_slug: str, starts_at: datetime, phone: str, *, name: str = "Visitor", booking_type: str = "entry", confirm: bool = True, **options):
        tenant = tenant_of(tenant_slug)
        booking = booking_operations.book(
            session, form_registry(), tenant, booking_type_slug=booking_type, starts_at=starts_at, phone=phone, name=name, answers={"name": name}, **options
        )
        if confirm and booking.voucher_code is None:
            booking = booking_operations.confirm(session, tenant, booking.public_id)
        return booking

    return make


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """``clock(at(9))``: the booking and check-in operations read this as "now"."""

    def set_now(now: datetime) -> None:
        monkeypatch.setattr("yuyue.bookings.operations.utcnow", lambda: now)
        monkeypatch.setattr("yuyue.bookings.checkin.utcnow", lambda: now)

    return set_now
