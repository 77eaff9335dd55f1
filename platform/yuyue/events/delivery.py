"""Delivering the outbox: fan each committed event out to its subscribers, then send every delivery at least once and never twice.

The engine knows nothing of bookings: a :class:`Subscriber` plans the
deliveries of one event (``plan``) and sends one (``send``); the notifying area
defines the host's subscribers (customer notifications, webhooks, plugin
hooks) and the worker runs :func:`fan_out` and :func:`send_due` in a loop.

Why each step is shaped as it is (decisions §55):

* :func:`fan_out` works per tenant in batches of ``limit`` events, in id
  order: the subscribers plan (and render) in a read transaction, and the
  plans are written in one short write transaction on the outbox tables; on
  PostgreSQL a transaction-scoped advisory lock per tenant keeps two workers
  from fanning out one tenant's events out of order.
* :func:`send_due` claims a few due deliveries by compare-and-set (the row's
  ``status`` and ``attempts`` as they were read), sends each outside any
  transaction, and records the outcome in a short transaction of its own.
  A claim is a lease: a worker killed mid-send leaves a ``sending`` row that
  becomes due again when ``lease_until`` passes.
* An :class:`AcknowledgementJournal` closes most of the window between the
  receiver's acknowledgement and the database's ``delivered``: one ``write(2)``
  to an append-only file, which survives ``kill -9``, folded into the
  database before every claim round and at start-up.
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.orm import Session, scoped_session

from yuyue.audit.operations import record as audit_record
from yuyue.db import all_tenants, insert_unless_exists, tenant_scope, write_transaction
from yuyue.events.models import Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus, OutboxEvent
from yuyue.events.origins import delivering
from yuyue.types import utcnow

log = logging.getLogger(__name__)

# Events planned per fan-out round of a tenant; their deliveries are written in one transaction, short enough for a booking to wait on (SQLite).
FAN_OUT_BATCH = 100
# Deliveries claimed per round; with LEASE they bound how long a claimed row can wait before its send starts.
SEND_BATCH = 20
# How long a claim holds. A send that has not started by half of it is released instead (see send_due).
LEASE = timedelta(minutes=2)
# A retry waits retry_delays[n - 1] plus up to this fraction more, so that deliveries failing together spread out.
RETRY_JITTER = 0.1
ERROR_LENGTH = Delivery.__table__.c.last_error.type.length
EXCERPT_LENGTH = DeliveryAttempt.__table__.c.response_excerpt.type.length
JOURNAL_NAME = "outbox-acknowledged.log"


@dataclass(frozen=True)
class PlannedDelivery:
    """One delivery an event needs, as a subscriber plans it; written once per (event, ``subscriber``)."""

    subscriber: str
    kind: DeliveryKind
    target: str
    payload: Mapping[str, Any]
    recipient: str | None = None


@dataclass(frozen=True)
class SendResult:
    """What a receiver answered to a successful send (kept in the delivery log)."""

    response_status: int | None = None
    response_excerpt: str | None = None
    request: Mapping[str, Any] | None = None


class DeliveryFailed(Exception):
    """A send did not go through. ``retryable=False`` ends the delivery as dead at once (a refused address, a 410 Gone)."""

    def __init__(
        self,
        error: str,
        *,
        retryable: bool = True,
        response_status: int | None = None,
        request: Mapping[str, Any] | None = None,
        response_excerpt: str | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.retryable = retryable
        self.response_status = response_status
        self.request = request
        self.response_excerpt = response_excerpt


# The send in progress's receipt: set by _send_one around ``Subscriber.send``, called through receipt_acknowledged().
_receipt: ContextVar[Callable[[], None] | None] = ContextVar("yuyue_delivery_receipt", default=None)


def receipt_acknowledged() -> None:
    """Say that the receiver has just accepted the message being sent: an SMTP server's reply to DATA, a webhook's 2xx status line.

    A sender calls it before it reads the rest or closes the connection. The
    delivery is journalled at once and counts as delivered whatever the rest of
    the exchange does (a refused QUIT, a reset while the body is read), so a kill
    or an error after this point cannot send it again. Outside a delivery it
    does nothing; a sender that never calls it is acknowledged when ``send`` returns.
    """
    receipt = _receipt.get()
    if receipt is not None:
        receipt()


class DeliverySkipped(Exception):
    """Raised by ``send`` when there is nothing to send any more (the customer unsubscribed, the endpoint was deleted since planning).

    The delivery ends ``skipped`` with the reason as its last error: no retry, no ``on_dead``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Subscriber(Protocol):
    """Who hears of events: plans the deliveries of an event (in the fan-out's read transaction) and sends one of them (outside any transaction).

    One subscriber per :class:`DeliveryKind`. After the n-th failed attempt the
    engine waits ``retry_delays[n - 1]`` (with jitter); when they run out the
    delivery is dead. ``on_delivered`` and ``on_dead`` run in the write
    transaction that records the outcome (a webhook endpoint counts its
    failures there).
    """

    kind: DeliveryKind
    retry_delays: tuple[timedelta, ...]

    def plan(self, session: Session, event: OutboxEvent) -> list[PlannedDelivery]: ...

    def send(self, delivery: Delivery) -> SendResult: ...

    def on_delivered(self, session: Session, delivery: Delivery) -> None: ...

    def on_dead(self, session: Session, delivery: Delivery) -> None: ...


