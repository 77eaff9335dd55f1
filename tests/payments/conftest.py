"""Payment fixtures: a museum with a priced booking type (from ``payment_setup``, shared with the job tests), a sandbox that notifies."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from payment_setup import entry, tenant  # noqa: F401 (fixtures: pytest finds them by name here)
from sqlalchemy import select

from yuyue.db import tenant_scope
from yuyue.payments.builtin import send_sandbox_notification
from yuyue.payments.models import Payment
from yuyue.payments.operations import payment_instructions
from yuyue.payments.providers import payment_providers


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
def pay_for(session):
    """``pay_for(booking)``: open the booking's payment and return it."""

    def start(booking) -> Payment:
        instructions = payment_instructions(session, booking)
        assert instructions is not None
        with tenant_scope(booking.tenant_id):
            return session.scalar(select(Payment).where(Payment.reference == instructions["reference"]))

    return start
