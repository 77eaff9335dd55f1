"""Customer API fixtures: tenants with a timed-entry booking type, customers logged in by minted tokens, JSON clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from customer_api_setup import ANSWERS, DESCRIPTION, FORM, NAME, PLUGINS, UI, iso, phone, windows
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from yuyue.api.auth import customer_tokens
from yuyue.catalog.operations import create_booking_type
from yuyue.customers.models import Customer
from yuyue.customers.operations import customer_for_phone
from yuyue.db import tenant_scope
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.scheduling.rules import current_registry
from yuyue.tenancy.models import Tenant
from yuyue.tenancy.operations import create_tenant, get_tenant

TENANTS = ("tenant-a", "tenant-b")
# Long enough for HS256 tokens without PyJWT's short-key warning.
SECRET_KEY = "customer-api-tests-" + "k" * 32


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    app = make_app(SECRET_KEY=SECRET_KEY)
    with app.app_context():
        yield app


@pytest.fixture
def tenants(session) -> dict[str, Tenant]:
    """``tenant-a`` and ``tenant-b``, each with the exhibition and course plugins."""
    return {slug: create_tenant(session, plugin_host(), slug=slug, name=slug.title(), plugins=PLUGINS) for slug in TENANTS}


@pytest.fixture
def make_type(session, tenants) -> Callable[..., Any]:
    """``make_type("entry", capacity=1, price_amount=500, tenant="tenant-b")``: a timed-entry type, 09:00-10:00 and 10:00-11:00, up to 4 people a booking."""

    def make(slug: str = "entry", *, tenant: str = "tenant-a", capacity: int = 20, rules=None, **options):
        return create_booking_type(
            session,
            plugin_host(),
            form_registry(),
            current_registry(),
            get_tenant(session, tenant),
            vertical=options.pop("vertical", "exhibition"),
            slug=slug,
            name=options.pop("name", NAME),
            description=options.pop("description", DESCRIPTION),
            availability_rules=rules or windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=capacity),
            policies=options.pop("policies", {}),
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
def make_customer(app: Flask, session, tenants) -> Callable[..., FlaskClient]:
    """``make_customer(1)``: a test client logged in as the customer with phone 138…01 (``client.customer`` is the row)."""

    def make(n: int, tenant: str = "tenant-a") -> FlaskClient:
        owner = get_tenant(session, tenant)
        with tenant_scope(owner.id):
            customer: Customer = customer_for_phone(session, phone(n))
        with app.test_request_context():
            tokens = customer_tokens(customer)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens['access_token']}"
        client.customer = customer
        return client

    return make


@pytest.fixture
def alice(make_customer) -> FlaskClient:
    return make_customer(1)


@pytest.fixture
def bob(make_customer) -> FlaskClient:
    return make_customer(2)


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
