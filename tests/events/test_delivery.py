"""The delivery engine: events fanned out once per subscriber, each delivery sent until delivered or dead, never by two workers at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from yuyue.db import all_tenants, tenant_scope, write_transaction
from yuyue.events import delivery as engine
from yuyue.events import operations as events
from yuyue.events.delivery import AcknowledgementJournal, DeliveryFailed, DeliverySkipped, PlannedDelivery, SendResult
from yuyue.events.models import Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus, OutboxEvent

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
DELAYS = (timedelta(seconds=10), timedelta(minutes=1))


@dataclass
class Receiver:
    """A subscriber of the engine's protocol that keeps what it was sent; ``failures[subscriber]`` failures come first."""

    kind: DeliveryKind = DeliveryKind.webhook
    retry_delays: tuple[timedelta, ...] = DELAYS
    names: tuple[str, ...] = ("a", "b")
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    sent: list[tuple[int, str, str]] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)

    def plan(self, session, event):
        return [PlannedDelivery(subscriber=f"webhook:{name}", kind=self.kind, target=name, payload={"topic": event.topic}) for name in self.names]

    def send(self, delivery):
        waiting = self.failures.get(delivery.subscriber)
        if waiting:
            raise waiting.pop(0)
        self.sent.append((delivery.event_id, delivery.subscriber, delivery.message_id))
        return SendResult(response_status=204)

    def on_delivered(self, session, delivery):
        self.delivered.append(delivery.id)

    def on_dead(self, session, delivery):
        self.dead.append(delivery.id)


@pytest.fixture
def tenant(make_tenant):
    return make_tenant("museum")


def emit(session, tenant, topic="booking.confirmed", n=1) -> list[int]:
    with tenant_scope(tenant.id), write_transaction(session):
        made = [events.emit(session, topic, {"n": i}) for i in range(n)]
        session.flush()
        return [event.id for event in made]


def deliveries(session, tenant) -> list[Delivery]:
    with tenant_scope(tenant.id):
        rows = session.scalars(select(Delivery).order_by(Delivery.id)).all()
    session.commit()
    return rows


def test_fan_out_plans_one_delivery_per_subscriber_and_a_second_fan_out_adds_nothing(session, tenant):
    event_ids = emit(session, tenant, n=3)
    receiver = Receiver()
    assert engine.fan_out(session, [receiver], now=NOW) == 3
    assert engine.fan_out(session, [receiver], now=NOW) == 0
    rows = deliveries(session, tenant)
    assert [(d.event_id, d.subscriber, d.status) for d in rows] == [(e, f"webhook:{n}", DeliveryStatus.pending) for e in event_ids for n in "ab"]
    assert len({d.message_id for d in rows}) == 6
    with tenant_scope(tenant.id):
        assert all(e.delivered_at is not None for e in session.scalars(select(OutboxEvent)))


def test_fan_out_goes_in_batches_in_id_order(session, tenant):
    event_ids = emit(session, tenant, n=5)
    receiver = Receiver(names=("a",))
    assert engine.fan_out(session, [receiver], limit=2, now=NOW) == 2
    assert [d.event_id for d in deliveries(session, tenant)] == event_ids[:2]
    assert engine.fan_out(session, [receiver], limit=2, now=NOW) == 2
    assert engine.fan_out(session, [receiver], limit=2, now=NOW) == 1
    assert [d.event_id for d in deliveries(session, tenant)] == event_ids


def test_a_failing_plan_keeps_its_event_and_the_later_ones_waiting(session, tenant):
    first, second = emit(session, tenant, n=2)

    class Broken(Receiver):
        def plan(self, session, event):
            if event.id == first:
                raise RuntimeError("template missing")
            return super().plan(session, event)

    assert engine.fan_out(session, [Broken()], now=NOW) == 0
    assert deliveries(session, tenant) == []
    with tenant_scope(tenant.id):
        # populate_existing: the identity map may still hold the copy fan_out read, from before its UPDATE.
        assert session.get(OutboxEvent, first, populate_existing=True).attempts == 1
    assert engine.fan_out(session, [Receiver()], now=NOW) == 2


def test_send_due_delivers_each_once_and_calls_on_delivered(session, tenant):
    emit(session, tenant, n=2)
    receiver = Receiver()
    engine.fan_out(session, [receiver], now=NOW)
    assert engine.send_due(session, [receiver], now=NOW).delivered == 4
    assert engine.send_due(session, [receiver], now=NOW + timedelta(days=1)).claimed == 0
    rows = deliveries(session, tenant)
    assert [d.status for d in rows] == [DeliveryStatus.delivered] * 4
    assert sorted(receiver.delivered) == [d.id for d in rows]
    assert sorted(m for _, _, m in receiver.sent) == sorted(d.message_id for d in rows)
    with tenant_scope(tenant.id):
        attempts = session.scalars(select(DeliveryAttempt)).all()
    assert [(a.succeeded, a.response_status) for a in attempts] == [(True, 204)] * 4


