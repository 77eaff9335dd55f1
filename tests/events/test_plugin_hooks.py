"""``handle_event``: plugins hear of outbox events through the delivery engine, one delivery per (event, plugin), retried on failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from yuyue.db import tenant_scope, write_transaction
from yuyue.events import delivery as engine
from yuyue.events import operations as events
from yuyue.events.models import Delivery, DeliveryAttempt, DeliveryStatus
from yuyue.notifying.hooks import HOOK_RETRY_DELAYS, PluginHooks
from yuyue.notifying.subscribers import host_subscribers
from yuyue.provisioning.operations import create_tenant

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

LISTENER = """
from yuyue.plugin_api import EventView, hookimpl

heard = []
failures = []


@hookimpl
def handle_event(event: EventView):
    if failures:
        raise failures.pop(0)
    heard.append(event)
"""


@pytest.fixture
def listening_app(make_plugin, make_app):
    make_plugin("listener", LISTENER)
    make_plugin("bystander", LISTENER)
    app = make_app()
    with app.app_context():
        yield app


def plugin(app, name):
    return app.extensions["yuyue.plugins"].manager.get_plugin(name)


def emit(session, tenant, topic, payload):
    with tenant_scope(tenant.id), write_transaction(session):
        event = events.emit(session, topic, payload)
        session.flush()
        return event.id


def test_hook_handle_event_is_called_once_per_event_for_each_plugin_the_tenant_enabled(listening_app, session):
    host = listening_app.extensions["yuyue.plugins"]
    tenant = create_tenant(session, host, slug="museum", name="Museum", plugins={"listener": {}})
    event_id = emit(session, tenant, "booking.confirmed", {"booking_id": 7})
    subscribers = host_subscribers(listening_app)
    assert engine.fan_out(session, subscribers, now=NOW) == 1
    assert engine.send_due(session, subscribers, now=NOW).delivered == 1
    assert engine.send_due(session, subscribers, now=NOW + timedelta(days=1)).claimed == 0
    (heard,) = plugin(listening_app, "listener").heard
    with tenant_scope(tenant.id):
        (row,) = session.scalars(select(Delivery)).all()
    assert (heard.id, heard.tenant, heard.topic, dict(heard.payload), heard.message_id) == (
        event_id,
        "museum",
        "booking.confirmed",
        {"booking_id": 7},
        row.message_id,
    )
    assert heard.created_at.tzinfo is not None
    assert (row.subscriber, row.kind.value, row.target, row.status) == ("hook:listener", "hook", "listener", DeliveryStatus.delivered)
    assert plugin(listening_app, "bystander").heard == []


def test_hook_handle_event_that_raises_is_retried_later_with_the_same_message_id(listening_app, session):
    host = listening_app.extensions["yuyue.plugins"]
    tenant = create_tenant(session, host, slug="museum", name="Museum", plugins={"listener": {}, "bystander": {}})
    emit(session, tenant, "booking.cancelled", {"booking_id": 8})
    listener = plugin(listening_app, "listener")
    listener.failures.append(ConnectionError("CRM unreachable"))
    subscribers = [PluginHooks(listening_app)]
    engine.fan_out(session, subscribers, now=NOW)
    first = engine.send_due(session, subscribers, now=NOW)
    # The bystander's delivery went through; only the listener's waits.
    assert (first.delivered, first.retrying) == (1, 1)
    assert len(plugin(listening_app, "bystander").heard) == 1
    with tenant_scope(tenant.id):
        waiting = session.scalar(select(Delivery).where(Delivery.subscriber == "hook:listener"))
    session.commit()
    assert (waiting.status, waiting.last_error) == (DeliveryStatus.pending, "ConnectionError: CRM unreachable")
    later = NOW + HOOK_RETRY_DELAYS[0] * (1 + engine.RETRY_JITTER) + timedelta(seconds=1)
    assert engine.send_due(session, subscribers, now=later).delivered == 1
    assert [event.message_id for event in listener.heard] == [waiting.message_id]
    assert len(plugin(listening_app, "bystander").heard) == 1
    with tenant_scope(tenant.id):
        attempts = session.scalars(select(DeliveryAttempt.succeeded).where(DeliveryAttempt.delivery_id == waiting.id).order_by(DeliveryAttempt.id)).all()
    assert attempts == [False, True]


def test_a_tenant_without_the_plugin_plans_no_hook_delivery(listening_app, session):
    tenant = create_tenant(session, listening_app.extensions["yuyue.plugins"], slug="museum", name="Museum")
    emit(session, tenant, "booking.confirmed", {})
    engine.fan_out(session, [PluginHooks(listening_app)], now=NOW)
    with tenant_scope(tenant.id):
        assert session.scalars(select(Delivery)).all() == []
