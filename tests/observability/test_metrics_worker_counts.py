"""What ``yuyue worker`` counts reaches /metrics: its heartbeat row carries its counters, and a scrape adds them to the app's own.

The worker promotes waiters when a hold or an offer runs out, in a process no
scrape reads (maybe on another machine); the test process stands for the app.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

from observability_setup import slot
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from sqlalchemy import create_engine, inspect, select, text, update

from yuyue import migrate
from yuyue.bookings.models import WaitlistEntry
from yuyue.db import all_tenants, write_transaction
from yuyue.observability.heartbeat import FORGET_AFTER, Heartbeat, WorkerHeartbeat
from yuyue.observability.metrics import MULTIPROC_ENV, merge_worker_counts, record_waitlist_booking, record_waitlist_offer, worker_counts
from yuyue.sealing import KEY_FILE
from yuyue.types import utcnow

OFFERS = "yuyue_waitlist_offers"
BOOKINGS = "yuyue_waitlist_bookings"


class Merged(Collector):
    def __init__(self, families: list[Metric], beats: list[dict]) -> None:
        self.families, self.beats = families, beats

    def collect(self) -> Iterator[Metric]:
        return merge_worker_counts(self.families, self.beats)


def exposition(families: list[Metric], beats: list[dict]) -> list[Metric]:
    """The app's ``families`` merged with the heartbeats' counts, written in the text format and parsed back as Prometheus reads it."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Merged(families, beats))
    return list(text_string_to_metric_families(generate_latest(registry).decode()))


def bookings_for_waiters(**values: float) -> CounterMetricFamily:
    family = CounterMetricFamily(BOOKINGS, "the app's", labels=["how"])
    for how, value in values.items():
        family.add_metric([how], value)
    return family


def sample(value: float, **labels: str) -> dict:
    return {"labels": labels, "value": value}


def values(families: list[Metric], name: str) -> dict[tuple, float]:
    [family] = [f for f in families if f.name == name]
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples if s.name == f"{name}_total"}


def test_the_workers_counts_are_summed_per_label_set_beside_the_apps_own_in_one_family_per_name():
    beats = [{BOOKINGS: [sample(3, how="at_once"), sample(1, how="offer_accepted")]}, {BOOKINGS: [sample(4, how="offer_accepted")]}]

    parsed = exposition([bookings_for_waiters(at_once=2)], beats)

    assert [family.name for family in parsed] == [BOOKINGS]
    # Beside, not added in: every app node shows the same workers' series, which a sum over the nodes takes once (max).
    assert values(parsed, BOOKINGS) == {
        (("how", "at_once"),): 2,
        (("how", "at_once"), ("source", "worker")): 3,
        (("how", "offer_accepted"), ("source", "worker")): 5,
    }


def test_a_counter_only_the_workers_counted_becomes_a_family_with_its_help_text():
    parsed = exposition([bookings_for_waiters(at_once=2)], [{OFFERS: [sample(3)]}])

    assert sorted(family.name for family in parsed) == [BOOKINGS, OFFERS]
    [offers] = [family for family in parsed if family.name == OFFERS]
    assert (offers.type, offers.documentation) == ("counter", "Freed places offered to the next waiter for a limited time.")
    assert values(parsed, OFFERS) == {(("source", "worker"),): 3}


def test_a_counter_this_release_does_not_know_is_left_out_of_the_merge():
    parsed = exposition([bookings_for_waiters(at_once=2)], [{"yuyue_something_newer": [sample(7)]}])

    assert [family.name for family in parsed] == [BOOKINGS]


def test_the_heartbeat_writes_this_processs_waitlist_counters_as_the_registry_holds_them(app, session):
    with write_transaction(session):
        record_waitlist_offer(session)
        record_waitlist_booking(session, "at_once")
    heartbeat = Heartbeat(app, counts=worker_counts)

    heartbeat.beat()

    counts = session.get(WorkerHeartbeat, heartbeat.worker_id).counts
    assert counts == worker_counts()
    [offers] = counts[OFFERS]
    assert offers["labels"] == {} and offers["value"] >= 1
    assert {s["labels"]["how"] for s in counts[BOOKINGS]} >= {"at_once"}


def test_a_worker_writing_multiprocess_files_reports_no_counts_through_its_heartbeat(session, monkeypatch, tmp_path):
    with write_transaction(session):
        record_waitlist_offer(session)
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))

    assert worker_counts() == {}


def test_a_count_wakes_the_heartbeat_to_beat_within_seconds(app, session):
    heartbeat = Heartbeat(app, interval=3600, counts=worker_counts)
    heartbeat.start()
    try:
        with write_transaction(session):
            record_waitlist_offer(session)
        heartbeat.beat_if_counted()
        deadline = time.monotonic() + 10
        while (row := _row(session, heartbeat)) is None or row.counts != worker_counts():
            assert time.monotonic() < deadline, "the heartbeat did not beat after a count"
            time.sleep(0.1)
    finally:
        heartbeat.stop()


