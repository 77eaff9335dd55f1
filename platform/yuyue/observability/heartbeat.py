"""The worker's heartbeat: a row per running ``yuyue worker`` that it rewrites every minute, with the failures of its jobs and its counts.

A row in the database rather than a file or a Redis key, so readiness on any
app node sees a worker running on any other, whatever the installation runs on.
The failures are counted per task since the worker started; ``/metrics`` sums
them over the rows (:class:`yuyue.observability.metrics.DatabaseCollector`).
The counts are the worker's values of the application's counters it increments
(a waiter offered a place an expired hold freed), which ``/metrics`` shows beside the
app's own as ``source="worker"`` series (:func:`yuyue.observability.metrics.merge_worker_counts`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import JSON, String, delete, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from yuyue.db import Model, db, write_transaction
from yuyue.types import UTCDateTime, utcnow

__all__ = ["HEARTBEAT_SECONDS", "Heartbeat", "WorkerCounts", "WorkerHeartbeat", "newest_heartbeat"]

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 60.0
# After a beat that failed, the next is tried this soon, not a minute later.
RETRY_SECONDS = 5.0
# A worker whose row is older than this is taken for gone: three beats missed.
FRESH_FOR = timedelta(seconds=3 * HEARTBEAT_SECONDS)
# Rows of workers gone this long are removed by the next worker that beats (their failures leave the sum: a counter reset).
FORGET_AFTER = timedelta(days=1)

# Counter family name → its samples in this worker, each {"labels": {...}, "value": n}: what prometheus-client's registry holds.
WorkerCounts = dict[str, list[dict[str, Any]]]


class WorkerHeartbeat(Model):
    """The last sign of life of one worker process; installation-wide, so not tenant-scoped."""

    __tablename__ = "worker_heartbeats"

    # host:pid:random, unique for the process's whole life even when a pid is reused.
    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # task name → how many of its runs raised since this worker started
    job_failures: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # the application's counters this worker incremented since it started (WorkerCounts)
    counts: Mapped[WorkerCounts] = mapped_column(JSON, default=dict, server_default=text("'{}'"))


def newest_heartbeat(session: Session) -> datetime | None:
    """When any worker last beat; None when none ever did (or every row was forgotten)."""
    return session.scalar(select(WorkerHeartbeat.seen_at).order_by(WorkerHeartbeat.seen_at.desc()).limit(1))


def is_fresh(seen_at: datetime | None, now: datetime | None = None) -> bool:
    return seen_at is not None and (now or utcnow()) - seen_at <= FRESH_FOR


class Heartbeat:
    """Writes this worker's row at start, every :data:`HEARTBEAT_SECONDS`, and soon after a job fails or counted something.

    :meth:`record_failure` is called from the job threads (Huey's error signal) and
    only counts; the beating thread writes, so a failure caused by the database
    being away does not fail a second time in the signal handler. ``counts`` reads
    the worker's counters for the row (:func:`yuyue.observability.metrics.worker_counts`);
    without it the row carries none.
    """

    def __init__(self, app: Flask, *, interval: float = HEARTBEAT_SECONDS, counts: Callable[[], WorkerCounts] | None = None) -> None:
        self.app = app
        self.interval = interval
        self.counts = counts
        self._written_counts: WorkerCounts = {}
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.started_at = utcnow()
        self._failures: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def record_failure(self, task: str) -> None:
        with self._lock:
            self._failures[task] += 1
        self._wake.set()

    def beat_if_counted(self) -> None:
        """Beat soon when the counts moved since the last beat (a job offered a waiter a place), so a scrape sees them in seconds, not a minute."""
        if self.counts is not None and self.counts() != self._written_counts:
            self._wake.set()

    def beat(self) -> None:
        """Write this worker's row now (and forget rows of workers long gone)."""
        with self._lock:
            failures = dict(self._failures)
        counts = self.counts() if self.counts is not None else {}
        now = utcnow()
        with self.app.app_context():
            try:
                # A writer from the start: on SQLite a read that turns into a write fails at once ("database is
                # locked") while another writer works, where a write transaction waits its turn.
                with write_transaction(db.session) as session:
                    row = session.get(WorkerHeartbeat, self.worker_id)
                    if row is None:
                        row = WorkerHeartbeat(worker_id=self.worker_id, started_at=self.started_at, seen_at=now, job_failures=failures, counts=counts)
                        session.add(row)
                    else:
                        row.seen_at, row.job_failures, row.counts = now, failures, counts
                    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.seen_at < now - FORGET_AFTER))
            finally:
                db.session.remove()
        self._written_counts = counts

    def run(self) -> None:
        while not self._stopping.is_set():
            wait = self.interval
            try:
                self.beat()
            except Exception:  # the database away or busy (SQLite while the demo seeds): readiness says so until a beat lands
                log.exception("writing the worker heartbeat failed")
                wait = min(self.interval, RETRY_SECONDS)
            self._wake.wait(wait)
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
