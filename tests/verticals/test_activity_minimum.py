"""An event session below its minimum participants at its decision time is called off by the worker: closed, each booking
cancelled and refunded once, and each participant told through the outbox; a session at the minimum is confirmed.

Bookings are made and paid through the customer API; the job is run as the worker's task body with a ``now`` after the
decision time. A worker killed part-way finishes on its next run, with nothing done twice (SQLite and PostgreSQL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select
from tenant_setup import make_booking_type, phone, windows
from verticals_setup import CONFIGURED, DEFAULTS, SLOT_DAY, answers, at

from yuyue.behaviour import MinimumParticipants
from yuyue.bookings.models import Booking, SessionDecision
from yuyue.bookings.sessions import decide_sessions, minimum_of
from yuyue.catalog.operations import get_booking_type
from yuyue.db import tenant_scope
from yuyue.events.models import OutboxEvent
from yuyue.payments.models import Payment, Refund
from yuyue.payments.operations import send_refunds, set_payment_provider
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import get_tenant
from yuyue.scheduling.models import SlotInventory
from yuyue.worker import decide_sessions_due

ACTIVITY = "activity"
PRICE = 5000
# A day before the 09:00 session, and an hour into the decision window of the 10:00 one: both are due.
DECIDED_AT = at(9) - timedelta(hours=23)
# Sessions are held on the slot day's weekday only, so no session of the day before is due too.
WEEKDAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[SLOT_DAY.weekday()]


@pytest.fixture
def events(session, set_settings):
    """Priced event sessions at 09:00, 10:00 and 11:00 on the slot day's weekday in both tenants, paid through the sandbox; tenant-a needs 3 participants, decided 24 h ahead."""
    declared = plugin_host().verticals[ACTIVITY]
    for slug in (CONFIGURED, DEFAULTS):
        tenant = get_tenant(session, slug)
        set_payment_provider(session, tenant, "sandbox", config={"secret": f"sandbox-secret-of-{slug}"})
        make_booking_type(
            session,
            tenant,
            ACTIVITY,
            vertical=ACTIVITY,
            name=declared.name,
            rules=windows(("09:00", "10:00"), ("10:00", "11:00"), ("11:00", "12:00"), weekdays=[WEEKDAY]),
            policies=declared.default_policies,
            form=declared.form_schema,
            ui=declared.ui_schema,
            price_amount=PRICE,
            max_party_size=5,
        )
    set_settings(ACTIVITY, min_participants=3, decision_hours_before=24)


@pytest.fixture
def paid(client, booked):
    """``paid(n, hour, attendees=1)``: the n-th customer signs up for the session at ``hour`` and pays; the booking JSON."""

    def sign_up(n: int, hour: int, attendees: int = 1, tenant: str = CONFIGURED) -> dict:
        booking = booked(client, tenant, ACTIVITY, answers(ACTIVITY, n, attendees=attendees), phone=phone(n), hour=hour)
        headers = {"X-Booking-Token": booking["booking_token"]}
        reference = client.post(f"/api/v1/t/{tenant}/bookings/{booking['id']}/pay", headers=headers).get_json()["reference"]
        assert client.post(f"/api/v1/t/{tenant}/payments/sandbox/checkout/{reference}").status_code == 200
        shown = client.get(f"/api/v1/t/{tenant}/bookings/{booking['id']}", headers=headers).get_json()
        assert shown["status"] == "confirmed", shown
        return booking

    return sign_up


def _status(client, booking: dict, tenant: str = CONFIGURED) -> str:
    return client.get(f"/api/v1/t/{tenant}/bookings/{booking['id']}", headers={"X-Booking-Token": booking["booking_token"]}).get_json()["status"]


def _tenant(session, slug: str = CONFIGURED):
    return get_tenant(session, slug)


def _events(session, topic: str, slug: str = CONFIGURED) -> Counter:
    """How many outbox events of ``topic`` each booking has."""
    session.commit()
    with tenant_scope(_tenant(session, slug).id):
        return Counter(event.payload["booking"] for event in session.scalars(select(OutboxEvent).where(OutboxEvent.topic == topic)))


