"""kill -9 of ``yuyue worker`` while it delivers 1,000 events: after a restart every event reached every subscriber, and
nothing arrived twice but, at most, the one message a kill cut between the receiver's acknowledgement and the worker's record.

A real worker process on the test database (the SQLite file, or PostgreSQL
when ``YUYUE_TEST_DATABASE_URL`` is set) delivers to a real SMTP server and a
real HTTP receiver on loopback, in a process of their own. The subscribers are
the real ones: the tenant's email channel points at the SMTP server, a webhook
endpoint at the HTTP receiver, and the 1,000 events are the ``booking.confirmed``
of 1,000 bookings, each by its own customer with an email address, so the
notices plan one email (``Message-ID`` = the delivery's message id) and the
endpoint one webhook (``webhook-id``) per event. Everything they depend on is
set up by :func:`delivery_setup`.

``YUYUE_CRASH_KILLS`` (default 2) sets how many times the worker is killed in
one run; docs/outbox.md reports what many kills showed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from outbox_receivers import LoggedInbox, receivers_process
from sqlalchemy import func, select
from tenant_setup import make_booking_type, make_tenant, phone, windows

from yuyue.bookings import operations as bookings
from yuyue.customers.models import Customer
from yuyue.db import all_tenants, tenant_scope
from yuyue.events.channel_settings import set_channel_settings
from yuyue.events.models import Delivery, DeliveryStatus
from yuyue.events.webhooks import create_endpoint
from yuyue.forms.registry import form_registry
from yuyue.notifying.preferences import set_preferences
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

EVENTS = 1000
KILLS = int(os.environ.get("YUYUE_CRASH_KILLS", "2"))

SLOT_DAY = utcnow().date() + timedelta(days=10)  # far enough ahead that no reminder falls due while the test runs
EMAIL = {"host": "127.0.0.1", "security": "none", "from_address": "outbox@yuyue.test"}


@dataclass
class DeliverySetup:
    """Where the worker delivers and what it needs: the inbox of each subscriber (by prefix), the app's config, the worker's environment.

    ``populate(app, session)`` makes the tenant, its subscribers and its :data:`EVENTS` events, and returns the tenant.
    """

    inboxes: dict[str, LoggedInbox]
    config: dict[str, Any]
    env: dict[str, str]
    populate: Callable[[Flask, Any], Tenant]

    def received(self) -> int:
        return sum(len(inbox) for inbox in self.inboxes.values())


def _populate(app: Flask, session, smtp_port: int, url: str) -> Tenant:
    """Tenant ``crash``: its email channel at the SMTP receiver, a webhook endpoint at the HTTP receiver, and
    :data:`EVENTS` free bookings confirmed at once, one customer each with an email address in their preferences.

    Each booking's ``booking.confirmed`` is the only event: the notices plan one email for it, the endpoint one webhook.
    """
    tenant = make_tenant(session, "crash", plugins=("exhibition",))
    make_booking_type(session, tenant, rules=windows(("09:00", "11:00"), capacity=EVENTS))
    with tenant_scope(tenant.id):
        set_channel_settings(session, app, "email", config={**EMAIL, "port": smtp_port}, actor="test")
        create_endpoint(session, url=url, topics=["booking.confirmed"], actor="test", allow_http=True, allow_private=True)
    forms, starts_at = form_registry(), datetime.combine(SLOT_DAY, clock(9), ZoneInfo(tenant.time_zone))
    for n in range(EVENTS):
        booking = bookings.book(session, forms, tenant, booking_type_slug="entry", starts_at=starts_at, phone=phone(n), answers={"name": f"Guest {n}"})
        with tenant_scope(tenant.id):
            customer = session.get(Customer, booking.customer_id)
        set_preferences(session, tenant, customer, email=f"guest{n}@crash.test", actor="test")
    return tenant


@pytest.fixture
def delivery_setup(tmp_path):
    """The real subscribers of the crash test and their receivers: the tenant's email channel to aiosmtpd, a webhook endpoint to an HTTP server."""
    with receivers_process(tmp_path) as (smtp_port, url, mail, posts):
        yield DeliverySetup(
            inboxes={"notification:email:": mail, "webhook:": posts},
            # The receivers are on loopback: the installation lets the tenant name them (and the worker reach them).
            config={"CHANNEL_PRIVATE_HOSTS": True, "WEBHOOKS_ALLOW_HTTP": True, "WEBHOOKS_ALLOW_PRIVATE": True},
            env={"YUYUE_CHANNEL_PRIVATE_HOSTS": "1", "YUYUE_WEBHOOKS_ALLOW_HTTP": "1", "YUYUE_WEBHOOKS_ALLOW_PRIVATE": "1"},
            populate=lambda app, session: _populate(app, session, smtp_port, url),
        )


