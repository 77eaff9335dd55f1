"""Which request an outbox event was written for, so that what the worker logs about delivering it can be found by that request's id.

The request-id middleware (``yuyue.observability.logs``, which sits above this area) enters
:func:`answering_request` around every request, and :func:`yuyue.events.operations.emit` stamps each
event with :func:`request_being_answered`. The delivery engine enters :func:`delivering` while it plans
and sends an event's deliveries, and the log filter adds :func:`event_in_delivery` to every record
written meanwhile, the subscribers' own included.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["EventOrigin", "answering_request", "delivering", "event_in_delivery", "request_being_answered"]


@dataclass(frozen=True)
class EventOrigin:
    """The event being delivered and the request that wrote it (None: written by the worker or a command)."""

    event_id: int
    request_id: str | None


_answering: ContextVar[str | None] = ContextVar("yuyue_events_request_id", default=None)
_delivering: ContextVar[EventOrigin | None] = ContextVar("yuyue_event_in_delivery", default=None)


@contextmanager
def answering_request(request_id: str) -> Iterator[None]:
    """Events emitted inside were written while answering the request ``request_id``."""
    token = _answering.set(request_id)
    try:
        yield
    finally:
        _answering.reset(token)


def request_being_answered() -> str | None:
    return _answering.get()


@contextmanager
def delivering(event_id: int, request_id: str | None) -> Iterator[None]:
    """What is logged inside is about delivering event ``event_id``, written by request ``request_id``."""
    token = _delivering.set(EventOrigin(event_id, request_id))
    try:
        yield
    finally:
        _delivering.reset(token)


def event_in_delivery() -> EventOrigin | None:
    return _delivering.get()