def new_message_id() -> str:
    """The id every attempt of one delivery carries (``webhook-id``, ``Message-ID``): ``msg_`` and 32 hex digits."""
    return f"msg_{uuid.uuid4().hex}"


def _plain(session: Session | scoped_session) -> Session:
    return session() if isinstance(session, scoped_session) else session


# --- fan-out -----------------------------------------------------------------------------


def tenants_with_waiting_events(session: Session) -> list[int]:
    """Ids of the tenants that have events not yet fanned out, lowest first."""
    with all_tenants():
        tenant_ids = list(session.scalars(select(OutboxEvent.tenant_id).where(OutboxEvent.delivered_at.is_(None)).distinct().order_by(OutboxEvent.tenant_id)))
    session.commit()
    return tenant_ids


def newest_event_id(session: Session) -> int | None:
    """The id of the newest event of any tenant: when it grows between two looks, events are being committed."""
    with all_tenants():
        newest = session.scalar(select(func.max(OutboxEvent.id)))
    session.commit()
    return newest


def fan_out(session: Session, subscribers: Sequence[Subscriber], *, limit: int = FAN_OUT_BATCH, now: datetime | None = None) -> int:
    """Plan the deliveries of up to ``limit`` waiting events of every tenant, oldest first; how many events were fanned out.

    Each tenant's batch is planned by every subscriber's ``plan`` with the
    tenant in scope, outside any write; then one write transaction inserts each
    planned delivery unless its (tenant, event, subscriber) row exists and gives
    the events ``delivered_at``. An event whose planning raises stays waiting, and so do
    the events after it (order per tenant is kept): the error is logged, its
    ``attempts`` counted, and the next round tries again.
    """
    session = _plain(session)
    now = now or utcnow()
    fanned = 0
    for tenant_id in tenants_with_waiting_events(session):
        fanned += _fan_out_tenant(session, subscribers, tenant_id, limit, now)
    return fanned


