"""Draining a burst of 10,000 events holds no lock a booking waits on for long: every booking placed meanwhile succeeds."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select
from tenant_setup import make_booking_type, make_tenant, phone, windows

from yuyue.db import all_tenants, db, tenant_scope, write_transaction
from yuyue.events import delivery as engine
from yuyue.events import operations as events
from yuyue.events.delivery import PlannedDelivery, SendResult
from yuyue.events.models import Delivery, DeliveryKind, DeliveryStatus
from yuyue.types import utcnow

EVENTS = 10_000
BOOKINGS = 40


class Acknowledging:
    """A subscriber whose receiver answers at once: the engine's own work is all that is measured."""

    kind = DeliveryKind.webhook
    retry_delays = (timedelta(seconds=5),)

    def plan(self, session, event):
        return [PlannedDelivery(subscriber="webhook:1", kind=self.kind, target="1", payload={"topic": event.topic})]

    def send(self, delivery):
        return SendResult(response_status=204)

    def on_delivered(self, session, delivery):
        pass

    def on_dead(self, session, delivery):
        pass


def test_bookings_placed_over_http_while_ten_thousand_events_drain_all_succeed(app, session, client):
    tenant = make_tenant(session)
    make_booking_type(session, tenant, rules=windows(("09:00", "11:00"), capacity=1000))
    with tenant_scope(tenant.id), write_transaction(session):
        for n in range(EVENTS):
            events.emit(session, "booking.confirmed", {"n": n})
    subscribers = [Acknowledging()]
    drained = threading.Event()
    failures: list[BaseException] = []

    def drain() -> None:
        with app.app_context():
            try:
                while engine.fan_out(db.session, subscribers) + engine.send_due(db.session, subscribers, limit=100).claimed:
                    pass
            except BaseException as error:  # reported by the test below
                failures.append(error)
            finally:
                db.session.remove()
                drained.set()

    thread = threading.Thread(target=drain)
    thread.start()
    starts_at = datetime.combine(utcnow().date() + timedelta(days=10), datetime.min.time()).replace(hour=1, tzinfo=utcnow().tzinfo)
    answers, during = [], 0
    try:
        for n in range(BOOKINGS):
            response = client.post(
                "/api/v1/t/museum/bookings", json={"booking_type": "entry", "starts_at": starts_at.isoformat(), "phone": phone(n), "answers": {"name": "Ann"}}
            )
            answers.append((response.status_code, response.get_json().get("code")))
            during += not drained.is_set()
            time.sleep(0.01)
    finally:
        thread.join(timeout=600)
    assert failures == []
    assert answers == [(201, None)] * BOOKINGS
    assert during == BOOKINGS, "the drain ended before the bookings did; it proves nothing"
    session.commit()  # the requests left this session reading an old snapshot
    with all_tenants():
        delivered = session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.delivered))
    assert delivered == EVENTS + BOOKINGS  # the bookings' own events too