def _row(session, heartbeat: Heartbeat) -> WorkerHeartbeat | None:
    row = session.scalar(select(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == heartbeat.worker_id).execution_options(populate_existing=True))
    session.commit()
    return row


def test_metrics_add_another_workers_heartbeat_counts_to_the_apps_and_name_each_family_once(client, session, scrape):
    before = scrape(client)
    _worker_row(session, "elsewhere:1:a", {OFFERS: [sample(3)], BOOKINGS: [sample(2, how="at_once")]}, seen=utcnow())

    after = scrape(client)

    assert after.value(f"{OFFERS}_total", source="worker") - before.value(f"{OFFERS}_total", source="worker") == 3
    assert after.value(f"{BOOKINGS}_total", how="at_once", source="worker") - before.value(f"{BOOKINGS}_total", how="at_once", source="worker") == 2
    names = [family.name for family in text_string_to_metric_families(after.body)]
    assert len(names) == len(set(names))
    assert after.body.count(f"# TYPE {OFFERS}_total counter") + after.body.count(f"# TYPE {OFFERS} counter") == 1


def test_a_forgotten_workers_counts_leave_the_sum(app, client, session, scrape):
    before = scrape(client).value(f"{OFFERS}_total")
    _worker_row(session, "gone:1:a", {OFFERS: [sample(5)]}, seen=utcnow() - FORGET_AFTER - timedelta(minutes=1))
    assert scrape(client).value(f"{OFFERS}_total") - before == 5

    Heartbeat(app).beat()

    assert scrape(client).value(f"{OFFERS}_total") == before


def _worker_row(session, worker_id: str, counts: dict, *, seen) -> None:
    with write_transaction(session):
        session.add(WorkerHeartbeat(worker_id=worker_id, started_at=seen, seen_at=seen, job_failures={}, counts=counts))


def test_an_offer_the_worker_passes_on_after_one_ran_out_is_counted_on_the_apps_metrics(
    app, client, museum, guest_books, signed_in_customer, session, scrape, database_url, tmp_path
):
    alice, bob, carol = (signed_in_customer(n, tenant="museum") for n in (1, 2, 3))
    assert guest_books(party_size=3, n=9).status_code == 201
    placed = alice.post("/api/v1/t/museum/bookings", json={"booking_type": "entry", "starts_at": slot(9), "answers": {"name": "A"}, "phone": "13800000001"})
    assert placed.status_code == 201, placed.get_json()
    wait = {"booking_type": "entry", "starts_at": slot(9), "answers": {"name": "Waiter"}}
    offered_to_bob = bob.post("/api/v1/t/museum/waitlist", json=wait).get_json()["id"]
    carols = carol.post("/api/v1/t/museum/waitlist", json=wait).get_json()["id"]
    assert alice.post(f"/api/v1/t/museum/bookings/{placed.get_json()['id']}/cancel").status_code == 200  # one place: bob's offer
    with all_tenants(), write_transaction(session):
        session.execute(update(WaitlistEntry).where(WaitlistEntry.id == offered_to_bob).values(offer_expires_at=utcnow() - timedelta(minutes=1)))
    before = scrape(client).value(f"{OFFERS}_total")

    worker = _start_worker(database_url, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while (offers := scrape(client).value(f"{OFFERS}_total")) == before and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stdout.read()
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGINT)
        output, _ = worker.communicate(timeout=30)

    assert offers - before == 1, output
    assert scrape(client).value(f"{OFFERS}_total", source="worker") == 1  # the worker counted it, not this process
    with all_tenants():
        assert session.scalar(select(WaitlistEntry.status).where(WaitlistEntry.id == carols)).value == "offered"


def _start_worker(database_url: str, tmp_path) -> subprocess.Popen:
    env = {
        **{name: value for name, value in os.environ.items() if name != MULTIPROC_ENV},
        "YUYUE_DATABASE_URL": database_url,
        "YUYUE_INSTANCE_PATH": str(tmp_path / "worker"),
        "YUYUE_SECRET_KEY": "test",
        "YUYUE_SECRETS_KEY": (tmp_path / KEY_FILE).read_text().strip(),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    command = [sys.executable, "-m", "yuyue", "worker"]
    return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_migration_0029_gives_the_heartbeats_empty_counts_and_takes_them_away_keeping_the_rows(own_database_url):
    engine = create_engine(own_database_url)
    try:
        migrate.upgrade(engine, "0028")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO worker_heartbeats (worker_id, started_at, seen_at, job_failures) VALUES ('old:1:a', :now, :now, :failures)"),
                {"now": "2026-01-01 00:00:00.000000+00:00", "failures": json.dumps({"expire_due": 1})},
            )

        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert [json.loads(c) if isinstance(c, str) else c for (c,) in connection.execute(text("SELECT counts FROM worker_heartbeats"))] == [{}]
        assert migrate.pending_model_changes(engine) == []

        migrate.downgrade(engine, "0028")
        assert "counts" not in {column["name"] for column in inspect(engine).get_columns("worker_heartbeats")}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT worker_id FROM worker_heartbeats")).scalars().all() == ["old:1:a"]
    finally:
        engine.dispose()
