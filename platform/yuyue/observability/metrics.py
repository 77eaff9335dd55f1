"""Prometheus metrics: the counters the application increments, and one scrape of them in the text format.

Under gunicorn each worker is a process of its own, so the values live in
prometheus-client's multiprocess files in ``PROMETHEUS_MULTIPROC_DIR`` (set up by
``yuyue serve``'s gunicorn configuration, ``gunicorn_config.py``) and a scrape sums
every worker's. Without that variable (tests, ``flask run``) they live in this process.
What the database knows (outbox lag, job failures, the worker's heartbeat) is
read at scrape time by :class:`DatabaseCollector`, so every node reports the same.
``yuyue worker`` counts in a process no scrape reads, maybe on another machine:
its heartbeat row carries its values (:func:`worker_counts`), shown at scrape
time beside the app's own as series labelled ``source="worker"`` (:func:`merge_worker_counts`).
Labels are bounded: a route's template, never its path; a known method or ``OTHER``; no tenant.
What happens inside a caller's transaction (a waitlist promotion) is counted once it commits.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

from flask import Flask, g, request, request_finished, request_started
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from yuyue.audit.state import made_inside
from yuyue.db import all_tenants
from yuyue.events.models import Delivery, DeliveryStatus, OutboxEvent
from yuyue.observability.heartbeat import WorkerCounts, WorkerHeartbeat
from yuyue.types import utcnow

__all__ = [
    "CONTENT_TYPE",
    "MULTIPROC_ENV",
    "init_request_metrics",
    "merge_worker_counts",
    "record_booking_placed",
    "record_booking_refused",
    "record_rate_limited",
    "record_waitlist_booking",
    "record_waitlist_offer",
    "scrape",
    "worker_counts",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The classic text format every Prometheus reads (generate_latest writes it; newer clients call it version 1.0.0).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# The route label of a request no URL rule matched (a 404, a probe): one value, however many paths are tried.
UNMATCHED_ROUTE = "<unmatched>"
# A *_created series per label set doubles the output for nothing a dashboard reads (multiprocess mode writes none either).
disable_created_metrics()
METRICS_ENDPOINT = "metrics"
# Any token is a method to HTTP; a client inventing one per request must not invent a series per request.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter("yuyue_http_requests", "HTTP requests answered, by route template, method and status.", ["route", "method", "status"])
HTTP_LATENCY = Histogram(
    "yuyue_http_request_duration_seconds",
    "Time from the request's dispatch to its response, by route template.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BOOKINGS_PLACED = Counter("yuyue_bookings_placed", "Bookings placed (held or confirmed); idempotent retries are not counted again.")
BOOKINGS_REFUSED = Counter("yuyue_bookings_refused", "Booking requests refused, by problem code (slot_full, validation_failed, ...).", ["code"])
SEATS_TAKEN = Counter("yuyue_capacity_taken_seats", "Places taken in slot inventories by placed bookings (party sizes summed).")
WAITLIST_OFFERS = Counter("yuyue_waitlist_offers", "Freed places offered to the next waiter for a limited time.")
WAITLIST_BOOKINGS = Counter("yuyue_waitlist_bookings", "Bookings placed for waiters, by how: at once (they asked for it) or an offer accepted.", ["how"])
RATE_LIMITED = Counter("yuyue_rate_limited", "Requests refused with 429 by a rate limit, by the limit's setting name.", ["limit"])
# What `yuyue worker` counts (a waiter promoted after an expired hold or offer): carried in its heartbeat row to the
# scrapes, and shown there as series of their own with this label, since every app node shows the same ones.
WORKER_COUNTERS = (WAITLIST_OFFERS, WAITLIST_BOOKINGS)
WORKER_SOURCE_LABEL = "source"

# Read from the database at scrape time (DatabaseCollector).
OUTBOX_LAG = "yuyue_outbox_lag_seconds"
OUTBOX_BACKLOG = "yuyue_outbox_backlog"
JOB_FAILURES = "yuyue_job_failures"
HEARTBEAT_AGE = "yuyue_worker_heartbeat_age_seconds"


def record_booking_placed(seats: int) -> None:
    BOOKINGS_PLACED.inc()
    SEATS_TAKEN.inc(seats)


def record_booking_refused(code: str) -> None:
    BOOKINGS_REFUSED.labels(code=code).inc()


def record_waitlist_offer(session: Session | scoped_session) -> None:
    """Count an offer made in ``session``'s transaction, once that commits."""
    _count_on_commit(session, WAITLIST_OFFERS.inc)


