"""The outbox: an event exists exactly when the change that emitted it committed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from yuyue.db import all_tenants, tenant_scope, write_transaction
from yuyue.events import operations as events
from yuyue.events.models import OutboxEvent
from yuyue.provisioning.operations import create_tenant


@pytest.fixture
def tenant(app, session):
    return create_tenant(session, app.extensions["yuyue.plugins"], slug="museum", name="Museum")


@pytest.fixture
def other_tenant(app, session):
    return create_tenant(session, app.extensions["yuyue.plugins"], slug="scenic", name="Scenic")


def stored_events(session) -> int:
    with all_tenants():
        return session.scalar(select(func.count()).select_from(OutboxEvent))


def emit_committed(session, tenant, topic: str, payload: dict | None = None) -> OutboxEvent:
    with tenant_scope(tenant.id), write_transaction(session):
        return events.emit(session, topic, payload or {})


def test_event_emitted_in_a_committed_transaction_is_stored(session, tenant):
    event = emit_committed(session, tenant, "booking.created", {"booking_id": 7, "starts_at": datetime(2024, 10, 1, 1, tzinfo=UTC)})
    session.expunge_all()
    with tenant_scope(tenant.id):
        stored = session.get(OutboxEvent, event.id)
    assert (stored.topic, stored.payload, stored.delivered_at, stored.attempts) == (
        "booking.created",
        {"booking_id": 7, "starts_at": "2024-10-01T01:00:00.000000+00:00"},
        None,
        0,
    )
    assert stored.tenant_id == tenant.id


def test_event_emitted_in_a_transaction_that_rolls_back_is_not_stored(session, tenant):
    with tenant_scope(tenant.id), pytest.raises(RuntimeError, match="slot full"), write_transaction(session):
        events.emit(session, "booking.created", {"booking_id": 7})
        raise RuntimeError("slot full")
    assert stored_events(session) == 0


def test_emit_outside_a_write_transaction_is_refused(session, tenant):
    with tenant_scope(tenant.id), pytest.raises(RuntimeError, match="write_transaction"):
        events.emit(session, "booking.created", {})


@pytest.mark.parametrize("topic", ["", "x" * 61, None])
def test_a_topic_must_be_a_short_name(session, tenant, topic):
    with tenant_scope(tenant.id), pytest.raises(ValueError, match="topic"), write_transaction(session):
        events.emit(session, topic, {})


def test_a_tenant_reads_only_its_own_events_and_the_worker_reads_all(session, tenant, other_tenant):
    mine = emit_committed(session, tenant, "t").id
    theirs = emit_committed(session, other_tenant, "t").id
    with tenant_scope(tenant.id):
        assert list(session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id))) == [mine]
        assert session.get(OutboxEvent, theirs, populate_existing=True) is None
    with all_tenants():
        assert list(session.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id))) == [mine, theirs]
