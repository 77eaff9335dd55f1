"""The worker's outbox pump: fans out and sends until stopped, and folds what a killed predecessor acknowledged first."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from yuyue.db import tenant_scope, write_transaction
from yuyue.events import delivery as engine
from yuyue.events import operations as events
from yuyue.events.delivery import AcknowledgementJournal, PlannedDelivery, SendResult
from yuyue.events.models import Delivery, DeliveryKind, DeliveryStatus
from yuyue.provisioning.operations import create_tenant
from yuyue.worker import OutboxPump


class Recording:
    kind = DeliveryKind.webhook
    retry_delays = (timedelta(seconds=5),)

    def __init__(self) -> None:
        self.sent: list[int] = []

    def plan(self, session, event):
        return [PlannedDelivery(subscriber="webhook:1", kind=self.kind, target="1", payload={})]

    def send(self, delivery):
        self.sent.append(delivery.event_id)
        return SendResult(response_status=200)

    def on_delivered(self, session, delivery):
        pass

    def on_dead(self, session, delivery):
        pass


def statuses(session, tenant) -> list[DeliveryStatus]:
    with tenant_scope(tenant.id):
        found = list(session.scalars(select(Delivery.status).order_by(Delivery.id)))
    session.commit()
    return found


def test_the_pump_delivers_committed_events_in_order_and_stops_when_told(app, session):
    tenant = create_tenant(session, app.extensions["yuyue.plugins"], slug="museum", name="Museum")
    with tenant_scope(tenant.id), write_transaction(session):
        made = [events.emit(session, "booking.confirmed", {"n": n}) for n in range(5)]
    receiver = Recording()
    pump = OutboxPump(app, [receiver], idle_seconds=0.05)
    pump.start()
    try:
        deadline = time.monotonic() + 30
        while statuses(session, tenant) != [DeliveryStatus.delivered] * 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        pump.stop()
    assert receiver.sent == [event.id for event in made]
    assert not pump._thread.is_alive()


def test_a_starting_pump_first_marks_delivered_what_the_journal_holds(app, session):
    tenant = create_tenant(session, app.extensions["yuyue.plugins"], slug="museum", name="Museum")
    with tenant_scope(tenant.id), write_transaction(session):
        events.emit(session, "booking.confirmed", {})
    receiver = Recording()
    engine.fan_out(session, [receiver])
    (claimed,) = engine.claim_due(session, now=engine.utcnow())
    AcknowledgementJournal.in_folder(app.config["INSTANCE_PATH"]).acknowledge(claimed.id, claimed.attempts)  # and then it was killed
    pump = OutboxPump(app, [receiver])
    pump.start()
    pump.stop()
    assert statuses(session, tenant) == [DeliveryStatus.delivered]
    assert receiver.sent == []