def _fan_out_tenant(session: Session, subscribers: Sequence[Subscriber], tenant_id: int, limit: int, now: datetime) -> int:
    """Plan in a read transaction, then write the plans in a short one.

    Planning renders messages (templates, QR codes, calendar files): tens of
    milliseconds an event, which must not hold SQLite's write lock against the
    bookings. Between the two transactions another worker may fan out the same
    events (SQLite has no advisory lock to keep it out): the unique key turns
    its deliveries into no-ops and ``delivered_at`` is set once.
    """
    failed: tuple[EventPlan, BaseException] | None = None
    planned_events: list[EventPlan] = []
    with tenant_scope(tenant_id):
        try:
            if session.get_bind().dialect.name == "postgresql":
                # One fan-out of a tenant at a time, so its events are planned in order even with several workers;
                # held to the commit below, since the write transaction goes on in this one on PostgreSQL.
                if not session.execute(text("select pg_try_advisory_xact_lock(1800, :tenant)"), {"tenant": tenant_id}).scalar():
                    session.rollback()
                    return 0
            events = session.scalars(select(OutboxEvent).where(OutboxEvent.delivered_at.is_(None)).order_by(OutboxEvent.id).limit(limit)).all()
            for event in events:
                # Read now: the commit below expires the rows, and the lines logged after it still name them.
                plan = EventPlan(event.id, event.topic, event.request_id)
                try:
                    with delivering(plan.event_id, plan.request_id), session.begin_nested():
                        plan.deliveries.extend(one for subscriber in subscribers for one in subscriber.plan(session, event))
                except Exception as error:  # a subscriber's bug: logged, counted, tried again next round
                    failed = (plan, error)
                    break
                planned_events.append(plan)
            if not (planned_events or failed):
                session.commit()
                return 0
            with write_transaction(session):
                for plan in planned_events:
                    for one in plan.deliveries:
                        _insert_delivery(session, tenant_id, plan.event_id, plan.topic, one, now)
                done = [plan.event_id for plan in planned_events]
                fanned = 0
                if done:
                    fanned = session.execute(
                        update(OutboxEvent)
                        .where(OutboxEvent.id.in_(done), OutboxEvent.delivered_at.is_(None))
                        .values(delivered_at=now, attempts=OutboxEvent.attempts + 1)
                        .execution_options(synchronize_session=False)
                    ).rowcount
                if failed:
                    session.execute(
                        update(OutboxEvent)
                        .where(OutboxEvent.id == failed[0].event_id)
                        .values(attempts=OutboxEvent.attempts + 1)
                        .execution_options(synchronize_session=False)
                    )
        except BaseException:
            session.rollback()
            raise
    for plan in planned_events:
        with delivering(plan.event_id, plan.request_id):
            log.info("outbox event %d (%s) fanned out into %d deliveries", plan.event_id, plan.topic, len(plan.deliveries))
    if failed:
        plan, error = failed
        with delivering(plan.event_id, plan.request_id):
            log.error("fanning out outbox event %d failed; it and later events of tenant %d wait: %s", plan.event_id, tenant_id, _error_text(error))
    return fanned


@dataclass
class EventPlan:
    """One event's deliveries as the subscribers planned them, and what the log lines about it name."""

    event_id: int
    topic: str
    request_id: str | None
    deliveries: list[PlannedDelivery] = field(default_factory=list)


