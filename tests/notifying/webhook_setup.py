"""What the webhook tests share: a real HTTP receiver on loopback, and a minimal outbox loop over the webhook subscriber.

Imported by name (test folders are not packages). The loop stands in for the
delivery engine (:mod:`yuyue.events.delivery`'s ``fan_out`` and ``send_due``,
built beside this part) with the same arguments and the same contract: plan
in one write transaction per event, send outside any transaction with the
tenant in scope, record a :class:`DeliveryAttempt`, retry after
``retry_delays[attempts - 1]`` (no jitter here, so a test can stand exactly at
a due time), dead when they run out or a failure is not retryable. Where the
engine is there (``yuyue.events.delivery.send_due``), the tests use it instead:
see the end of this module.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from yuyue.db import all_tenants, tenant_scope, write_transaction
from yuyue.events import delivery as engine
from yuyue.events.delivery import DeliveryFailed, SendResult, Subscriber
from yuyue.events.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent

HANG = "hang"  # a scripted answer: accept the request and never answer it


@dataclass
class Received:
    """One request the receiver got: its headers (lower-cased names) and body bytes."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that answers from a script (a status, or :data:`HANG`), then ``default``."""

    url: str
    script: list[int | str] = field(default_factory=list)
    default: int | str = 204
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self) -> int | str:
        return self.script.pop(0) if self.script else self.default

    @property
    def webhook_ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            answer = receiver.answer()
            if answer == HANG:
                receiver.release.wait(30)
                return
            self.send_response(answer)
            reply = b'{"ok": true}' if answer < 300 else b"receiver says no"
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A receiver on a free loopback port; stopped (and any hanging request let go) when the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    state = Receiver(f"http://127.0.0.1:{server.server_port}/hooks")
    server.RequestHandlerClass = _handler(state)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


# --- the minimal outbox loop --------------------------------------------------------------


def _local_fan_out(session, subscribers: Sequence[Subscriber], *, limit: int = 100, now: datetime) -> int:
    """Plan the deliveries of the events not yet fanned out, in id order, one write transaction per event; how many events."""
    with all_tenants():
        events = list(session.scalars(select(OutboxEvent).where(OutboxEvent.delivered_at.is_(None)).order_by(OutboxEvent.id).limit(limit)))
    for event in events:
        with tenant_scope(event.tenant_id), write_transaction(session):
            for subscriber in subscribers:
                for planned in subscriber.plan(session, event):
                    session.add(
                        Delivery(
                            message_id=f"msg_{uuid.uuid4().hex}",
                            event_id=event.id,
                            topic=event.topic,
                            subscriber=planned.subscriber,
                            kind=planned.kind,
                            target=planned.target,
                            recipient=planned.recipient,
                            payload=dict(planned.payload),
                            status=DeliveryStatus.pending,
                            attempts=0,
                            next_attempt_at=now,
                            created_at=now,
                        )
                    )
            event.delivered_at = now
    return len(events)


def _local_send_due(session, subscribers: Sequence[Subscriber], *, now: datetime) -> int:
    """Send every delivery due at ``now`` once (outside any transaction), recording the attempt and the outcome; how many were sent."""
    by_kind = {subscriber.kind: subscriber for subscriber in subscribers}
    with all_tenants():
        due = list(session.scalars(select(Delivery).where(Delivery.status == DeliveryStatus.pending, Delivery.next_attempt_at <= now).order_by(Delivery.id)))
    session.commit()
    for delivery in due:
        subscriber = by_kind[delivery.kind]
        with tenant_scope(delivery.tenant_id):
            with write_transaction(session):
                delivery.attempts += 1
                delivery.status = DeliveryStatus.sending
            session.expunge(delivery)
            try:
                result, failure = subscriber.send(delivery), None
            except DeliveryFailed as failed:
                result, failure = SendResult(), failed
            with write_transaction(session):
                delivery = session.merge(delivery)
                outcome = failure or result
                session.add(
                    DeliveryAttempt(
                        delivery_id=delivery.id,
                        attempted_at=now,
                        succeeded=failure is None,
                        response_status=outcome.response_status,
                        latency_ms=0,
                        request=dict(outcome.request) if outcome.request is not None else None,
                        response_excerpt=outcome.response_excerpt,
                        error=failure.error if failure else None,
                    )
                )
                if failure is None:
                    delivery.status, delivery.delivered_at, delivery.last_error = DeliveryStatus.delivered, now, None
                    session.flush()
                    subscriber.on_delivered(session, delivery)
                elif failure.retryable and delivery.attempts <= len(subscriber.retry_delays):
                    delivery.status, delivery.last_error = DeliveryStatus.pending, failure.error
                    delivery.next_attempt_at = now + subscriber.retry_delays[delivery.attempts - 1]
                else:
                    delivery.status, delivery.last_error = DeliveryStatus.dead, failure.error
                    session.flush()
                    subscriber.on_dead(session, delivery)
    return len(due)


def fan_out(session, subscribers: Sequence[Subscriber], *, limit: int = 100, now: datetime) -> int:
    """The engine's fan-out where it exists, else the loop's."""
    if hasattr(engine, "fan_out"):
        return engine.fan_out(session, subscribers, limit=limit, now=now)
    return _local_fan_out(session, subscribers, limit=limit, now=now)


def send_due(session, subscribers: Sequence[Subscriber], *, now: datetime) -> int:
    """The engine's send round where it exists (how many it claimed), else the loop's."""
    if hasattr(engine, "send_due"):
        return engine.send_due(session, subscribers, now=now).claimed
    return _local_send_due(session, subscribers, now=now)
