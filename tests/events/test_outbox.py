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


def test_pending_lists_undelivered_events_oldest_first(session, tenant):
    ids = [emit_committed(session, tenant, f"t{n}").id for n in range(3)]
    with tenant_scope(tenant.id):
        assert [e.id for e in events.pending(session, 10)] == ids
        assert [e.id for e in events.pending(session, 2)] == ids[:2]


def test_delivered_events_leave_pending_and_are_marked_once(session, tenant):
    first, second = (emit_committed(session, tenant, "t").id for _ in range(2))
    with tenant_scope(tenant.id):
        assert events.mark_delivered(session, [first]) == 1
        assert [e.id for e in events.pending(session, 10)] == [second]
        assert events.mark_delivered(session, [first, second]) == 1
        assert events.pending(session, 10) == []
        assert events.mark_delivered(session, []) == 0
        delivered = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [(e.attempts, e.delivered_at is not None) for e in delivered] == [(1, True), (1, True)]


def test_pending_sees_only_the_tenant_in_context_and_a_worker_sees_all(session, tenant, other_tenant):
    mine = emit_committed(session, tenant, "t").id
    theirs = emit_committed(session, other_tenant, "t").id
    with tenant_scope(tenant.id):
        assert [e.id for e in events.pending(session, 10)] == [mine]
        assert events.mark_delivered(session, [theirs]) == 0
    with all_tenants():
        assert [e.id for e in events.pending(session, 10)] == [mine, theirs]


def test_claimed_events_are_read_in_a_write_transaction(session, tenant):
    event_id = emit_committed(session, tenant, "t").id
    with tenant_scope(tenant.id), write_transaction(session):
        claimed = events.pending(session, 10, claim=True)
        events.mark_delivered(session, [e.id for e in claimed])
    assert [e.id for e in claimed] == [event_id]
    with tenant_scope(tenant.id):
        assert events.pending(session, 10) == []
