"""Delivering the outbox: fan each committed event out to its subscribers, then send every delivery at least once and never twice.

The engine knows nothing of bookings: a :class:`Subscriber` plans the
deliveries of one event (``plan``) and sends one (``send``); the notifying area
defines the host's subscribers (customer notifications, webhooks, plugin
hooks) and the worker runs :func:`fan_out` and :func:`send_due` in a loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from yuyue.events.models import Delivery, DeliveryKind, OutboxEvent


@dataclass(frozen=True)
class PlannedDelivery:
    """One delivery an event needs, as a subscriber plans it; written once per (event, ``subscriber``)."""

    subscriber: str
    kind: DeliveryKind
    target: str
    payload: Mapping[str, Any]
    recipient: str | None = None


@dataclass(frozen=True)
class SendResult:
    """What a receiver answered to a successful send (kept in the delivery log)."""

    response_status: int | None = None
    response_excerpt: str | None = None
    request: Mapping[str, Any] | None = None


class DeliveryFailed(Exception):
    """A send did not go through. ``retryable=False`` ends the delivery as dead at once (a refused address, a 410 Gone)."""

    def __init__(
        self,
        error: str,
        *,
        retryable: bool = True,
        response_status: int | None = None,
        request: Mapping[str, Any] | None = None,
        response_excerpt: str | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.retryable = retryable
        self.response_status = response_status
        self.request = request
        self.response_excerpt = response_excerpt


class Subscriber(Protocol):
    """Who hears of events: plans the deliveries of an event (in the fan-out's write transaction) and sends one of them (outside any transaction).

    One subscriber per :class:`DeliveryKind`. After the n-th failed attempt the
    engine waits ``retry_delays[n - 1]`` (with jitter); when they run out the
    delivery is dead. ``on_delivered`` and ``on_dead`` run in the write
    transaction that records the outcome (a webhook endpoint counts its
    failures there).
    """

    kind: DeliveryKind
    retry_delays: tuple[timedelta, ...]

    def plan(self, session: Session, event: OutboxEvent) -> list[PlannedDelivery]: ...

    def send(self, delivery: Delivery) -> SendResult: ...

    def on_delivered(self, session: Session, delivery: Delivery) -> None: ...

    def on_dead(self, session: Session, delivery: Delivery) -> None: ...


@dataclass
class OutboxStatus:
    """What ``yuyue outbox status`` prints: events not yet fanned out, deliveries by status, the oldest pending."""

    events_waiting: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)
    oldest_pending_seconds: float | None = None
