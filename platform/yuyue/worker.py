"""Background jobs on Huey: the periodic expiry of holds and waitlist offers, sending refunds, deciding sessions against their minimum,
purging ended logins, holding scheduled slots' resources, writing off expired class credits, signing audit checkpoints, emitting
reminders, backing the database up each night; and the outbox pump that fans events out and sends their deliveries.

``yuyue worker`` runs a Huey consumer: ``SqliteHuey`` in the instance folder by
default, ``RedisHuey`` when ``YUYUE_REDIS_URL`` is set; beside it an
:class:`OutboxPump` thread runs :func:`yuyue.events.delivery.fan_out` and
:func:`~yuyue.events.delivery.send_due` in a loop (a thread rather than a Huey
task: the pump must run continuously, and a periodic task fires once a minute); and a
:class:`~yuyue.observability.heartbeat.Heartbeat` thread that tells readiness and ``/metrics`` the worker
runs, how many of its jobs failed and what it counted. Each task builds no
application of its own: the queue is made for one application and runs its
tasks inside that application's context. :func:`expire_due` is the task body,
callable directly (``yuyue bookings expire-holds`` does); so is :func:`decide_sessions_due`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextvars import Token
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import Task, TaskWrapper
from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.audit.checkpoints import load_signing_key, write_checkpoints
from yuyue.backup.operations import Backup, default_output, prune_backups, record_backup, take_backup
from yuyue.bookings import operations as booking_ops
from yuyue.bookings import waitlist
from yuyue.bookings.resources import hold_scheduled_resources, per_slot_requirements
from yuyue.bookings.sessions import decide_sessions
from yuyue.catalog.models import BookingType, BookingTypeStatus
from yuyue.credits.operations import expire_credits
from yuyue.customers.sessions import purge_ended_logins
from yuyue.db import db, tenant_scope, write_transaction
from yuyue.errors import Conflict
from yuyue.events.delivery import AcknowledgementJournal, Subscriber, fan_out, newest_event_id, send_due
from yuyue.notifying.reminders import emit_due_reminders
from yuyue.notifying.subscribers import host_subscribers
from yuyue.observability.heartbeat import Heartbeat
from yuyue.observability.logs import enter_log_context, leave_log_context
from yuyue.observability.metrics import worker_counts
from yuyue.payments.operations import send_refunds
from yuyue.payments.providers import PaymentProviders, payment_providers
from yuyue.privacy.operations import erase_expired_customers
from yuyue.tenancy.models import Tenant, TenantStatus
from yuyue.types import utcnow

log = logging.getLogger(__name__)

QUEUE_NAME = "yuyue"
# An expiry that loses a race with a confirmation (a payment landing at the last moment) is retried at once.
EXPIRY_ATTEMPTS = 3


@dataclass
class TenantExpiry:
    tenant: str
    holds: int = 0
    offers: int = 0
    refunds: int = 0
    error: str | None = None


@dataclass
class ExpiryReport:
    tenants: list[TenantExpiry] = field(default_factory=list)

    @property
    def holds(self) -> int:
        return sum(t.holds for t in self.tenants)

    @property
    def offers(self) -> int:
        return sum(t.offers for t in self.tenants)

    @property
    def failed(self) -> list[TenantExpiry]:
        return [t for t in self.tenants if t.error]


def _expire_holds(session: Session, tenant: Tenant, now: datetime) -> int:
    for attempt in range(EXPIRY_ATTEMPTS):
        try:
            return len(booking_ops.expire_holds(session, tenant, now=now))
        except Conflict:
            # A booking was confirmed (or cancelled) between the read and the update; read again.
            if attempt == EXPIRY_ATTEMPTS - 1:
                raise
    return 0


def expire_due(session: Session, *, providers: PaymentProviders | None = None, now: datetime | None = None) -> ExpiryReport:
    """Expire unpaid holds and unanswered waitlist offers of every active tenant, and send every tenant's requested refunds.

    A suspended tenant's bookings and waitlist stay as they are until it is
    reinstated (expiring would pass places on to waiting customers), but money
    owed to its customers still goes out. One tenant's failure is logged and
    reported and does not stop the others.
    """
    now = now or utcnow()
    tenants = session.scalars(select(Tenant).order_by(Tenant.id)).all()
    session.commit()
    report = ExpiryReport()
    for tenant in tenants:
        result = TenantExpiry(tenant.slug)
        try:
            if tenant.status is TenantStatus.active:
                result.holds = _expire_holds(session, tenant, now)
                result.offers = len(waitlist.expire_offers(session, tenant, now=now))
            if providers is not None:
                result.refunds = len(send_refunds(session, tenant, providers=providers))
        except Exception as error:  # reported, and tried again on the next run
            session.rollback()
            log.exception("expiry for tenant %s failed", tenant.slug)
            result.error = f"{type(error).__name__}: {error}"
        report.tenants.append(result)
    return report


def hold_resources_due(session: Session, *, now: datetime | None = None) -> int:
    """Have the future slots of every active tenant's booking types hold their per-slot resources as their days come into reach; how many newly do.

    One transaction per tenant; a tenant's failure is logged and tried again on the next run.
    """
    now = now or utcnow()
    tenants = session.scalars(select(Tenant).where(Tenant.status == TenantStatus.active).order_by(Tenant.id)).all()
    session.commit()
    held = 0
    for tenant in tenants:
        try:
            with tenant_scope(tenant.id), write_transaction(session):
                for booking_type in session.scalars(select(BookingType).where(BookingType.status == BookingTypeStatus.active).order_by(BookingType.id)):
                    if per_slot_requirements(booking_type):
                        held += hold_scheduled_resources(session, booking_type, now)
        except Exception:  # tried again on the next run
            session.rollback()
            log.exception("holding scheduled resources for tenant %s failed", tenant.slug)
    return held


@dataclass
class SessionDecisions:
    """Sessions decided in one run, over every active tenant, and the tenants that failed."""

    confirmed: int = 0
    called_off: int = 0
    cancelled_bookings: int = 0
    failed: list[str] = field(default_factory=list)


def decide_sessions_due(session: Session, *, now: datetime | None = None) -> SessionDecisions:
    """Call off or confirm every active tenant's sessions whose minimum-participants decision is due (``bookings.sessions``).

    Refunds of the bookings it cancels are requested in their cancellations and
    sent by :func:`expire_due`'s run. One tenant's failure is logged and does not
    stop the others; its next run goes on where this one stopped.
    """
    now = now or utcnow()
    tenants = session.scalars(select(Tenant).where(Tenant.status == TenantStatus.active).order_by(Tenant.id)).all()
    session.commit()
    result = SessionDecisions()
    for tenant in tenants:
        try:
            report = decide_sessions(session, tenant, now=now)
        except Exception:  # reported, and tried again on the next run
            session.rollback()
            log.exception("deciding sessions for tenant %s failed", tenant.slug)
            result.failed.append(tenant.slug)
            continue
        result.confirmed += report.confirmed
        result.called_off += report.called_off
        result.cancelled_bookings += report.cancelled_bookings
    return result


def expire_all_credits(session: Session, *, now: datetime | None = None) -> int:
    """Write off the expired class credits of every active tenant; how many ledger lines that wrote.

    Balances never count expired credits; this makes the ledger say so. One
    tenant's failure is logged and does not stop the others.
    """
    now = now or utcnow()
    tenants = session.scalars(select(Tenant).where(Tenant.status == TenantStatus.active).order_by(Tenant.id)).all()
    session.commit()
    written = 0
    for tenant in tenants:
        try:
            written += len(expire_credits(session, tenant, now=now))
        except Exception:  # tried again the next night
            session.rollback()
            log.exception("writing off expired credits of tenant %s failed", tenant.slug)
    return written


@dataclass(frozen=True)
class JobQueue:
    """A Huey queue and the tasks registered on it for one application."""

    huey: Huey
    expire_due: TaskWrapper
    purge_ended_logins: TaskWrapper
    hold_resources_due: TaskWrapper
    decide_sessions: TaskWrapper
    expire_credits: TaskWrapper
    emit_reminders: TaskWrapper
    erase_expired_customers: TaskWrapper
    # Only when a signing key and a checkpoint file are configured.
    audit_checkpoint: TaskWrapper | None = None
    # Unless YUYUE_BACKUP_AT is off.
    backup: TaskWrapper | None = None


def make_queue(app: Flask) -> JobQueue:
    """The Huey queue of ``app``, with the periodic expiry registered; tasks run in ``app``'s context."""
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        queue: Huey = RedisHuey(QUEUE_NAME, url=redis_url)
    else:
        path = Path(app.config["INSTANCE_PATH"]) / "huey.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        queue = SqliteHuey(QUEUE_NAME, filename=str(path))
    name_the_task_in_its_log_lines(queue)

    @queue.periodic_task(crontab(minute="*"), name="expire_due")
    def expire_due_task() -> dict:
        with app.app_context():
            try:
                report = expire_due(db.session, providers=payment_providers(app))
            finally:
                db.session.remove()
        if report.holds or report.offers:
            log.info("expired %d holds and %d waitlist offers", report.holds, report.offers)
        return {"holds": report.holds, "offers": report.offers, "failed": [t.tenant for t in report.failed]}

    @queue.periodic_task(crontab(minute="*"), name="decide_sessions")
    def decide_sessions_task() -> dict:
        with app.app_context():
            try:
                decided = decide_sessions_due(db.session)
            finally:
                db.session.remove()
        if decided.called_off or decided.cancelled_bookings:
            log.info("called off %d sessions below their minimum, cancelling %d bookings", decided.called_off, decided.cancelled_bookings)
        return {"confirmed": decided.confirmed, "called_off": decided.called_off, "cancelled_bookings": decided.cancelled_bookings, "failed": decided.failed}

    @queue.periodic_task(crontab(hour="4", minute="0"), name="purge_ended_logins")
    def purge_ended_logins_task() -> int:
        with app.app_context():
            try:
                purged = purge_ended_logins(db.session, now=utcnow())
            finally:
                db.session.remove()
        log.info("purged %d refresh tokens of ended logins", purged)
        return purged

    @queue.periodic_task(crontab(hour="3", minute="15"), name="hold_resources_due")
    def hold_resources_due_task() -> int:
        with app.app_context():
            try:
                held = hold_resources_due(db.session)
            finally:
                db.session.remove()
        log.info("%d scheduled slots now hold their resources", held)
        return held

    @queue.periodic_task(crontab(hour="3", minute="30"), name="expire_credits")
    def expire_credits_task() -> int:
        with app.app_context():
            try:
                written = expire_all_credits(db.session)
            finally:
                db.session.remove()
        log.info("wrote off %d expired class credit lots", written)
        return written

    @queue.periodic_task(crontab(minute="*"), name="emit_due_reminders")
    def emit_reminders_task() -> int:
        with app.app_context():
            try:
                emitted = emit_due_reminders(db.session)
            finally:
                db.session.remove()
        if emitted:
            log.info("emitted %d booking reminders", emitted)
        return emitted

    @queue.periodic_task(crontab(hour="4", minute="45"), name="erase_expired_customers")
    def erase_expired_task() -> dict:
        with app.app_context():
            try:
                report = erase_expired_customers(db.session, now=utcnow())
            finally:
                db.session.remove()
        if report.erased or report.blocked:
            log.info("retention erased %d customers; %d are still in progress", report.erased, report.blocked)
        return {"erased": report.erased, "blocked": report.blocked}

    checkpoint_task = None
    if app.config.get("AUDIT_SIGNING_KEY") and app.config.get("AUDIT_CHECKPOINTS"):
        minutes = checkpoint_minutes(app)

        @queue.periodic_task(crontab(minute=f"*/{minutes}"), name="audit_checkpoint")
        def checkpoint_task() -> int:
            with app.app_context():
                try:
                    return sign_checkpoints(app)
                finally:
                    db.session.remove()

    backup_task = None
    if app.config.get("BACKUP_AT"):
        hour, minute = app.config["BACKUP_AT"]

        @queue.periodic_task(crontab(hour=str(hour), minute=str(minute)), name="backup")
        def backup_task() -> str | None:
            backup = scheduled_backup(app, queue)
            return str(backup.path) if backup else None

    return JobQueue(
        queue,
        expire_due_task,
        purge_ended_logins_task,
        hold_resources_due_task,
        decide_sessions_task,
        expire_credits_task,
        emit_reminders_task,
        erase_expired_task,
        checkpoint_task,
        backup_task,
    )