def record_waitlist_booking(session: Session | scoped_session, how: Literal["at_once", "offer_accepted"]) -> None:
    """Count a booking placed for a waiter in ``session``'s transaction, once that commits."""
    _count_on_commit(session, WAITLIST_BOOKINGS.labels(how=how).inc)


# Counts waiting for their transaction: (the savepoint they were made in, None outside one; the count).
_PENDING = "yuyue.metrics.pending"


def _count_on_commit(session: Session | scoped_session, count: Callable[[], None]) -> None:
    """Run ``count`` when ``session`` commits; a rollback (a later step refused, a race lost) forgets it."""
    if isinstance(session, scoped_session):
        session = session()
    session.info.setdefault(_PENDING, []).append((session.get_nested_transaction(), count))


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for _, count in session.info.pop(_PENDING, ()):
        count()


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, rolled_back: SessionTransaction) -> None:
    if not rolled_back.nested:
        session.info.pop(_PENDING, None)
    elif _PENDING in session.info:
        session.info[_PENDING] = [(savepoint, count) for savepoint, count in session.info[_PENDING] if not made_inside(savepoint, rolled_back)]


def record_rate_limited(limit: str) -> None:
    RATE_LIMITED.labels(limit=limit).inc()


# -- requests ---------------------------------------------------------------------------------------


def _request_started(sender: Flask, **extra: Any) -> None:
    g.metrics_started = time.perf_counter()


