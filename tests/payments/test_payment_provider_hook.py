"""``register_payment_providers()``: a plugin's provider opens payments, verifies its notifications and refunds."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from payment_setup import PRICE, book, booking_state, make_priced_type, make_tenant

from yuyue.db import db
from yuyue.payments.operations import payment_instructions, set_payment_provider
from yuyue.plugins import PluginLoadError

CAMPUS_CARD = """
import hmac, json
from yuyue import hookimpl
from yuyue.payments.providers import Notification, NotificationKind, PaymentInstructions, RefundResult


class CampusCard:
    key = "campus_card"

    def create_payment(self, request, settings):
        return PaymentInstructions(kind="redirect", pay_url=f"{settings['base_url']}/pay/{request.reference}", params={"fen": request.amount})

    def verify_notification(self, headers, body, settings):
        expected = hmac.new(settings["key"].encode(), body, "sha256").hexdigest()
        if not hmac.compare_digest(headers.get("X-Signature", ""), expected):
            return None
        data = json.loads(body)
        return Notification(id=data["id"], kind=NotificationKind.paid, reference=data["order"], amount=data["fen"], currency="CNY")

    def refund(self, request, settings):
        return RefundResult("succeeded", provider_ref=request.reference)


@hookimpl
def register_payment_providers():
    return [CampusCard()]
"""

CLASHING = """
from yuyue import hookimpl
from yuyue.payments.builtin import SandboxProvider


@hookimpl
def register_payment_providers():
    return [SandboxProvider()]
"""


def _signed(key: str, payload: dict) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"X-Signature": hmac.new(key.encode(), body, hashlib.sha256).hexdigest(), "Content-Type": "application/json"}


def test_hook_register_payment_providers_adds_a_provider_that_tenants_configure(make_app, make_plugin):
    make_plugin("campus_card", CAMPUS_CARD)
    app = make_app()
    with app.app_context():
        session = db.session
        tenant = make_tenant(session)
        make_priced_type(session, tenant)
        set_payment_provider(session, tenant, "campus_card", config={"key": "tenant-key", "base_url": "https://card.example"})
        booking = book(session, tenant, 1)
        instructions = payment_instructions(session, booking)
        assert instructions["pay_url"] == f"https://card.example/pay/{instructions['reference']}"
        assert instructions["params"] == {"fen": PRICE}

        client = app.test_client()
        url = "/api/v1/t/museum/payments/campus_card/notify"
        body, headers = _signed("wrong-key", {"id": "c1", "order": instructions["reference"], "fen": PRICE})
        assert client.post(url, data=body, headers=headers).status_code == 401
        body, headers = _signed("tenant-key", {"id": "c1", "order": instructions["reference"], "fen": PRICE})
        assert client.post(url, data=body, headers=headers).get_json()["outcome"] == "confirmed"
        assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])


def test_hook_register_payment_providers_with_a_taken_key_stops_start_up(make_app, make_plugin):
    make_plugin("fake_sandbox", CLASHING)
    with pytest.raises(PluginLoadError, match="payment provider 'sandbox'"):
        make_app()


def test_hook_register_payment_providers_builtins_are_offline_and_sandbox(app):
    from yuyue.payments.providers import payment_providers

    assert payment_providers(app).keys == ["offline", "sandbox"]


@pytest.mark.parametrize("payload", [{"id": "c" * 65}, {"id": "c\x001"}, {"fen": "2000"}, {"fen": True}])
def test_a_notification_the_host_cannot_keep_is_refused_whatever_the_provider_let_through(make_app, make_plugin, payload):
    make_plugin("campus_card", CAMPUS_CARD)
    app = make_app()
    with app.app_context():
        session = db.session
        tenant = make_tenant(session)
        make_priced_type(session, tenant)
        set_payment_provider(session, tenant, "campus_card", config={"key": "tenant-key", "base_url": "https://card.example"})
        booking = book(session, tenant, 1)
        reference = payment_instructions(session, booking)["reference"]

        body, headers = _signed("tenant-key", {"id": "c1", "order": reference, "fen": PRICE, **payload})
        response = app.test_client().post("/api/v1/t/museum/payments/campus_card/notify", data=body, headers=headers)

        assert (response.status_code, response.get_json()["code"]) == (422, "invalid_notification")
        assert booking_state(session, tenant, booking) == ("held", ["pending"], [])
