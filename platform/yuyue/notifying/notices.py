"""Customer (and staff) notifications of outbox events: which event is worth a message, to whom, on which channels, in which words.

Placeholder of the shared contract; the notices helper fills it in.

A notification delivery's ``payload`` is the rendered message, fixed at fan-out::

    {"channel": "email", "to": "a@example.com", "locale": "zh-Hans", "event": "booking.confirmed",
     "subject": "…", "text": "…", "html": "…" | None,
     "attachments": [{"filename": "booking.ics", "media_type": "text/calendar", "content_base64": "…"}],
     "data": {…channel-specific: SMS template id and params, WeChat template id, page and data…},
     "params": {…the template variables the SMS/WeChat providers map…}}
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from yuyue.events.delivery import PlannedDelivery, SendResult
from yuyue.events.models import Delivery, DeliveryKind, OutboxEvent

NOTIFICATION_RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6))


class CustomerNotices:
    """The notification subscriber: plans one delivery per (recipient, channel) of a notified event; sends through the channel registry."""

    kind = DeliveryKind.notification
    retry_delays = NOTIFICATION_RETRY_DELAYS

    def __init__(self, app: Flask) -> None:
        self.app = app

    def plan(self, session: Session, event: OutboxEvent) -> list[PlannedDelivery]:
        return []

    def send(self, delivery: Delivery) -> SendResult:
        raise NotImplementedError

    def on_delivered(self, session: Session, delivery: Delivery) -> None:
        pass

    def on_dead(self, session: Session, delivery: Delivery) -> None:
        pass
