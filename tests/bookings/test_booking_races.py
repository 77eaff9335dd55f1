"""Real concurrent clients (threads and processes) racing for the same places, on SQLite and PostgreSQL.

Never oversell: exactly the capacity is sold, the rest are refused with
``slot_full`` and nothing else (no "database is locked").
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter

import pytest
from booking_setup import NOW, at, make_booking_type, make_coach, make_tenant, phone, windows
from sqlalchemy import func, select

from yuyue.bookings import operations as ops
from yuyue.bookings import waitlist
from yuyue.bookings.models import Booking, BookingStatus, ResourceAllocation, WaitlistEntry, WaitlistStatus
from yuyue.db import db, tenant_scope
from yuyue.errors import DomainError
from yuyue.forms.registry import form_registry
from yuyue.provisioning.operations import get_tenant
from yuyue.scheduling.models import SlotInventory


def race(app, count: int, attempt) -> Counter:
    """Run ``attempt(tenant, i)`` in ``count`` threads released at once; count outcomes by code.

    Each thread is a client with its own application context and session, and
    loads the tenant itself, as a request would.
    """
    barrier = threading.Barrier(count)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def run(i: int) -> None:
        with app.app_context():
            tenant = get_tenant(db.session, "museum")
            db.session.commit()
            barrier.wait()
            try:
                attempt(tenant, i)
                outcome = "ok"
            except DomainError as error:
                outcome = error.code
            except Exception as error:  # any other error is a failure the test reports
                outcome = f"{type(error).__name__}: {error}"
            finally:
                db.session.remove()
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.fixture
def tenant(session):
    return make_tenant(session)


def sold(session, tenant):
    with tenant_scope(tenant.id):
        taken = session.scalar(select(func.sum(SlotInventory.taken)).execution_options(populate_existing=True))
        live = session.scalar(select(func.count()).select_from(Booking).where(Booking.status == BookingStatus.confirmed))
    return taken, live


def test_64_threads_racing_for_20_places_sell_exactly_20(app, session, tenant):
    make_booking_type(session, tenant, rules=windows(("09:00", "11:00"), capacity=20))
    forms = form_registry()

    def attempt(tenant, i):
        ops.book(db.session, forms, tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(i), answers={"name": f"V{i}"}, now=NOW)

    outcomes = race(app, 64, attempt)
    assert outcomes == Counter({"ok": 20, "slot_full": 44})
    assert sold(session, tenant) == (20, 20)


PROCESS_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from yuyue.app import create_app
    from yuyue.bookings import operations as ops
    from yuyue.db import db
    from yuyue.errors import DomainError
    from yuyue.forms.registry import form_registry
    from yuyue.provisioning.operations import get_tenant
    sys.path[:0] = [sys.argv[4], str(Path(sys.argv[4]).parent)]  # booking_setup, and tenant_setup that it imports
    from booking_setup import NOW, at, phone

    url, worker, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "INSTANCE_PATH": str(go.parent)})
    outcomes = []
    with app.app_context():
        tenant = get_tenant(db.session, "museum")
        forms = form_registry()
        db.session.remove()
        (go.parent / f"ready-{worker}").touch()
        while not go.exists():
            time.sleep(0.005)
        for attempt in range(5):
            n = worker * 100 + attempt
            try:
                ops.book(db.session, forms, tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(n), answers={"name": "P"}, now=NOW)
                outcomes.append("ok")
            except DomainError as error:
                outcomes.append(error.code)
            except Exception as error:
                outcomes.append(f"{type(error).__name__}: {error}")
            finally:
                db.session.remove()
    print(json.dumps(outcomes))
    """
)