def _insert_delivery(session: Session, tenant_id: int, event_id: int, topic: str, planned: PlannedDelivery, now: datetime) -> None:
    values = {
        "tenant_id": tenant_id,
        "message_id": new_message_id(),
        "event_id": event_id,
        "topic": topic,
        "subscriber": planned.subscriber,
        "kind": DeliveryKind(planned.kind),
        "target": str(planned.target),
        "recipient": planned.recipient,
        "payload": dict(planned.payload),
        "status": DeliveryStatus.pending,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    insert_unless_exists(session, Delivery, values, ["tenant_id", "event_id", "subscriber"])


# --- the acknowledgement journal ---------------------------------------------------------------------


class AcknowledgementJournal:
    """Deliveries a receiver acknowledged whose ``delivered`` may not have reached the database yet.

    ``acknowledge`` is one ``write(2)`` of ``"<id> <attempts>\\n"`` to a file
    opened ``O_APPEND``: once it returns the line is in the kernel and survives
    the process being killed (not a power cut: no fsync, the database's own
    commit is the durable record). ``fold`` marks the journal's deliveries
    delivered where they are still ``sending`` with that attempt, then empties
    the file. Appenders hold a shared ``flock`` and the fold an exclusive one,
    so no line is lost between reading and truncating, even with several
    worker processes on one instance folder.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    @classmethod
    def in_folder(cls, folder: Path | str) -> AcknowledgementJournal:
        return cls(Path(folder) / JOURNAL_NAME)

    def acknowledge(self, delivery_id: int, attempts: int) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        try:
            os.write(self._fd, f"{delivery_id} {attempts}\n".encode())
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def fold(self, session: Session, subscribers: Sequence[Subscriber], *, now: datetime | None = None) -> int:
        """Mark the journal's acknowledged deliveries delivered (``on_delivered`` called) and empty it; how many changed."""
        session = _plain(session)
        now = now or utcnow()
        with open(self.path, "r+b") as journal:
            fcntl.flock(journal.fileno(), fcntl.LOCK_EX)
            try:
                entries = _journal_entries(journal.read())
                changed = _mark_acknowledged(session, subscribers, entries, now) if entries else 0
                journal.truncate(0)
            finally:
                fcntl.flock(journal.fileno(), fcntl.LOCK_UN)
        return changed

    def close(self) -> None:
        os.close(self._fd)


def _journal_entries(raw: bytes) -> dict[int, int]:
    entries = {}
    for line in raw.decode(errors="replace").splitlines():
        parts = line.split()
        # A line cut short by a crash mid-write is not an acknowledgement; the lease makes it due again.
        if len(parts) == 2 and parts[0].isdecimal() and parts[1].isdecimal():
            entries[int(parts[0])] = int(parts[1])
    return entries


def _mark_acknowledged(session: Session, subscribers: Sequence[Subscriber], entries: dict[int, int], now: datetime) -> int:
    by_kind = {subscriber.kind: subscriber for subscriber in subscribers}
    with all_tenants():
        rows = session.scalars(
            select(Delivery).where(Delivery.id.in_(entries), Delivery.status == DeliveryStatus.sending).execution_options(populate_existing=True)
        ).all()
    session.commit()
    changed = 0
    for delivery in rows:
        if delivery.attempts != entries[delivery.id]:
            continue
        with tenant_scope(delivery.tenant_id), write_transaction(session):
            if _settle(session, delivery, DeliveryStatus.delivered, now, delivered_at=now, last_error=None, lease_until=None):
                session.add(
                    DeliveryAttempt(delivery_id=delivery.id, attempted_at=now, succeeded=True, error="acknowledged before the worker stopped (journal)")
                )
                if (subscriber := by_kind.get(delivery.kind)) is not None:
                    subscriber.on_delivered(session, delivery)
                changed += 1
    return changed


# --- sending -----------------------------------------------------------------------------


@dataclass
class SendRound:
    """What one :func:`send_due` round did."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    released: int = 0

    def __bool__(self) -> bool:
        return bool(self.claimed)


def _due(now: datetime):
    return or_(
        and_(Delivery.status == DeliveryStatus.pending, Delivery.next_attempt_at <= now),
        and_(Delivery.status == DeliveryStatus.sending, Delivery.lease_until < now),
    )


def claim_due(session: Session, *, now: datetime, limit: int = SEND_BATCH, lease: timedelta = LEASE) -> list[Delivery]:
    """Claim up to ``limit`` due deliveries of every tenant, oldest first: ``sending`` until ``now + lease``, ``attempts`` counted.

    Each claim is ``UPDATE … WHERE id = :id AND status = :seen AND attempts = :seen``
    with its row count checked, so of several workers exactly one wins a row;
    PostgreSQL's ``FOR UPDATE SKIP LOCKED`` lets the others pass over rows being
    claimed instead of waiting for them.
    """
    session = _plain(session)
    # populate_existing: the compare-and-set must compare with the row as it is now, not as this session last saw it.
    query = select(Delivery).where(_due(now)).order_by(Delivery.id).limit(limit).execution_options(populate_existing=True)
    claimed = []
    with all_tenants(), write_transaction(session):
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for delivery in session.scalars(query).all():
            result = session.execute(
                update(Delivery)
                .where(Delivery.id == delivery.id, Delivery.status == delivery.status, Delivery.attempts == delivery.attempts)
                .values(status=DeliveryStatus.sending, lease_until=now + lease, attempts=Delivery.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                claimed.append(delivery)
    for delivery in claimed:
        # The values the claim wrote, on the detached object the send reads.
        delivery.status, delivery.lease_until, delivery.attempts = DeliveryStatus.sending, now + lease, delivery.attempts + 1
    session.expunge_all()
    return claimed


def send_due(
    session: Session,
    subscribers: Sequence[Subscriber],
    *,
    now: datetime | None = None,
    limit: int = SEND_BATCH,
    journal: AcknowledgementJournal | None = None,
) -> SendRound:
    """Send the due deliveries of every tenant (oldest first) once each: at least once overall, never by two workers at a time.

    The journal, if given, is folded first (and a success written to it before
    the database learns of it). Each send runs outside any transaction with its
    tenant in scope; its outcome is recorded in a transaction of its own: a
    :class:`DeliveryAttempt`, then ``delivered`` (``on_delivered``), or
    ``pending`` again after ``retry_delays[attempts - 1]`` with up to
    :data:`RETRY_JITTER` more, or ``dead`` when the delays run out or the
    failure is not retryable (``on_dead``). One delivery failing never holds
    up the others. ``now``, when given, is the time of the whole round (tests
    travel with it); otherwise each outcome is reckoned from the clock.
    """
    session = _plain(session)
    clock: Callable[[], datetime] = utcnow if now is None else (lambda: now)
    now = now or utcnow()
    if journal is not None:
        journal.fold(session, subscribers, now=now)
    by_kind = {subscriber.kind: subscriber for subscriber in subscribers}
    round_ = SendRound()
    claimed = claim_due(session, now=now, limit=limit)
    round_.claimed = len(claimed)
    request_ids = _request_ids_of_events(session, {delivery.event_id for delivery in claimed})
    started = time.monotonic()
    for delivery in claimed:
        if time.monotonic() - started > LEASE.total_seconds() / 2:
            # The claim could lapse while this send runs and another worker take the row: give it back unsent.
            _release(session, delivery)
            round_.released += 1
            continue
        subscriber = by_kind.get(delivery.kind)
        with tenant_scope(delivery.tenant_id), delivering(delivery.event_id, request_ids.get(delivery.event_id)):
            outcome = _send_one(session, subscriber, delivery, journal, clock)
            log.info(
                "delivery %d of outbox event %d (%s) to %s: %s after attempt %d",
                delivery.id,
                delivery.event_id,
                delivery.topic,
                delivery.subscriber,
                outcome or "claimed by another worker meanwhile",
                delivery.attempts,
                extra={"delivery_id": delivery.id},
            )
            round_.delivered += outcome is DeliveryStatus.delivered
            round_.retrying += outcome is DeliveryStatus.pending
            round_.dead += outcome is DeliveryStatus.dead
    return round_


def _request_ids_of_events(session: Session, event_ids: set[int]) -> dict[int, str | None]:
    """The request that wrote each event, for the log lines about sending its deliveries."""
    if not event_ids:
        return {}
    with all_tenants():
        rows = session.execute(select(OutboxEvent.id, OutboxEvent.request_id).where(OutboxEvent.id.in_(event_ids))).all()
    session.commit()
    return {event_id: request_id for event_id, request_id in rows}


def _send_one(
    session: Session, subscriber: Subscriber | None, delivery: Delivery, journal: AcknowledgementJournal | None, clock: Callable[[], datetime]
) -> DeliveryStatus | None:
    if session.in_transaction():
        session.commit()  # nothing may hold a transaction (or SQLite's lock) while a receiver is called
    began = time.perf_counter()
    accepted = False

    def acknowledge() -> None:
        nonlocal accepted
        if not accepted and journal is not None:
            journal.acknowledge(delivery.id, delivery.attempts)
        accepted = True

    if subscriber is None:
        failure: DeliveryFailed | None = DeliveryFailed(f"no subscriber sends deliveries of kind {delivery.kind}", retryable=False)
        result = None
    else:
        receipt = _receipt.set(acknowledge)
        try:
            result = subscriber.send(delivery)
            failure = None
        except DeliverySkipped as skipped:
            return _record_skip(session, delivery, skipped, clock())
        except DeliveryFailed as failed:
            result, failure = None, failed
        except Exception as error:  # the subscriber's bug or a network error it did not wrap: retried
            result, failure = None, DeliveryFailed(_error_text(error))
        finally:
            _receipt.reset(receipt)
    if failure is not None and accepted:
        # Accepted, then the exchange failed (a refused QUIT, a reset connection): delivered, and the error kept in the log.
        log.warning("delivery %d was accepted, then: %s", delivery.id, failure.error)
        result = SendResult(
            response_status=failure.response_status, response_excerpt=_cut(f"accepted, then: {failure.error}", EXCERPT_LENGTH), request=failure.request
        )
        failure = None
    if failure is None:
        acknowledge()
    latency_ms = round((time.perf_counter() - began) * 1000)
    finished = clock()
    if failure is None:
        return _record_success(session, subscriber, delivery, result or SendResult(), latency_ms, finished)
    return _record_failure(session, subscriber, delivery, failure, latency_ms, finished)


def _log_attempt(
    session: Session,
    delivery: Delivery,
    at: datetime,
    latency_ms: int,
    response_status: int | None,
    request: Mapping[str, Any] | None,
    response_excerpt: str | None,
    *,
    error: str | None = None,
) -> None:
    """One line of the delivery's log, in the caller's write transaction: succeeded unless ``error`` says why not."""
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            attempted_at=at,
            succeeded=error is None,
            response_status=response_status,
            latency_ms=latency_ms,
            request=dict(request) if request is not None else None,
            response_excerpt=_cut(response_excerpt, EXCERPT_LENGTH),
            error=error,
        )
    )


def _record_success(
    session: Session, subscriber: Subscriber | None, delivery: Delivery, result: SendResult, latency_ms: int, at: datetime
) -> DeliveryStatus | None:
    with write_transaction(session):
        _log_attempt(session, delivery, at, latency_ms, result.response_status, result.request, result.response_excerpt)
        if not _settle(session, delivery, DeliveryStatus.delivered, at, delivered_at=at, last_error=None, lease_until=None):
            return None  # the claim lapsed and another worker holds the row now; the attempt is still logged
        delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.delivered, at, None
        if subscriber is not None:
            subscriber.on_delivered(session, delivery)
    return DeliveryStatus.delivered


def _record_failure(
    session: Session, subscriber: Subscriber | None, delivery: Delivery, failure: DeliveryFailed, latency_ms: int, at: datetime
) -> DeliveryStatus | None:
    delays = subscriber.retry_delays if subscriber is not None else ()
    error = _cut(failure.error, ERROR_LENGTH)
    if failure.retryable and delivery.attempts <= len(delays):
        delay = delays[delivery.attempts - 1]
        status, values = DeliveryStatus.pending, {"next_attempt_at": at + delay + delay * (RETRY_JITTER * random.random())}
    else:
        status, values = DeliveryStatus.dead, {}
    with write_transaction(session):
        _log_attempt(session, delivery, at, latency_ms, failure.response_status, failure.request, failure.response_excerpt, error=error)
        if not _settle(session, delivery, status, at, last_error=error, lease_until=None, **values):
            return None
        delivery.status, delivery.last_error = status, error
        if status is DeliveryStatus.dead and subscriber is not None:
            subscriber.on_dead(session, delivery)
    if status is DeliveryStatus.dead:
        log.warning("delivery %d (%s) is dead after %d attempts: %s", delivery.id, delivery.subscriber, delivery.attempts, error)
    return status


def _record_skip(session: Session, delivery: Delivery, skipped: DeliverySkipped, at: datetime) -> DeliveryStatus | None:
    reason = _cut(skipped.reason, ERROR_LENGTH)
    with write_transaction(session):
        session.add(DeliveryAttempt(delivery_id=delivery.id, attempted_at=at, succeeded=False, error=f"skipped: {reason}"[:ERROR_LENGTH]))
        if not _settle(session, delivery, DeliveryStatus.skipped, at, last_error=reason, lease_until=None):
            return None
    delivery.status, delivery.last_error = DeliveryStatus.skipped, reason
    return DeliveryStatus.skipped


def _settle(session: Session, delivery: Delivery, status: DeliveryStatus, at: datetime, **values: Any) -> bool:
    """The outcome of this worker's claim: written only while the row is still ``sending`` with the attempt it claimed."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.status == DeliveryStatus.sending, Delivery.attempts == delivery.attempts)
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _release(session: Session, delivery: Delivery) -> None:
    with tenant_scope(delivery.tenant_id), write_transaction(session):
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery.id, Delivery.status == DeliveryStatus.sending, Delivery.attempts == delivery.attempts)
            .values(status=DeliveryStatus.pending, attempts=Delivery.attempts - 1, lease_until=None)
            .execution_options(synchronize_session=False)
        )