def _request_finished(sender: Flask, response: Any, **extra: Any) -> None:
    if request.endpoint == METRICS_ENDPOINT:
        return  # a scrape does not count itself
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
    method = request.method if request.method in KNOWN_METHODS else "OTHER"
    HTTP_REQUESTS.labels(route=route, method=method, status=str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        HTTP_LATENCY.labels(route=route).observe(time.perf_counter() - started)


def init_request_metrics(app: Flask) -> None:
    """Count every request ``app`` answers, by route template, method and status, and time it.

    Flask's signals rather than before/after-request functions: ``request_started`` is
    sent before any before-request function (one of which may answer early) and
    ``request_finished`` after every after-request function, with the final status.
    """
    request_started.connect(_request_started, app, weak=False)
    request_finished.connect(_request_finished, app, weak=False)


# -- scraping ---------------------------------------------------------------------------------------


class DatabaseCollector(Collector):
    """Metrics read from the database on each scrape, the same on every node: outbox lag and backlog, job failures, the heartbeat's age."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[Metric]:
        now = utcnow()
        with all_tenants():
            oldest_event = self.session.scalar(select(func.min(OutboxEvent.created_at)).where(OutboxEvent.delivered_at.is_(None)))
            waiting_events = self.session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.delivered_at.is_(None)))
            waiting = (DeliveryStatus.pending, DeliveryStatus.sending)
            oldest_delivery = self.session.scalar(select(func.min(Delivery.created_at)).where(Delivery.status.in_(waiting)))
            waiting_deliveries = self.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status.in_(waiting)))
        beats = self.session.scalars(select(WorkerHeartbeat)).all()
        self.session.commit()
        oldest = min((t for t in (oldest_event, oldest_delivery) if t is not None), default=None)
        lag = GaugeMetricFamily(OUTBOX_LAG, "Age of the oldest event not yet fanned out or delivery not yet sent (0: nothing waits).")
        lag.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        yield lag
        backlog = GaugeMetricFamily(OUTBOX_BACKLOG, "Events not yet fanned out and deliveries not yet sent.", labels=["stage"])
        backlog.add_metric(["events"], waiting_events or 0)
        backlog.add_metric(["deliveries"], waiting_deliveries or 0)
        yield backlog
        failures = CounterMetricFamily(JOB_FAILURES, "Background job runs that raised, by task, summed over the workers' heartbeats.", labels=["task"])
        for task, count in sorted(_failures_by_task(beats).items()):
            failures.add_metric([task], count)
        yield failures
        age = GaugeMetricFamily(HEARTBEAT_AGE, "Seconds since the most recent worker heartbeat (absent: no worker seen).")
        if beats:
            age.add_metric([], (now - max(beat.seen_at for beat in beats)).total_seconds())
        yield age


def _failures_by_task(beats: Iterable[WorkerHeartbeat]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for beat in beats:
        for task, count in (beat.job_failures or {}).items():
            totals[task] = totals.get(task, 0) + int(count)
    return totals


def worker_counts() -> WorkerCounts:
    """This process's values of :data:`WORKER_COUNTERS`, for the worker's heartbeat row.

    Nothing when this process writes multiprocess files: a scrape reading the same
    folder sums them already, and the heartbeat would count them a second time.
    """
    if os.environ.get(MULTIPROC_ENV):
        return {}
    counts: WorkerCounts = {}
    for counter in WORKER_COUNTERS:
        for family in counter.collect():
            samples = [{"labels": s.labels, "value": s.value} for s in family.samples if s.name == f"{family.name}_total" and s.value]
            if samples:
                counts[family.name] = samples
    return counts


# Only counters this release knows are merged: a row of a newer worker may carry one it has no help text for.
_WORKER_FAMILIES = {family.name: family.documentation for counter in WORKER_COUNTERS for family in counter.describe()}

_LabelSet = tuple[tuple[str, str], ...]


def merge_worker_counts(families: Iterable[Metric], beats: Iterable[WorkerCounts]) -> Iterator[Metric]:
    """``families`` (the app's own) with the workers' counts beside them, labelled ``source="worker"``: one family per name.

    Beside, not added in: every app node reads the same heartbeat rows, so a sum over
    the nodes must take the workers' series once (``max``), as with the other values
    read from the database, while it sums the nodes' own. A counter only the workers
    counted (a multiprocess scrape shows a labelled counter only once an app process
    used it) becomes a family of its own.
    """
    from_workers = _sum_worker_counts(beats)
    for family in families:
        extra = from_workers.pop(family.name, None)
        yield family if extra is None else _with_counts(family, extra)
    for name, extra in sorted(from_workers.items()):
        yield _with_counts(Metric(name, _WORKER_FAMILIES[name], "counter"), extra)


def _sum_worker_counts(beats: Iterable[WorkerCounts]) -> dict[str, dict[_LabelSet, float]]:
    totals: dict[str, dict[_LabelSet, float]] = {}
    for counts in beats:
        for name, samples in (counts or {}).items():
            if name not in _WORKER_FAMILIES:
                continue
            by_labels = totals.setdefault(name, {})
            for sample in samples:
                key = tuple(sorted(sample["labels"].items()))
                by_labels[key] = by_labels.get(key, 0.0) + float(sample["value"])
    return totals


def _with_counts(family: Metric, extra: dict[_LabelSet, float]) -> Metric:
    merged = Metric(family.name, family.documentation, family.type, family.unit)
    for sample in family.samples:
        merged.add_sample(sample.name, sample.labels, sample.value, sample.timestamp, sample.exemplar)
    for labels, value in sorted(extra.items()):
        merged.add_sample(f"{family.name}_total", {**dict(labels), WORKER_SOURCE_LABEL: "worker"}, value)
    return merged


class _WithWorkerCounts(Collector):
    """The app's own metrics (``own``) with the counts of the workers' heartbeat rows added in."""

    def __init__(self, own: Collector, session: Session) -> None:
        self.own = own
        self.session = session

    def collect(self) -> Iterator[Metric]:
        beats = self.session.scalars(select(WorkerHeartbeat.counts)).all()
        self.session.commit()
        yield from merge_worker_counts(self.own.collect(), beats)


class _ProcessCollector(Collector):
    """This process's own registry, when there are no multiprocess files to read."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape(session: Session) -> bytes:
    """Every metric in the Prometheus text format: summed over gunicorn's workers' files, or this process's; with what each ``yuyue worker`` counted."""
    registry = CollectorRegistry(auto_describe=False)
    folder = os.environ.get(MULTIPROC_ENV)
    own: Collector = multiprocess.MultiProcessCollector(None, path=folder) if folder else _ProcessCollector()
    registry.register(_WithWorkerCounts(own, session))
    registry.register(DatabaseCollector(session))
    return generate_latest(registry)
