"""Payment fixtures: the built-in providers loaded, a museum with a priced booking type, a sandbox that notifies."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from payment_setup import make_priced_type, make_tenant
from sqlalchemy import select

from yuyue.db import tenant_scope
from yuyue.payments.builtin import send_sandbox_notification
from yuyue.payments.models import Payment
from yuyue.payments.operations import payment_instructions
from yuyue.payments.providers import payment_providers


@pytest.fixture
def tenant(session):
    return make_tenant(session)


@pytest.fixture
def entry(session, tenant):
    return make_priced_type(session, tenant)


@dataclass
class Sandbox:
    """The sandbox's servers: they sign notifications and POST them to the callback."""

    app: Flask
    client: FlaskClient
    tenant_slug: str = "museum"

    @property
    def secret(self) -> str:
        return payment_providers(self.app).settings("sandbox")["secret"]

    def notify(self, payment: Payment, event_type: str = "payment.succeeded", **fields) -> tuple[int, dict]:
        fields.setdefault("amount", payment.amount)
        return send_sandbox_notification(self.client, self.tenant_slug, event_type, payment.reference, secret=self.secret, **fields)


@pytest.fixture
def sandbox(app, client) -> Sandbox:
    return Sandbox(app, client)


@pytest.fixture
def pay_for(session, tenant):
    """``pay_for(booking)``: open the booking's payment and return it."""

    def start(booking) -> Payment:
        instructions = payment_instructions(session, booking)
        assert instructions is not None
        with tenant_scope(tenant.id):
            return session.scalar(select(Payment).where(Payment.reference == instructions["reference"]))

    return start


@pytest.fixture
def problem():
    """``problem(response, 401, "invalid_signature")`` asserts an RFC 9457 problem document and returns its body."""

    def check(response, status: int, code: str | None = None) -> dict:
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
        body = response.get_json(force=True)
        assert {"type", "title", "status", "detail", "code", "errors"} <= body.keys()
        assert code is None or body["code"] == code
        return body

    return check