def _cut(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_LENGTH]


# --- what operators do ---------------------------------------------------------------------


@dataclass
class DeadDelivery:
    id: int
    tenant_id: int
    event_id: int
    topic: str
    subscriber: str
    attempts: int
    last_error: str | None


@dataclass
class OutboxStatus:
    """What ``yuyue outbox status`` prints: events not yet fanned out, deliveries by status, the oldest pending."""

    events_waiting: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)
    oldest_pending_seconds: float | None = None
    # kind → status → count
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    dead: list[DeadDelivery] = field(default_factory=list)


DEAD_LISTED = 50


def outbox_status(session: Session, *, tenant_id: int | None = None, now: datetime | None = None, dead_listed: int = DEAD_LISTED) -> OutboxStatus:
    """Counts of the whole installation, or of one tenant: waiting events, deliveries by status and kind, the oldest pending, the latest dead."""
    session = _plain(session)
    now = now or utcnow()
    status = OutboxStatus()
    with tenant_scope(tenant_id) if tenant_id is not None else all_tenants():
        status.events_waiting = session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.delivered_at.is_(None))) or 0
        for kind, state, count in session.execute(select(Delivery.kind, Delivery.status, func.count()).group_by(Delivery.kind, Delivery.status)):
            status.by_kind.setdefault(str(kind.value), {})[state.value] = count
            status.deliveries[state.value] = status.deliveries.get(state.value, 0) + count
        oldest = session.scalar(select(func.min(Delivery.created_at)).where(Delivery.status.in_([DeliveryStatus.pending, DeliveryStatus.sending])))
        if oldest is not None:
            status.oldest_pending_seconds = max(0.0, (now - oldest).total_seconds())
        rows = session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.dead).order_by(Delivery.id.desc()).limit(dead_listed)).all()
        status.dead = [DeadDelivery(d.id, d.tenant_id, d.event_id, d.topic, d.subscriber, d.attempts, d.last_error) for d in rows]
    session.commit()
    return status