def test_a_failure_is_retried_after_its_delay_with_the_same_message_id(session, tenant):
    emit(session, tenant)
    receiver = Receiver(names=("a",), failures={"webhook:a": [DeliveryFailed("503 from receiver", response_status=503)]})
    engine.fan_out(session, [receiver], now=NOW)
    assert engine.send_due(session, [receiver], now=NOW).retrying == 1
    (row,) = deliveries(session, tenant)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.pending, 1, "503 from receiver")
    assert NOW + DELAYS[0] <= row.next_attempt_at <= NOW + DELAYS[0] * (1 + engine.RETRY_JITTER)
    assert engine.send_due(session, [receiver], now=NOW + timedelta(seconds=9)).claimed == 0
    assert engine.send_due(session, [receiver], now=NOW + timedelta(seconds=12)).delivered == 1
    assert receiver.sent == [(row.event_id, "webhook:a", row.message_id)]


def test_a_delivery_is_dead_when_the_delays_run_out_with_its_last_error_kept(session, tenant):
    emit(session, tenant)
    errors = [DeliveryFailed(f"refused {n} " + "x" * 600) for n in range(3)]
    receiver = Receiver(names=("a",), failures={"webhook:a": errors})
    engine.fan_out(session, [receiver], now=NOW)
    at = NOW
    for _ in range(3):
        engine.send_due(session, [receiver], now=at)
        at += timedelta(hours=1)
    (row,) = deliveries(session, tenant)
    assert (row.status, row.attempts) == (DeliveryStatus.dead, 3)
    assert row.last_error.startswith("refused 2 ") and len(row.last_error) == 500
    assert receiver.dead == [row.id]
    assert engine.send_due(session, [receiver], now=at + timedelta(days=10)).claimed == 0


def test_a_refusal_for_good_is_dead_at_once_and_does_not_hold_up_the_others(session, tenant):
    emit(session, tenant, n=2)
    receiver = Receiver(names=("a",), failures={"webhook:a": [DeliveryFailed("410 Gone", retryable=False)]})
    engine.fan_out(session, [receiver], now=NOW)
    result = engine.send_due(session, [receiver], now=NOW)
    assert (result.dead, result.delivered) == (1, 1)
    assert [d.status for d in deliveries(session, tenant)] == [DeliveryStatus.dead, DeliveryStatus.delivered]


def test_an_unexpected_exception_in_send_is_a_failed_attempt(session, tenant):
    emit(session, tenant)

    class Crashing(Receiver):
        def send(self, delivery):
            raise ConnectionResetError("peer reset")

    engine.fan_out(session, [Crashing(names=("a",))], now=NOW)
    engine.send_due(session, [Crashing(names=("a",))], now=NOW)
    (row,) = deliveries(session, tenant)
    assert (row.status, row.last_error) == (DeliveryStatus.pending, "ConnectionResetError: peer reset")


def test_a_claimed_delivery_is_not_claimed_again_until_its_lease_passes(session, tenant):
    emit(session, tenant)
    receiver = Receiver(names=("a",))
    engine.fan_out(session, [receiver], now=NOW)
    (claimed,) = engine.claim_due(session, now=NOW)
    assert engine.claim_due(session, now=NOW + timedelta(minutes=1)) == []
    # The worker that claimed it died; after the lease another takes it over.
    assert engine.send_due(session, [receiver], now=NOW + engine.LEASE + timedelta(seconds=1)).delivered == 1
    (row,) = deliveries(session, tenant)
    assert (row.status, row.attempts, row.message_id) == (DeliveryStatus.delivered, 2, claimed.message_id)


def test_the_journal_marks_an_acknowledged_delivery_delivered_before_its_lease_makes_it_due(session, tenant, tmp_path):
    emit(session, tenant)
    receiver = Receiver(names=("a",))
    engine.fan_out(session, [receiver], now=NOW)
    (claimed,) = engine.claim_due(session, now=NOW)
    journal = AcknowledgementJournal(tmp_path / "acks.log")
    journal.acknowledge(claimed.id, claimed.attempts)  # then the worker was killed
    later = NOW + engine.LEASE + timedelta(minutes=1)
    assert engine.send_due(session, [receiver], now=later, journal=AcknowledgementJournal(tmp_path / "acks.log")).claimed == 0
    (row,) = deliveries(session, tenant)
    assert row.status is DeliveryStatus.delivered and receiver.sent == [] and receiver.delivered == [row.id]
    assert (tmp_path / "acks.log").read_bytes() == b""