def test_8_processes_racing_for_20_places_sell_exactly_20(app, session, tenant, database_url, tmp_path):
    from pathlib import Path

    make_booking_type(session, tenant, rules=windows(("09:00", "11:00"), capacity=20))
    go = tmp_path / "go"
    here = str(Path(__file__).parent)
    workers = [
        subprocess.Popen([sys.executable, "-c", PROCESS_SCRIPT, database_url, str(w), str(go), here], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(8)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < len(workers) and time.monotonic() < deadline:
        time.sleep(0.05)  # every process has imported and connected before the start signal
    go.touch()
    outcomes: Counter = Counter()
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err[-2000:]
        outcomes.update(json.loads(out.strip().splitlines()[-1]))
    assert outcomes == Counter({"ok": 20, "slot_full": 20})
    assert sold(session, tenant) == (20, 20)


def test_a_coach_shared_by_two_booking_types_is_never_double_allocated_under_a_race(app, session, tenant):
    make_coach(session, tenant)
    coach = [{"kind": "coach", "count": 1}]
    make_booking_type(session, tenant, "group-class", vertical="course", rules=windows(("09:00", "10:00"), capacity=20), resource_requirements=coach)
    make_booking_type(session, tenant, "private-lesson", vertical="course", rules=windows(("09:30", "10:30"), capacity=1), resource_requirements=coach)
    forms = form_registry()

    def attempt(tenant, i):
        slug, start = ("group-class", at(9)) if i % 2 else ("private-lesson", at(9, 30))
        ops.book(db.session, forms, tenant, booking_type_slug=slug, starts_at=start, phone=phone(i), answers={"name": f"S{i}"}, now=NOW)

    outcomes = race(app, 32, attempt)
    assert set(outcomes) <= {"ok", "resource_conflict", "slot_full"}, outcomes
    with tenant_scope(tenant.id):
        by_type = Counter(session.scalars(select(Booking.booking_type_id).where(Booking.status == BookingStatus.confirmed)))
        holders = session.scalars(select(ResourceAllocation.inventory_id).where(ResourceAllocation.quantum_start == at(9, 30)).distinct()).all()
    assert len(by_type) == 1, "the group class and the private lesson both got the coach"
    assert len(holders) == 1
    assert outcomes["ok"] == sum(by_type.values())


@pytest.mark.parametrize("auto_confirm", [True, False])
def test_concurrent_cancels_give_each_freed_place_to_exactly_one_waiter(app, session, tenant, auto_confirm):
    make_booking_type(session, tenant, rules=windows(("09:00", "11:00"), capacity=10))
    forms = form_registry()
    bookings = [
        ops.book(session, forms, tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(i), answers={"name": f"B{i}"}, now=NOW) for i in range(10)
    ]
    for i in range(100, 112):
        waitlist.join(
            session, forms, tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(i), answers={"name": f"W{i}"}, auto_confirm=auto_confirm, now=NOW
        )

    outcomes = race(app, 10, lambda tenant, i: ops.cancel(db.session, tenant, bookings[i].public_id, now=NOW))
    assert outcomes == Counter({"ok": 10})
    with tenant_scope(tenant.id):
        entries = session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.id).execution_options(populate_existing=True)).all()
        taken = session.scalar(select(SlotInventory.taken).execution_options(populate_existing=True))
    promoted = WaitlistStatus.accepted if auto_confirm else WaitlistStatus.offered
    assert [e.status for e in entries] == [promoted] * 10 + [WaitlistStatus.waiting] * 2
    assert taken == 10
    if auto_confirm:
        assert len({e.booking_id for e in entries[:10]}) == 10


def test_concurrent_retries_with_one_idempotency_key_book_once(app, session, tenant):
    make_booking_type(session, tenant, rules=windows(("09:00", "11:00"), capacity=20))
    forms = form_registry()
    public_ids = set()

    def attempt(tenant, i):
        booking = ops.book(
            db.session,
            forms,
            tenant,
            booking_type_slug="entry",
            starts_at=at(9),
            phone=phone(1),
            answers={"name": "Retry"},
            idempotency_key="order-42",
            now=NOW,
        )
        public_ids.add(booking.public_id)

    outcomes = race(app, 8, attempt)
    assert outcomes == Counter({"ok": 8})
    assert len(public_ids) == 1
    assert sold(session, tenant) == (1, 1)