def retry_dead(
    session: Session,
    *,
    tenant_id: int | None = None,
    delivery_ids: Iterable[int] = (),
    all_dead: bool = False,
    actor: str = "system",
    now: datetime | None = None,
) -> list[Delivery]:
    """Dead deliveries back to ``pending`` now, with a fresh retry budget; the ones changed.

    ``delivery_ids`` names them (only dead ones change); ``all_dead`` takes every
    dead delivery of the tenant (or of the installation).
    """
    session = _plain(session)
    now = now or utcnow()
    query = select(Delivery).where(Delivery.status == DeliveryStatus.dead).order_by(Delivery.id)
    ids = list(delivery_ids)
    if ids:
        query = query.where(Delivery.id.in_(ids))
    elif not all_dead:
        return []
    return _back_to_pending(session, query, tenant_id, now, [DeliveryStatus.dead], actor=actor, action="outbox.delivery_retried")


def replay(
    session: Session,
    *,
    tenant_id: int | None = None,
    event_ids: Iterable[int] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    subscriber_prefix: str | None = None,
    actor: str = "system",
    now: datetime | None = None,
) -> list[Delivery]:
    """Send the deliveries of past events again: delivered, dead and skipped ones back to ``pending`` with the same ``message_id``.

    Receivers can tell a replay by its id. Events are chosen by id or by their
    creation time (``since`` inclusive, ``until`` exclusive); ``subscriber_prefix``
    narrows to e.g. ``webhook:`` or ``hook:yuyue_course``. Deliveries still
    pending or being sent are left alone.
    """
    session = _plain(session)
    now = now or utcnow()
    events = select(OutboxEvent.id)
    ids = list(event_ids)
    if ids:
        events = events.where(OutboxEvent.id.in_(ids))
    if since is not None:
        events = events.where(OutboxEvent.created_at >= since)
    if until is not None:
        events = events.where(OutboxEvent.created_at < until)
    query = select(Delivery).where(Delivery.event_id.in_(events.scalar_subquery())).order_by(Delivery.id)
    if subscriber_prefix:
        query = query.where(Delivery.subscriber.startswith(subscriber_prefix, autoescape=True))
    states = [DeliveryStatus.delivered, DeliveryStatus.dead, DeliveryStatus.skipped]
    return _back_to_pending(session, query, tenant_id, now, states, actor=actor, action="outbox.delivery_replayed")


def _back_to_pending(
    session: Session, query, tenant_id: int | None, now: datetime, from_states: list[DeliveryStatus], *, actor: str, action: str
) -> list[Delivery]:
    """Each delivery by compare-and-set in a transaction of its own, audited in its tenant's chain."""
    query = query.where(Delivery.status.in_(from_states)).execution_options(populate_existing=True)
    with tenant_scope(tenant_id) if tenant_id is not None else all_tenants():
        rows = session.scalars(query).all()
    session.commit()
    changed = []
    for delivery in rows:
        with tenant_scope(delivery.tenant_id), write_transaction(session):
            result = session.execute(
                update(Delivery)
                .where(Delivery.id == delivery.id, Delivery.status == delivery.status, Delivery.attempts == delivery.attempts)
                .values(status=DeliveryStatus.pending, attempts=0, next_attempt_at=now, lease_until=None, delivered_at=None)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                audit_record(
                    session,
                    actor=actor,
                    action=action,
                    subject_type="delivery",
                    subject_id=delivery.id,
                    data={"event_id": delivery.event_id, "subscriber": delivery.subscriber, "was": delivery.status.value, "message_id": delivery.message_id},
                )
                changed.append(delivery)
    return changed