def start_worker(database_url: str, instance: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    environment = {
        **os.environ,
        **env,
        "YUYUE_DATABASE_URL": database_url,
        "YUYUE_INSTANCE_PATH": str(instance),
        "YUYUE_SECRET_KEY": "crash-test-secret-key-of-32-bytes!",
    }
    with open(log, "ab") as output:
        return subprocess.Popen([sys.executable, "-m", "yuyue", "worker"], env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(condition, seconds: float, worker: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if worker.poll() is not None:
            pytest.fail(f"the worker exited with {worker.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"not reached within {seconds:.0f} s; worker log:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.02)


def delivered(session) -> int:
    with all_tenants():
        count = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.delivered))
    session.commit()
    return count


def test_killing_the_worker_while_it_delivers_loses_nothing_and_repeats_at_most_the_message_in_flight(make_app, database_url, delivery_setup, tmp_path):
    app = make_app(**delivery_setup.config)
    expected = EVENTS * len(delivery_setup.inboxes)
    with app.app_context():
        from yuyue.db import db

        session = db.session
        tenant = delivery_setup.populate(app, session)
        session.commit()
        instance, log = tmp_path / "worker-instance", tmp_path / "worker.log"
        # The worker opens the channel's sealed settings and the endpoint's secret with the application's key (docs/secrets.md).
        env = {**delivery_setup.env, "YUYUE_SECRETS_KEY": (tmp_path / "secrets_key").read_text().strip()}
        kills_at = [expected * (k + 1) // (KILLS + 2) for k in range(KILLS)]
        seen_at_kill: list[int] = []
        # The last message each receiver acknowledged before a kill: the only one the kill can have cut between acknowledgement and record.
        in_flight: set[str] = set()
        for threshold in kills_at:
            worker = start_worker(database_url, instance, env, log)
            wait_for(lambda threshold=threshold: delivery_setup.received() >= threshold, 120, worker, log)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
            time.sleep(0.1)  # the receivers log what they acknowledged just before the kill
            seen_at_kill.append(delivery_setup.received())
            in_flight.update(inbox.ids()[-1] for inbox in delivery_setup.inboxes.values() if len(inbox))
        worker = start_worker(database_url, instance, env, log)
        try:
            wait_for(lambda: delivered(session) == expected, 180, worker, log)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            assert worker.wait(timeout=60) == 0, log.read_text(errors="replace")[-3000:]
        time.sleep(0.2)  # the receivers finish logging what they answered
        assert all(0 < seen < expected for seen in seen_at_kill), seen_at_kill
        with tenant_scope(tenant.id):
            rows = session.scalars(select(Delivery)).all()
        session.commit()
    by_subscriber = {prefix: {d.message_id: d.event_id for d in rows if d.subscriber.startswith(prefix)} for prefix in delivery_setup.inboxes}
    assert sum(map(len, by_subscriber.values())) == len(rows) == expected
    for name, inbox in delivery_setup.inboxes.items():
        ids = {message_id.strip("<>").removesuffix("@yuyue.test") for message_id in inbox.ids()}
        assert ids == set(by_subscriber[name]), f"{name}: {len(set(by_subscriber[name]) - ids)} never arrived"
        assert len(set(by_subscriber[name].values())) == EVENTS
    repeated = {message_id: n for inbox in delivery_setup.inboxes.values() for message_id, n in inbox.repeated().items()}
    # No message twice, except one a kill cut between the receiver's acknowledgement and the worker's record (a few
    # microseconds of the worker's own work, plus however long a loaded machine takes to wake it): at most one per
    # kill, the one in flight, and only twice. docs/outbox.md gives the measured rate.
    assert set(repeated) <= in_flight and set(repeated.values()) <= {2} and len(repeated) <= KILLS, (repeated, in_flight, seen_at_kill)
    print(f"kills: {KILLS}, messages received twice: {len(repeated)}")
    assert "Traceback" not in log.read_text(errors="replace")