def test_a_receipt_is_journalled_at_once_and_what_fails_after_it_does_not_send_again(session, tenant, tmp_path):
    # A sender says "accepted" (the SMTP server's reply to DATA) before it closes the connection; the QUIT then fails.
    emit(session, tenant)
    journalled_at_receipt = []

    class AcceptedThenQuitFails(Receiver):
        def send(self, delivery):
            engine.receipt_acknowledged()
            journalled_at_receipt.append((tmp_path / "acks.log").read_text())
            raise DeliveryFailed("the SMTP server answered QUIT with 554", response_status=554)

    receiver = AcceptedThenQuitFails(names=("a",))
    engine.fan_out(session, [receiver], now=NOW)
    round_ = engine.send_due(session, [receiver], now=NOW, journal=AcknowledgementJournal(tmp_path / "acks.log"))
    (row,) = deliveries(session, tenant)
    assert journalled_at_receipt == [f"{row.id} 1\n"]  # a kill -9 from here on cannot send it twice
    assert round_.delivered == 1 and row.status is DeliveryStatus.delivered and receiver.delivered == [row.id]
    assert engine.send_due(session, [receiver], now=NOW + timedelta(days=1)).claimed == 0
    with tenant_scope(tenant.id):
        (attempt,) = session.scalars(select(DeliveryAttempt)).all()
    session.commit()
    assert attempt.succeeded and attempt.response_excerpt == "accepted, then: the SMTP server answered QUIT with 554"


def test_a_receipt_outside_a_delivery_does_nothing():
    engine.receipt_acknowledged()


def test_the_journal_ignores_a_line_cut_short_and_a_stale_attempt(session, tenant, tmp_path):
    emit(session, tenant)
    receiver = Receiver(names=("a",))
    engine.fan_out(session, [receiver], now=NOW)
    (claimed,) = engine.claim_due(session, now=NOW)
    (tmp_path / "acks.log").write_bytes(f"{claimed.id} {claimed.attempts + 5}\n{claimed.id}".encode())
    assert AcknowledgementJournal(tmp_path / "acks.log").fold(session, [receiver], now=NOW) == 0
    assert deliveries(session, tenant)[0].status is DeliveryStatus.sending


def test_deliveries_of_two_tenants_are_each_sent_in_their_tenant_scope(session, tenant, make_tenant):
    other = make_tenant("scenic")
    emit(session, tenant)
    emit(session, other)
    seen = []

    class Scoped(Receiver):
        def send(self, delivery):
            from yuyue.db import current_tenant_id

            seen.append((delivery.tenant_id, current_tenant_id()))
            return super().send(delivery)

    engine.fan_out(session, [Scoped(names=("a",))], now=NOW)
    engine.send_due(session, [Scoped(names=("a",))], now=NOW)
    assert sorted(seen) == sorted([(tenant.id, tenant.id), (other.id, other.id)])


def test_status_counts_by_status_and_kind_and_lists_the_dead(session, tenant):
    emit(session, tenant, n=2)
    receiver = Receiver(names=("a",), failures={"webhook:a": [DeliveryFailed("nope", retryable=False)]})
    engine.fan_out(session, [receiver], now=NOW)
    engine.send_due(session, [receiver], now=NOW)
    emit(session, tenant)
    status = engine.outbox_status(session, tenant_id=tenant.id, now=NOW)
    assert (status.events_waiting, status.deliveries, status.by_kind) == (1, {"dead": 1, "delivered": 1}, {"webhook": {"dead": 1, "delivered": 1}})
    assert [(d.subscriber, d.last_error) for d in status.dead] == [("webhook:a", "nope")]


def test_retry_revives_dead_deliveries_and_replay_resends_delivered_ones_with_their_message_id(session, tenant):
    first, second = emit(session, tenant, n=2)
    receiver = Receiver(names=("a",), failures={"webhook:a": [DeliveryFailed("nope", retryable=False)]})
    engine.fan_out(session, [receiver], now=NOW)
    engine.send_due(session, [receiver], now=NOW)
    dead, delivered = deliveries(session, tenant)
    assert [d.id for d in engine.retry_dead(session, all_dead=True, now=NOW)] == [dead.id]
    assert [d.id for d in engine.replay(session, event_ids=[second], now=NOW)] == [delivered.id]
    engine.send_due(session, [receiver], now=NOW)
    assert sorted(receiver.sent) == sorted([(second, "webhook:a", delivered.message_id)] * 2 + [(first, "webhook:a", dead.message_id)])
    with all_tenants():
        assert session.scalar(select(Delivery.attempts).where(Delivery.id == dead.id)) == 1


def test_a_delivery_with_nothing_left_to_send_is_skipped_without_retry(session, tenant):
    emit(session, tenant)
    receiver = Receiver(names=("a",), failures={"webhook:a": [DeliverySkipped("the customer unsubscribed")]})
    engine.fan_out(session, [receiver], now=NOW)
    engine.send_due(session, [receiver], now=NOW)
    (row,) = deliveries(session, tenant)
    assert (row.status, row.last_error, receiver.dead) == (DeliveryStatus.skipped, "the customer unsubscribed", [])
    assert engine.send_due(session, [receiver], now=NOW + timedelta(days=3)).claimed == 0