def _refunds(session, slug: str = CONFIGURED) -> Counter:
    """How many refunds, and of what amount, each booking has: {(public id, amount): count}."""
    session.commit()
    with tenant_scope(_tenant(session, slug).id):
        rows = session.execute(
            select(Booking.public_id, Refund.amount).join(Payment, Payment.booking_id == Booking.id).join(Refund, Refund.payment_id == Payment.id)
        ).all()
    return Counter((row.public_id, row.amount) for row in rows)


def _closed(session, hour: int, slug: str = CONFIGURED) -> list[str | None]:
    session.commit()
    with tenant_scope(_tenant(session, slug).id):
        return list(session.scalars(select(SlotInventory.closed_reason).where(SlotInventory.starts_at == at(hour)).execution_options(populate_existing=True)))


def test_a_session_below_its_minimum_is_called_off_and_its_participants_refunded(events, paid, client, session):
    below = [paid(1, 9), paid(2, 9)]

    report = decide_sessions(session, _tenant(session), now=DECIDED_AT)

    assert (report.called_off, report.cancelled_bookings) == (2, 2)  # 09:00 with two participants, 10:00 with none
    assert [_status(client, booking) for booking in below] == ["cancelled", "cancelled"]
    assert _closed(session, 9) == ["below_minimum"]
    ids = {booking["id"] for booking in below}
    assert _events(session, "booking.cancelled") == dict.fromkeys(ids, 1)
    assert _events(session, "booking.cancelled_below_minimum") == dict.fromkeys(ids, 1)
    assert _refunds(session) == {(booking_id, PRICE): 1 for booking_id in ids}


def test_a_session_at_its_minimum_goes_ahead(events, paid, client, session):
    at_minimum = [paid(1, 10, attendees=2), paid(2, 10)]

    report = decide_sessions(session, _tenant(session), now=DECIDED_AT)

    assert (report.confirmed, report.called_off) == (1, 1)  # 10:00 at its minimum, 09:00 with nobody
    assert [_status(client, booking) for booking in at_minimum] == ["confirmed", "confirmed"]
    assert _closed(session, 10) == [None]
    assert _refunds(session) == {}


def test_a_session_is_decided_once(events, paid, client, session):
    at_minimum = [paid(1, 10), paid(2, 10), paid(3, 10)]
    decide_sessions(session, _tenant(session), now=DECIDED_AT)
    headers = {"X-Booking-Token": at_minimum[0]["booking_token"]}
    assert client.post(f"/api/v1/t/{CONFIGURED}/bookings/{at_minimum[0]['id']}/cancel", json={}, headers=headers).status_code == 200

    again = decide_sessions(session, _tenant(session), now=DECIDED_AT + timedelta(minutes=1))

    assert (again.confirmed, again.called_off, again.cancelled_bookings) == (0, 0, 0)
    assert [_status(client, booking) for booking in at_minimum[1:]] == ["confirmed", "confirmed"]


def test_sessions_whose_decision_time_has_not_come_are_left_alone(events, paid, client, session):
    early = paid(1, 11)

    report = decide_sessions(session, _tenant(session), now=DECIDED_AT)

    assert _status(client, early) == "confirmed"
    with tenant_scope(_tenant(session).id):
        decided = session.scalars(select(SessionDecision.starts_at).order_by(SessionDecision.starts_at)).all()
    assert (report.called_off, decided) == (2, [at(9), at(10)])


def test_a_tenant_without_a_minimum_keeps_its_sessions(events, paid, client, session):
    alone = paid(1, 9, tenant=DEFAULTS)

    decide_sessions_due(session, now=DECIDED_AT)

    assert _status(client, alone, DEFAULTS) == "confirmed"
    assert _closed(session, 9, DEFAULTS) == [None]


