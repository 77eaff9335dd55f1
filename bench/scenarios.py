"""The benchmark scenarios: concurrent clients booking, a flash sale, several processes booking, an availability listing.

Each scenario runs once per call on an application whose database already
holds the ``bench`` tenant, and returns plain numbers; ``run.py`` repeats it
and summarises. A client is a thread with its own application context and
session that loads the tenant itself, as a request would
(``tests/bookings/test_booking_races.py`` does the same).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import event, func, select

from yuyue.bookings import operations as ops
from yuyue.bookings.models import Booking, BookingStatus
from yuyue.catalog.models import BookingType
from yuyue.catalog.operations import create_booking_type
from yuyue.db import db, tenant_scope, write_transaction
from yuyue.errors import DomainError
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant, get_tenant
from yuyue.scheduling.availability import list_availability
from yuyue.scheduling.inventory import inventory_row, take_capacity
from yuyue.scheduling.models import SlotInventory
from yuyue.scheduling.registry import current_registry
from yuyue.scheduling.slots import generate_slots

TENANT = "bench"
ZONE = ZoneInfo("Asia/Shanghai")
# A Wednesday with no holiday near it, booked a week ahead (the race tests' dates).
SLOT_DAY = date(2026, 12, 9)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZONE)
SLOT_START = datetime.combine(SLOT_DAY, clock(9), ZONE)
FORM = {"type": "object", "properties": {"name": {"type": "string", "x-field": "text", "minLength": 1}}, "required": ["name"]}
HOURLY_EVERY_DAY = {
    "type": "weekly_hours",
    "params": {
        "weekdays": {day: [{"start": "08:00", "end": "20:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        "slot_minutes": 60,
        "capacity": 50,
    },
}
RELEASED_A_WEEK_AHEAD = {"type": "booking_window", "params": {"opens_days_ahead": 7, "release_time": "17:00", "closes_minutes_before": 0}}
PROCESS_THREADS = 8

_names = itertools.count(1)


def new_phones(count: int) -> list[str]:
    """Phone numbers never used before in this run, so every booking makes a new customer."""
    return [f"138{next(_names):08d}" for _ in range(count)]


def create_bench_tenant(app: Flask) -> None:
    with app.app_context():
        create_tenant(db.session, plugin_host(), slug=TENANT, name="Bench", plugins={"exhibition": {}})
        db.session.remove()


def new_booking_type(app: Flask, kind: str, rules: list[dict[str, Any]]) -> str:
    """Create a booking type of its own for one run; returns its slug."""
    slug = f"{kind}-{next(_names)}"
    with app.app_context():
        tenant = get_tenant(db.session, TENANT)
        create_booking_type(
            db.session, plugin_host(), form_registry(), current_registry(), tenant,
            vertical="exhibition", slug=slug, name={"en": kind}, availability_rules=rules, policies={}, form=FORM, ui={"order": ["name"], "fields": {}},
        )  # fmt: skip
        db.session.remove()
    return slug


def one_window(capacity: int) -> list[dict[str, Any]]:
    return [{"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "11:00", "capacity": capacity}]}}]


def book_one(session, forms, tenant, slug: str, phone: str) -> str:
    """Book the 09:00 slot; the outcome is ``ok``, a refusal code, or the text of any other error."""
    try:
        ops.book(session, forms, tenant, booking_type_slug=slug, starts_at=SLOT_START, phone=phone, answers={"name": "Bench"}, now=NOW)
        return "ok"
    except DomainError as error:
        return error.code
    except Exception as error:  # "database is locked" and the like: counted, never hidden
        return f"{type(error).__name__}: {error}"
    finally:
        session.remove()


def run_clients(app: Flask, slug: str, phones_per_client: list[list[str]], before_start: Callable[[], None] = lambda: None) -> dict[str, Any]:
    """Each client books once per phone of its list, one after the other; all start together.

    ``before_start`` runs once every client is ready (connected, tenant loaded).
    Returns the start (``time.time()``), the wall time from it to the last
    answer, and every booking's latency, finish time from the start, and outcome.
    """
    origin: list[float] = []

    def start() -> None:
        before_start()
        origin.extend((time.time(), time.perf_counter()))

    barrier = threading.Barrier(len(phones_per_client), action=start)
    results: list[tuple[float, float, str]] = []
    lock = threading.Lock()

    def client(phones: list[str]) -> None:
        with app.app_context():
            tenant = get_tenant(db.session, TENANT)
            db.session.commit()
            forms = form_registry()
            barrier.wait()
            for phone in phones:
                before = time.perf_counter()
                outcome = book_one(db.session, forms, tenant, slug, phone)
                after = time.perf_counter()
                with lock:
                    results.append((after - before, after - origin[1], outcome))

    threads = [threading.Thread(target=client, args=(phones,)) for phones in phones_per_client]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "started": origin[0],
        "wall": max(finished for _, finished, _ in results),
        "latencies": [latency for latency, _, _ in results],
        "finished": [finished for _, finished, _ in results],
        "outcomes": [outcome for _, _, outcome in results],
    }


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def booking_numbers(done: dict[str, Any]) -> dict[str, float]:
    outcomes = Counter(done["outcomes"])
    return {
        "bookings_per_s": outcomes["ok"] / done["wall"],
        "p50_ms": percentile(done["latencies"], 0.50) * 1000,
        "p99_ms": percentile(done["latencies"], 0.99) * 1000,
        "errors": sum(count for outcome, count in outcomes.items() if outcome != "ok"),
        "error_kinds": sorted(outcome for outcome in outcomes if outcome != "ok"),
    }


def contended_booking(app: Flask, clients: int, bookings: int) -> dict[str, Any]:
    """``clients`` threads book ``bookings`` places of one slot with room for all of them."""
    slug = new_booking_type(app, "contended", one_window(capacity=bookings * 2))
    phones = new_phones(bookings)
    done = run_clients(app, slug, [phones[i::clients] for i in range(clients)])
    return booking_numbers(done)


def flash_sale(app: Flask, clients: int = 64, capacity: int = 20) -> dict[str, Any]:
    """``clients`` threads race for a slot of ``capacity`` places, one attempt each."""
    slug = new_booking_type(app, "flash", one_window(capacity=capacity))
    done = run_clients(app, slug, [[phone] for phone in new_phones(clients)])
    outcomes = Counter(done["outcomes"])
    sales = sorted(finished for finished, outcome in zip(done["finished"], done["outcomes"], strict=True) if outcome == "ok")
    with app.app_context():
        tenant = get_tenant(db.session, TENANT)
        with tenant_scope(tenant.id):
            type_id = db.session.scalar(select(BookingType.id).where(BookingType.slug == slug))
            taken = db.session.scalar(select(SlotInventory.taken).where(SlotInventory.booking_type_id == type_id))
            confirmed = db.session.scalar(
                select(func.count()).select_from(Booking).where(Booking.booking_type_id == type_id, Booking.status == BookingStatus.confirmed)
            )
        db.session.remove()
    return {
        "sold_out_ms": sales[-1] * 1000 if len(sales) == capacity else float("nan"),
        "all_answered_ms": done["wall"] * 1000,
        "sold": outcomes["ok"],
        "refused": outcomes["slot_full"],
        "errors": clients - outcomes["ok"] - outcomes["slot_full"],
        "exactly_sold": outcomes["ok"] == taken == confirmed == capacity,
    }


def processes_booking(app: Flask, url: str, processes: int, bookings: int) -> dict[str, Any]:
    """``processes`` × ``PROCESS_THREADS`` clients book ``bookings`` places of one roomy slot (see ``worker.py``)."""
    slug = new_booking_type(app, "processes", one_window(capacity=bookings * 2))
    per_process = bookings // processes
    with tempfile.TemporaryDirectory(prefix="yuyue-bench-") as folder:
        go = Path(folder) / "go"
        workers = []
        for _ in range(processes):
            phones = ",".join(new_phones(per_process))
            command = [sys.executable, str(Path(__file__).with_name("worker.py")), url, folder, slug, str(PROCESS_THREADS), phones]
            workers.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        # Every process has imported yuyue and connected before the start signal.
        while len(list(Path(folder).glob("ready-*"))) < processes and all(worker.poll() is None for worker in workers):
            time.sleep(0.02)
        go.touch()
        reports = []
        for worker in workers:
            out, err = worker.communicate(timeout=600)
            if worker.returncode != 0:
                raise RuntimeError(f"a booking process failed:\n{err[-3000:]}")
            reports.append(json.loads(out.strip().splitlines()[-1]))
    start = min(report["started"] for report in reports)
    done = {
        "wall": max(report["ended"] for report in reports) - start,
        "latencies": [latency for report in reports for latency in report["latencies"]],
        "outcomes": [outcome for report in reports for outcome in report["outcomes"]],
    }
    return booking_numbers(done)


def availability(app: Flask, calls: int, days: int = 31) -> dict[str, Any]:
    """List ``days`` days of hourly slots (08:00–20:00) ``calls`` times, with every third slot's inventory row present."""
    slug = new_booking_type(app, "availability", [HOURLY_EVERY_DAY, RELEASED_A_WEEK_AHEAD])
    first_day, last_day = SLOT_DAY, SLOT_DAY + timedelta(days=days - 1)
    with app.app_context():
        tenant = get_tenant(db.session, TENANT)
        with tenant_scope(tenant.id):
            booking_type = db.session.scalar(select(BookingType).where(BookingType.slug == slug))
            slots = generate_slots(booking_type.availability_rules, ZONE, first_day, last_day)
            with write_transaction(db.session):
                for n, slot in enumerate(slots[::3]):
                    row = inventory_row(db.session, booking_type, slot, "default")
                    take_capacity(db.session, row.id, 50 if n % 10 == 0 else 1 + n % 40)  # some full
            db.session.commit()

            statements = []
            count = lambda *args: statements.append(args[2])  # noqa: E731 - the listener's only job
            event.listen(db.engine, "before_cursor_execute", count)
            try:
                listed = list_availability(db.session, booking_type, ZONE, first_day, last_day, NOW)
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
            db.session.commit()

            timings = []
            for _ in range(calls):
                before = time.perf_counter()
                list_availability(db.session, booking_type, ZONE, first_day, last_day, NOW)
                timings.append(time.perf_counter() - before)
                db.session.commit()  # a request per call: its own read transaction
        db.session.remove()
    return {
        "slots": len(listed),
        "inventory_rows": len(slots[::3]),
        "median_ms": percentile(timings, 0.5) * 1000,
        "statements": len(statements),
    }
