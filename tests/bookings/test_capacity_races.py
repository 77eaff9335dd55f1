"""Parties of 1–6 racing for places by headcount, under slot capacities and a daily cap, on SQLite and PostgreSQL.

The units of the bookings that succeeded never exceed a limit and always equal
what the slot's and the day's rows say is taken; cancellations and moves racing
each other (a reschedule A→B against one B→A included) lose no unit and never
fail with anything but a booking rule's code.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from booking_setup import NOW, SLOT_DAY, at, make_booking_type, make_tenant, phone
from sqlalchemy import func, select

from yuyue.bookings import operations as ops
from yuyue.bookings.models import ACTIVE_STATUSES, Booking
from yuyue.db import db, tenant_scope
from yuyue.errors import DomainError
from yuyue.forms.registry import form_registry
from yuyue.provisioning.operations import get_tenant
from yuyue.scheduling.models import DayInventory, SlotInventory

NEXT_DAY = SLOT_DAY + timedelta(days=1)


def race(app, count: int, attempt) -> tuple[Counter, dict[int, object]]:
    """Run ``attempt(tenant, i)`` in ``count`` threads released at once; outcomes by code, and what each success returned."""
    barrier = threading.Barrier(count)
    outcomes: Counter = Counter()
    results: dict[int, object] = {}
    lock = threading.Lock()

    def run(i: int) -> None:
        with app.app_context():
            tenant = get_tenant(db.session, "museum")
            db.session.commit()
            barrier.wait()
            result = None
            try:
                result = attempt(tenant, i)
                outcome = "ok"
            except DomainError as error:
                outcome = error.code
            except Exception as error:  # a failure the test reports
                outcome = f"{type(error).__name__}: {error}"
            finally:
                db.session.remove()
        with lock:
            outcomes[outcome] += 1
            if outcome == "ok":
                results[i] = result

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return outcomes, results


@pytest.fixture
def tenant(session):
    return make_tenant(session)


def windows_of(capacity: int, *spans: tuple[str, str], day_cap: int | None = None) -> list[dict]:
    rules = [{"type": "fixed_windows", "params": {"windows": [{"start": s, "end": e, "capacity": capacity} for s, e in spans]}}]
    if day_cap is not None:
        rules.append({"type": "daily_cap", "params": {"capacity": day_cap}})
    return rules


def counters(session, tenant) -> tuple[dict, dict, dict]:
    """Taken by slot row, taken by day row, and the units of the active bookings by slot start."""
    with tenant_scope(tenant.id):
        slots = dict(session.execute(select(SlotInventory.starts_at, SlotInventory.taken).execution_options(populate_existing=True)).all())
        days = dict(session.execute(select(DayInventory.local_date, DayInventory.taken).where(DayInventory.scope == "*")).all())
        sold = dict(
            session.execute(
                select(Booking.starts_at, func.sum(Booking.party_size)).where(Booking.status.in_(ACTIVE_STATUSES)).group_by(Booking.starts_at)
            ).all()
        )
    session.commit()
    return slots, days, sold


def book(tenant, starts_at, n: int, i: int):
    return ops.book(
        db.session, form_registry(), tenant, booking_type_slug="entry", starts_at=starts_at, phone=phone(i), answers={"name": f"P{i}"}, party_size=n, now=NOW
    )


def test_64_threads_booking_parties_into_100_places_never_sell_more_than_100(app, session, tenant):
    make_booking_type(session, tenant, vertical="course", rules=windows_of(100, ("09:00", "11:00")), max_party_size=6)
    sizes = [random.Random(11 + i).randint(1, 6) for i in range(64)]

    outcomes, results = race(app, 64, lambda tenant, i: book(tenant, at(9), sizes[i], i).party_size)

    assert set(outcomes) <= {"ok", "slot_full"}, outcomes
    sold = sum(results.values())
    slots, _, by_start = counters(session, tenant)
    assert sold <= 100
    assert slots[at(9)] == by_start[at(9)] == sold
    assert outcomes["slot_full"] > 0  # 64 parties of 3.5 on average ask for more than 100


def test_64_threads_under_a_day_cap_of_150_over_two_slots_of_100_never_sell_more_than_150(app, session, tenant):
    make_booking_type(session, tenant, vertical="course", rules=windows_of(100, ("09:00", "10:00"), ("10:00", "11:00"), day_cap=150), max_party_size=6)
    sizes = [random.Random(23 + i).randint(1, 6) for i in range(64)]

    outcomes, results = race(app, 64, lambda tenant, i: book(tenant, at(9 + i % 2), sizes[i], i).party_size)

    assert set(outcomes) <= {"ok", "slot_full", "daily_cap_reached"}, outcomes
    sold = sum(results.values())
    slots, days, by_start = counters(session, tenant)
    assert sold <= 150
    assert slots[at(9)] <= 100 and slots[at(10)] <= 100
    assert slots[at(9)] + slots[at(10)] == days[SLOT_DAY] == sold
    assert (slots[at(9)], slots[at(10)]) == (by_start.get(at(9), 0), by_start.get(at(10), 0))
    assert outcomes["daily_cap_reached"] > 0


PROCESS_SCRIPT = textwrap.dedent(
    """
    import json, random, sys, time
    from pathlib import Path
    from yuyue.app import create_app
    from yuyue.bookings import operations as ops
    from yuyue.db import db
    from yuyue.errors import DomainError
    from yuyue.forms.registry import form_registry
    from yuyue.provisioning.operations import get_tenant
    sys.path[:0] = [sys.argv[4], str(Path(sys.argv[4]).parent)]
    from booking_setup import NOW, at, phone

    url, worker, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "INSTANCE_PATH": str(go.parent)})
    sizes = random.Random(worker)
    outcomes = []
    with app.app_context():
        tenant = get_tenant(db.session, "museum")
        forms = form_registry()
        db.session.remove()
        (go.parent / f"ready-{worker}").touch()
        while not go.exists():
            time.sleep(0.005)
        for attempt in range(8):
            n, size = worker * 100 + attempt, sizes.randint(1, 6)
            try:
                ops.book(db.session, forms, tenant, booking_type_slug="entry", starts_at=at(9 + attempt % 2), phone=phone(n), answers={"name": "P"},
                         party_size=size, now=NOW)
                outcomes.append(["ok", size])
            except DomainError as error:
                outcomes.append([error.code, size])
            except Exception as error:
                outcomes.append([f"{type(error).__name__}: {error}", size])
            finally:
                db.session.remove()
    print(json.dumps(outcomes))
    """
)


def test_6_processes_under_a_day_cap_never_sell_more_than_it(app, session, tenant, database_url, tmp_path):
    make_booking_type(session, tenant, vertical="course", rules=windows_of(40, ("09:00", "10:00"), ("10:00", "11:00"), day_cap=60), max_party_size=6)
    go, here = tmp_path / "go", str(Path(__file__).parent)
    workers = [
        subprocess.Popen([sys.executable, "-c", PROCESS_SCRIPT, database_url, str(w), str(go), here], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(6)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < len(workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()
    outcomes: Counter = Counter()
    sold = 0
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err[-2000:]
        for code, size in json.loads(out.strip().splitlines()[-1]):
            outcomes[code] += 1
            sold += size if code == "ok" else 0
    assert set(outcomes) <= {"ok", "slot_full", "daily_cap_reached"}, outcomes
    slots, days, _ = counters(session, tenant)
    assert sold <= 60
    assert slots[at(9)] + slots[at(10)] == days[SLOT_DAY] == sold


def test_cancels_and_moves_racing_each_other_lose_no_unit(app, session, tenant):
    """Reschedules A→B and B→A across two capped days race cancels of the same bookings: no deadlock, nothing lost."""
    rules = windows_of(60, ("09:00", "10:00"), day_cap=80)
    make_booking_type(session, tenant, vertical="course", rules=rules, max_party_size=6)
    forms = form_registry()
    a, b = at(9), at(9, day=NEXT_DAY)
    placed = []
    for i in range(24):
        placed.append(
            ops.book(
                session,
                forms,
                tenant,
                booking_type_slug="entry",
                starts_at=(a, b)[i % 2],
                phone=phone(i),
                answers={"name": f"M{i}"},
                party_size=1 + i % 3,
                now=NOW,
            )
        )
    ids = [booking.public_id for booking in placed]

    def attempt(tenant, i):
        booking_id = ids[i % len(ids)]
        if i < len(ids):  # every booking moves to the other day
            return ops.reschedule(db.session, forms, tenant, booking_id, starts_at=(b, a)[i % 2], now=NOW)
        return ops.cancel(db.session, tenant, booking_id, now=NOW)  # and a third of them are cancelled meanwhile

    outcomes, _ = race(app, len(ids) + 8, attempt)

    assert set(outcomes) <= {"ok", "illegal_transition", "slot_full", "daily_cap_reached"}, outcomes
    slots, days, by_start = counters(session, tenant)
    assert (slots[a], slots[b]) == (by_start.get(a, 0), by_start.get(b, 0))
    assert (days[SLOT_DAY], days[NEXT_DAY]) == (slots[a], slots[b])
    assert outcomes["ok"] >= len(ids)
