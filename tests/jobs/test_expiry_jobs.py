"""The periodic expiry: unpaid holds and unanswered waitlist offers of every active tenant, and every tenant's refunds to send.

The task body is tested as a function, then through ``yuyue bookings expire-holds``,
the Huey queue, and a real ``yuyue worker`` process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime

import pytest
from payment_setup import PRICE, book, booking_state, make_priced_type, make_tenant, slot_start, taken, timedelta, utcnow
from sqlalchemy import select, update

from yuyue import worker
from yuyue.bookings import operations as ops
from yuyue.bookings import waitlist
from yuyue.bookings.models import Booking, WaitlistEntry
from yuyue.cli import build_cli
from yuyue.db import tenant_scope, write_transaction
from yuyue.forms.registry import form_registry
from yuyue.payments.builtin import sandbox_notification
from yuyue.payments.operations import handle_notification, payment_instructions
from yuyue.payments.providers import payment_providers
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import reinstate_tenant, suspend_tenant
from yuyue.sealing import KEY_FILE
from yuyue.worker import expire_due, make_queue


def held_bookings(session, tenant, count: int, *, first: int = 1) -> list[Booking]:
    return [book(session, tenant, n) for n in range(first, first + count)]


def paid_after_expiry(session, tenant, providers) -> Booking:
    """A hold that expired before its payment arrived: the payment is taken and its refund requested, not yet sent."""
    [booking] = held_bookings(session, tenant, 1)
    reference = payment_instructions(session, booking)["reference"]
    ops.expire_holds(session, tenant, now=booking.hold_expires_at)
    headers, body = sandbox_notification(providers.settings("sandbox")["secret"], "payment.succeeded", reference, amount=PRICE)
    assert handle_notification(session, tenant, "sandbox", headers, body, providers=providers) == "refund_requested"
    return booking


def test_expire_due_expires_the_unpaid_holds_of_every_active_tenant_and_frees_their_places(session, tenant, entry):
    other = make_tenant(session, "gallery")
    make_priced_type(session, other)
    mine, theirs = held_bookings(session, tenant, 2), held_bookings(session, other, 1)
    report = expire_due(session, now=mine[0].hold_expires_at + timedelta(seconds=1))
    assert [(t.tenant, t.holds, t.offers) for t in report.tenants] == [("museum", 2, 0), ("gallery", 1, 0)]
    assert {booking_state(session, tenant, b)[0] for b in mine} == {"expired"}
    assert booking_state(session, other, theirs[0])[0] == "expired"
    assert taken(session, tenant) == taken(session, other) == 0


def test_expire_due_leaves_holds_that_still_run(session, tenant, entry):
    [booking] = held_bookings(session, tenant, 1)
    assert expire_due(session, now=booking.hold_expires_at - timedelta(seconds=1)).holds == 0
    assert booking_state(session, tenant, booking)[0] == "held"


def test_a_suspended_tenants_holds_wait_for_reinstatement_but_its_refunds_go_out(app, session, tenant, entry):
    providers = payment_providers(app)
    paid_late = paid_after_expiry(session, tenant, providers)
    [held] = held_bookings(session, tenant, 1, first=2)
    suspend_tenant(session, "museum")

    report = expire_due(session, providers=providers, now=held.hold_expires_at + timedelta(seconds=1))

    assert [(t.tenant, t.holds, t.offers, t.refunds) for t in report.tenants] == [("museum", 0, 0, 1)]
    assert booking_state(session, tenant, held)[0] == "held"
    assert booking_state(session, tenant, paid_late) == ("expired", ["refunded"], [(PRICE, "pending", "booking_expired")])
    reinstate_tenant(session, "museum")
    assert expire_due(session, providers=providers, now=held.hold_expires_at + timedelta(seconds=1)).holds == 1
    assert booking_state(session, tenant, held)[0] == "expired"


def test_expire_due_passes_unanswered_waitlist_offers_on(session, tenant):
    make_priced_type(session, tenant, "free", price=0, capacity=1)
    starts_at, now = slot_start(), utcnow()
    booking = book(session, tenant, 1, slug="free", now=now)
    entry = waitlist.join(session, form_registry(), tenant, booking_type_slug="free", starts_at=starts_at, phone="13900000002", answers={"name": "B"}, now=now)
    ops.cancel(session, tenant, booking.public_id, now=now)
    report = expire_due(session, now=now + timedelta(minutes=31))
    assert (report.holds, report.offers) == (0, 1)
    with tenant_scope(tenant.id):
        assert session.scalar(select(WaitlistEntry.status).where(WaitlistEntry.id == entry.id)).value == "expired"
    assert taken(session, tenant) == 0


def test_expire_due_sends_refunds_still_requested(app, session, tenant, entry):
    providers = payment_providers(app)
    booking = paid_after_expiry(session, tenant, providers)
    assert expire_due(session, providers=providers).tenants[0].refunds == 1
    assert booking_state(session, tenant, booking) == ("expired", ["refunded"], [(PRICE, "pending", "booking_expired")])


def test_one_tenants_failure_is_reported_and_the_others_still_expire(session, tenant, entry, monkeypatch):
    other = make_tenant(session, "gallery")
    make_priced_type(session, other)
    [theirs] = held_bookings(session, other, 1)
    real = ops.expire_holds

    def broken_for_museum(session_, tenant_, **kwargs):
        if tenant_.slug == "museum":
            raise RuntimeError("disk on fire")
        return real(session_, tenant_, **kwargs)

    monkeypatch.setattr(worker.booking_ops, "expire_holds", broken_for_museum)
    report = expire_due(session, now=theirs.hold_expires_at)
    assert [(t.tenant, t.error) for t in report.failed] == [("museum", "RuntimeError: disk on fire")]
    assert booking_state(session, other, theirs)[0] == "expired"


def test_an_expiry_that_loses_a_race_with_a_confirmation_reads_again(session, tenant, entry, monkeypatch):
    from yuyue.errors import Conflict

    [booking] = held_bookings(session, tenant, 1)
    real, calls = ops.expire_holds, []

    def confirmed_meanwhile_once(session_, tenant_, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise Conflict("the booking changed meanwhile and is now confirmed", code="illegal_transition")
        return real(session_, tenant_, **kwargs)

    monkeypatch.setattr(worker.booking_ops, "expire_holds", confirmed_meanwhile_once)
    assert expire_due(session, now=booking.hold_expires_at).holds == 1
    assert len(calls) == 2


def test_the_queue_runs_the_expiry_the_session_decisions_and_the_reminders_every_minute_from_the_instance_folder(app):
    queue = make_queue(app)
    minutes = [datetime(2026, 12, 1, 8, minute) for minute in (0, 1, 59)]
    assert all([task.name for task in queue.huey.read_periodic(at)] == ["expire_due", "decide_sessions", "emit_due_reminders"] for at in minutes)
    assert type(queue.huey).__name__ == "SqliteHuey"
    assert os.path.exists(os.path.join(app.config["INSTANCE_PATH"], "huey.db"))


def test_the_queue_purges_ended_logins_once_a_night(app):
    queue = make_queue(app)
    assert [task.name for task in queue.huey.read_periodic(datetime(2026, 12, 1, 4, 0))] == [
        "expire_due",
        "decide_sessions",
        "purge_ended_logins",
        "emit_due_reminders",
    ]
    assert queue.purge_ended_logins.call_local() == 0


def test_the_queue_writes_off_expired_class_credits_once_a_night(app):
    queue = make_queue(app)
    assert [task.name for task in queue.huey.read_periodic(datetime(2026, 12, 1, 3, 30))] == [
        "expire_due",
        "decide_sessions",
        "expire_credits",
        "emit_due_reminders",
    ]
    assert queue.expire_credits.call_local() == 0


def test_the_queue_task_expires_holds_in_the_applications_context(app, session, tenant, entry):
    [booking] = held_bookings(session, tenant, 1)
    with tenant_scope(tenant.id), write_transaction(session):
        session.execute(update(Booking).values(hold_expires_at=utcnow() - timedelta(minutes=1)))
    queue = make_queue(app)
    queue.huey.immediate = True
    queue.expire_due()  # enqueued and run at once; Huey keeps no result of a periodic task
    assert booking_state(session, tenant, booking)[0] == "expired"
    assert queue.expire_due.call_local() == {"holds": 0, "offers": 0, "failed": []}


def test_the_queue_is_redis_when_a_redis_url_is_set(app):
    pytest.importorskip("redis")
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    assert type(make_queue(app).huey).__name__ == "RedisHuey"


def test_cli_expire_holds_runs_the_expiry_once_and_says_what_it_did(app, session, tenant, entry):
    [booking] = held_bookings(session, tenant, 1)
    with tenant_scope(tenant.id), write_transaction(session):
        session.execute(update(Booking).values(hold_expires_at=utcnow() - timedelta(minutes=1)))
    result = app.test_cli_runner().invoke(build_cli(plugin_host(app)), ["bookings", "expire-holds"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["museum\t1 holds\t0 offers\t0 refunds sent", "expired 1 holds and 0 waitlist offers in 1 tenants"]
    assert booking_state(session, tenant, booking)[0] == "expired"
    again = app.test_cli_runner().invoke(build_cli(plugin_host(app)), ["bookings", "expire-holds"])
    assert again.output.splitlines()[-1] == "expired 0 holds and 0 waitlist offers in 1 tenants"


def test_worker_process_expires_a_run_out_hold_and_stops_on_sigint(app, session, tenant, entry, database_url, tmp_path):
    [booking] = held_bookings(session, tenant, 1)
    with tenant_scope(tenant.id), write_transaction(session):
        session.execute(update(Booking).values(hold_expires_at=utcnow() - timedelta(minutes=1)))
    env = {
        **os.environ,
        "YUYUE_DATABASE_URL": database_url,
        "YUYUE_INSTANCE_PATH": str(tmp_path / "worker"),
        "YUYUE_SECRET_KEY": "test",
        # The application's sealing key, as every process of an installation has it: the worker opens the plugins' settings.
        "YUYUE_SECRETS_KEY": (tmp_path / KEY_FILE).read_text().strip(),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "yuyue", "worker"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and booking_state(session, tenant, booking)[0] == "held":
            assert worker.poll() is None, worker.stdout.read()
            time.sleep(0.5)
        assert booking_state(session, tenant, booking)[0] == "expired"
    finally:
        worker.send_signal(signal.SIGINT)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "expired 1 holds" in output