def test_the_worker_task_decides_every_tenant_and_each_refund_is_sent_once(events, paid, client, session):
    below = paid(1, 9)

    decided = decide_sessions_due(session, now=DECIDED_AT)
    send_refunds(session, _tenant(session))
    send_refunds(session, _tenant(session))

    assert (decided.called_off, decided.cancelled_bookings, decided.failed) == (2, 1, [])
    with tenant_scope(_tenant(session).id):
        refunds = session.scalars(select(Refund).execution_options(populate_existing=True)).all()
    assert [(refund.amount, refund.status.value) for refund in refunds] == [(PRICE, "pending")]  # sent; the sandbox confirms it later
    assert _status(client, below) == "cancelled"


def test_the_booking_type_says_what_minimum_its_sessions_need(events, client):
    assert client.get(f"/api/v1/t/{CONFIGURED}/booking-types/{ACTIVITY}").get_json()["minimum_participants"] == {"participants": 3, "decided_hours_before": 24}
    assert client.get(f"/api/v1/t/{DEFAULTS}/booking-types/{ACTIVITY}").get_json()["minimum_participants"] is None


# --- a worker killed part-way ------------------------------------------------------------------------

# Runs the job in its own process and stops for good after its second booking's cancellation committed.
KILLED_RUN = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime
    from yuyue.app import create_app
    from yuyue.bookings.sessions import decide_sessions
    from yuyue.db import db
    from yuyue.provisioning.operations import get_tenant

    url, instance, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "SECRET_KEY": "k" * 40})
    cancelled = []

    def after_each_cancel(public_id):
        cancelled.append(public_id)
        print(public_id, flush=True)
        if len(cancelled) == 2:
            time.sleep(600)  # killed here

    with app.app_context():
        decide_sessions(db.session, get_tenant(db.session, "tenant-a"), now=now, after_each_cancel=after_each_cancel)
    print("finished", flush=True)
    """
)


def test_a_worker_killed_part_way_finishes_on_its_next_run_cancelling_and_refunding_each_booking_once(
    events, set_settings, paid, client, session, database_url, tmp_path
):
    set_settings(ACTIVITY, min_participants=10, decision_hours_before=24)
    below = [paid(n, 9) for n in range(1, 6)]
    session.commit()
    worker = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, database_url, str(tmp_path), DECIDED_AT.isoformat()], stdout=subprocess.PIPE, text=True, env=os.environ
    )
    watchdog = threading.Timer(120, worker.kill)  # a run that never reaches its second cancellation fails the test, not the suite
    watchdog.start()
    try:
        first_two = [worker.stdout.readline().strip() for _ in range(2)]
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        watchdog.cancel()
        worker.stdout.close()
    assert worker.returncode == -signal.SIGKILL
    assert [_status(client, booking) for booking in below] == ["cancelled"] * 2 + ["confirmed"] * 3
    assert first_two == [booking["id"] for booking in below[:2]]

    rerun = decide_sessions(session, _tenant(session), now=DECIDED_AT)

    assert (rerun.called_off, rerun.cancelled_bookings) == (0, 3)  # the killed run decided both due sessions before cancelling
    ids = {booking["id"] for booking in below}
    assert [_status(client, booking) for booking in below] == ["cancelled"] * 5
    assert _events(session, "booking.cancelled") == dict.fromkeys(ids, 1)
    assert _events(session, "booking.cancelled_below_minimum") == dict.fromkeys(ids, 1)
    assert _refunds(session) == {(booking_id, PRICE): 1 for booking_id in ids}
    with tenant_scope(_tenant(session).id):
        decision = session.scalar(select(SessionDecision).where(SessionDecision.starts_at == at(9)).execution_options(populate_existing=True))
    assert (decision.outcome.value, decision.participants, decision.minimum, decision.finished_at is not None) == ("cancelled", 5, 10, True)


def test_hook_minimum_participants_answers_from_each_tenants_activity_settings(events, session):
    configured, defaults = _tenant(session), _tenant(session, DEFAULTS)

    assert minimum_of(session, configured, get_booking_type(session, configured, ACTIVITY)) == MinimumParticipants(3, 24)
    assert minimum_of(session, defaults, get_booking_type(session, defaults, ACTIVITY)) is None
