"""Webhook deliveries of outbox events: a body per matching endpoint, signed the Standard Webhooks way, retried for up to three days.

Placeholder of the shared contract; the webhooks helper fills it in.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from yuyue.events.delivery import PlannedDelivery, SendResult
from yuyue.events.models import Delivery, DeliveryKind, OutboxEvent

WEBHOOK_RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=20),
)


class WebhookDeliveries:
    """The webhook subscriber: one delivery per enabled endpoint whose topics match the event."""

    kind = DeliveryKind.webhook
    retry_delays = WEBHOOK_RETRY_DELAYS

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