def name_the_task_in_its_log_lines(queue: Huey) -> None:
    """Every record logged while a task of ``queue`` runs, Huey's own included, carries ``task`` (its name) and ``task_id``.

    Huey runs a task's pre-execute hooks, the task and its post-execute hooks in one consumer thread, so a
    context entered in the first and left in the last covers exactly the task's run.
    """
    entered: dict[str, Token[Any]] = {}

    @queue.pre_execute(name="yuyue_log_context")
    def _enter(task: Task) -> None:
        entered[task.id] = enter_log_context(task=task.name, task_id=task.id)

    @queue.post_execute(name="yuyue_log_context")
    def _leave(task: Task, value: object, error: BaseException | None) -> None:
        token = entered.pop(task.id, None)
        if token is not None:
            leave_log_context(token)


def checkpoint_minutes(app: Flask) -> int:
    """How often the worker signs checkpoints (``YUYUE_AUDIT_CHECKPOINT_MINUTES``, 15 by default): a whole number of minutes, 1-60."""
    minutes = app.config.get("AUDIT_CHECKPOINT_MINUTES", 15)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 60:
        raise ValueError(f"YUYUE_AUDIT_CHECKPOINT_MINUTES must be 1-60, not {minutes!r}")
    return minutes


def sign_checkpoints(app: Flask) -> int:
    """Append a signed checkpoint of every tenant's chain that moved to the configured file; the key is read on each run, so a new one needs no restart."""
    key = load_signing_key(app.config["AUDIT_SIGNING_KEY"])
    written = write_checkpoints(db.session, key, app.config["AUDIT_CHECKPOINTS"])
    if written:
        log.info("signed audit checkpoints of %d tenants", len(written))
    return len(written)


