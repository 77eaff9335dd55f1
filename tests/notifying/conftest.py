"""Notifying fixtures: a tenant that speaks English first and one that speaks Chinese, a booking type, and delivering the outbox.

:func:`deliver` fans out the tenant's outbox with the notification subscriber and sends what it
planned: through the engine (``fan_out`` / ``send_due``) when it is there, else by calling the
subscriber's ``plan`` and ``send`` as the engine would (the fan-out's write transaction, then
each send outside any transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from notifying_setup import FORM, NAME, UI
from sqlalchemy import func, select
from tenant_setup import (
    make_booking_type,  # noqa: I001
    windows,
)
from webhook_setup import Receiver, running_receiver

from yuyue.db import tenant_scope, write_transaction
from yuyue.events import delivery as engine
from yuyue.events.channels import sent_messages
from yuyue.events.delivery import PlannedDelivery
from yuyue.events.models import Delivery, OutboxEvent
from yuyue.notifying.notices import CustomerNotices
from yuyue.notifying.webhooks import WebhookDeliveries
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow


@pytest.fixture
def gallery(session) -> Tenant:
    """``gallery``: English first, in Berlin."""
    return create_tenant(
        session, plugin_host(), slug="gallery", name="Gallery", time_zone="Europe/Berlin", locales=["en", "zh-Hans"], plugins={"exhibition": {}}
    )


@pytest.fixture
def museum(session) -> Tenant:
    """``museum``: simplified Chinese first, in Shanghai."""
    return create_tenant(session, plugin_host(), slug="museum", name="博物馆", plugins={"exhibition": {}})


@pytest.fixture
def entry_type(session) -> Callable[..., Any]:
    """``entry_type(tenant, policies=…, price_amount=…)``: booking type ``entry``, 09:00-10:00 and 10:00-11:00."""

    def make(tenant: Tenant, **options: Any):
        rules = options.pop("rules", None) or windows(("09:00", "10:00"), ("10:00", "11:00"))
        return make_booking_type(session, tenant, "entry", name=NAME, rules=rules, form=FORM, ui=UI, **options)

    return make


def _planned(session, notices: CustomerNotices, tenant: Tenant) -> list[PlannedDelivery]:
    planned = []
    with tenant_scope(tenant.id), write_transaction(session):
        for event in session.scalars(select(OutboxEvent).where(OutboxEvent.delivered_at.is_(None)).order_by(OutboxEvent.id)).all():
            planned += notices.plan(session, event)
            event.delivered_at = utcnow()
    return planned


@pytest.fixture
def deliver(app, session) -> Callable[..., list[dict]]:
    """``deliver(tenant)``: plan and send the notifications of the tenant's new outbox events; the payloads sent, in order."""

    def run(tenant: Tenant, now: datetime | None = None) -> list[dict]:
        notices = CustomerNotices(app)
        if hasattr(engine, "fan_out") and hasattr(engine, "send_due"):
            now = now or utcnow()
            with tenant_scope(tenant.id):
                before = session.scalar(select(func.max(Delivery.id))) or 0
            engine.fan_out(session, [notices], limit=1000, now=now)
            engine.send_due(session, [notices], now=now)
            with tenant_scope(tenant.id):
                return [d.payload for d in session.scalars(select(Delivery).where(Delivery.id > before).order_by(Delivery.id))]
        planned = _planned(session, notices, tenant)
        with tenant_scope(tenant.id):
            for number, item in enumerate(planned):
                notices.send(Delivery(message_id=f"test-{number}", payload=dict(item.payload), recipient=item.recipient, subscriber=item.subscriber))
        return [dict(item.payload) for item in planned]

    return run


@pytest.fixture
def log_messages(app) -> Callable[[], list]:
    """The messages the ``log`` channel sent, oldest first."""
    return lambda: list(sent_messages(app))


# --- webhooks: a receiver on loopback, and the subscriber that delivers to it ---------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def loopback(app):
    """This installation lets endpoints be plain http on loopback, as the tests' receivers are."""
    app.config.update(WEBHOOKS_ALLOW_HTTP=True, WEBHOOKS_ALLOW_PRIVATE=True)
    return app


@pytest.fixture
def deliveries(loopback) -> WebhookDeliveries:
    subscriber = WebhookDeliveries(loopback)
    subscriber.timeout = 0.3
    return subscriber