# The claim on a day's backup outlives the day, so a node whose clock runs late does not take it again.
BACKUP_CLAIM_SECONDS = 36 * 3600
# Who the operator audit chain names for what the worker does on its own (the day's backup).
WORKER_ACTOR = "worker"


def _claim_backup_day(queue: Huey, now: datetime) -> bool:
    """Claim ``now``'s day for this worker in the queue's storage; False when another worker claimed it first."""
    key = f"yuyue.backup.{now.date().isoformat()}"
    try:
        return queue.put_if_empty(key, "claimed", ttl=BACKUP_CLAIM_SECONDS)
    except NotImplementedError:  # SqliteHuey keeps no expiry: the claim of two days ago is read away instead
        queue.get(f"yuyue.backup.{(now.date() - timedelta(days=2)).isoformat()}")
        return queue.put_if_empty(key, "claimed")


def scheduled_backup(app: Flask, queue: Huey, *, now: datetime | None = None) -> Backup | None:
    """The day's backup into ``YUYUE_BACKUP_DIR``, keeping the newest ``YUYUE_BACKUP_KEEP``; None when another worker took today's.

    Every worker node runs the periodic task; the first to claim the day in the
    queue's storage (shared through Redis when several nodes run) backs up, the
    others skip. A failure is logged and raised, so Huey records it.
    """
    now = now or utcnow()
    if not _claim_backup_day(queue, now):
        log.info("the backup of %s was taken by another worker", now.date())
        return None
    directory = Path(app.config["BACKUP_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        try:
            backup = take_backup(db.engine, default_output(directory, now), now=now)
        except Exception:
            log.exception("the scheduled backup failed")
            raise
        finally:
            db.session.remove()
        try:
            record_backup(db.session, backup, actor=WORKER_ACTOR)
        except Exception:  # as `yuyue backup` does: the backup stands, unrecorded (a database that cannot be written to)
            log.exception("the backup %s is made, but the operator audit chain could not record it", backup.path)
        finally:
            db.session.remove()
    removed = prune_backups(directory, app.config.get("BACKUP_KEEP", 7))
    log.info("backed up %d rows to %s; removed %d older backups", backup.rows, backup.path, len(removed))
    return backup


# How long the pump sleeps when a round found nothing to fan out or send, and after a failed round.
PUMP_IDLE_SECONDS = 0.5
PUMP_ERROR_SECONDS = 5.0


class RushPacing:
    """While events keep being committed (customers booking), the pump works at most ``share`` of the time; otherwise flat out.

    Delivering is CPU work (rendering, TLS, signing) and, on SQLite, writes
    that queue with the bookings' for the one write lock: on a box that also
    serves the bookings it would take their throughput during a rush. Messages
    can wait a little; bookings cannot. After ``limit_seconds`` of pacing in a
    row the pump works flat out until a round sees no new event, so a day-long
    stream of bookings cannot hold the messages back for long.
    """

    def __init__(self, share: float, limit_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.share = share
        self.limit_seconds = limit_seconds
        self.clock = clock
        self._newest: int | None = None
        self._pacing_since: float | None = None

    def rest_after(self, worked_seconds: float, newest_event: int | None) -> float:
        """Seconds to rest after a busy round that took ``worked_seconds``, given the newest event id seen now."""
        arriving = self._newest is not None and newest_event is not None and newest_event > self._newest
        self._newest = newest_event
        if not arriving:
            self._pacing_since = None
            return 0.0
        now = self.clock()
        if self._pacing_since is None:
            self._pacing_since = now
        if self.share >= 1 or now - self._pacing_since > self.limit_seconds:
            return 0.0
        return worked_seconds * (1 / self.share - 1)


class OutboxPump:
    """Fans out committed events and sends due deliveries until stopped: a round right after a busy one, a short sleep after an idle one.

    The acknowledgement journal in the instance folder is folded when the pump
    starts (what a killed worker acknowledged becomes delivered before anything
    is claimed again) and before each claim round. While bookings are being
    made, :class:`RushPacing` makes it rest between rounds.
    """

    def __init__(
        self,
        app: Flask,
        subscribers: list[Subscriber] | None = None,
        *,
        idle_seconds: float = PUMP_IDLE_SECONDS,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        # Told "outbox_pump" when a round fails, as a job's failure is counted.
        self.on_failure = on_failure
        self.subscribers = subscribers if subscribers is not None else host_subscribers(app)
        self.idle_seconds = idle_seconds
        self.pacing = RushPacing(app.config.get("OUTBOX_RUSH_SHARE", 1.0), app.config.get("OUTBOX_RUSH_LIMIT_SECONDS", 600.0))
        self.journal = AcknowledgementJournal.in_folder(app.config["INSTANCE_PATH"])
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> tuple[int, int]:
        """One round: events fanned out and deliveries claimed."""
        fanned, claimed, _ = self._round()
        return fanned, claimed

    def _round(self) -> tuple[int, int, int | None]:
        with self.app.app_context():
            try:
                fanned = fan_out(db.session, self.subscribers)
                sent = send_due(db.session, self.subscribers, journal=self.journal)
                newest = newest_event_id(db.session)
            finally:
                db.session.remove()
        return fanned, sent.claimed, newest

    def run(self) -> None:
        """Pump until :meth:`stop`; a failing round (the database away) is logged and tried again a little later."""
        with self.app.app_context():
            try:
                self.journal.fold(db.session, self.subscribers)
            finally:
                db.session.remove()
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                fanned, claimed, newest = self._round()
            except Exception:
                log.exception("outbox pump round failed")
                if self.on_failure is not None:
                    self.on_failure("outbox_pump")
                self._stopping.wait(PUMP_ERROR_SECONDS)
                continue
            if not (fanned or claimed):
                self._stopping.wait(self.idle_seconds)
                continue
            rest = self.pacing.rest_after(time.monotonic() - started, newest)
            if rest:
                self._stopping.wait(rest)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="outbox-pump", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Ask the pump to stop after its current send and wait for it (a send in flight finishes and is recorded)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.journal.close()


def count_job_failures(queue: Huey, heartbeat: Heartbeat) -> None:
    """Have every task of ``queue`` that raises counted, by task name, in ``heartbeat`` (and so in ``/metrics``)."""

    @queue.signal(SIGNAL_ERROR)
    def _job_failed(signal: str, task: Task, *args: object, **kwargs: object) -> None:
        heartbeat.record_failure(task.name)


def beat_after_counts(queue: Huey, heartbeat: Heartbeat) -> None:
    """Have ``heartbeat`` beat soon after a task of ``queue`` counted something (a waiter offered a place), not up to a minute later."""

    @queue.signal(SIGNAL_COMPLETE)
    def _job_done(signal: str, task: Task, *args: object, **kwargs: object) -> None:
        heartbeat.beat_if_counted()


def run_worker(app: Flask, *, workers: int = 1) -> None:
    """Run the Huey consumer (periodic tasks included), the outbox pump and the heartbeat until SIGINT or SIGTERM."""
    queue = make_queue(app).huey
    heartbeat = Heartbeat(app, counts=worker_counts)
    count_job_failures(queue, heartbeat)
    beat_after_counts(queue, heartbeat)
    consumer = queue.create_consumer(workers=workers, periodic=True, check_worker_health=True)
    pump = OutboxPump(app, on_failure=heartbeat.record_failure)
    heartbeat.start()
    pump.start()
    try:
        consumer.run()
    finally:
        pump.stop()
        heartbeat.stop()
        log.info("outbox pump stopped")
