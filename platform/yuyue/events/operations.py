"""Write events to the outbox in the caller's transaction.

An event is stored only if the change that emits it commits; the worker
delivers it (:mod:`yuyue.events.delivery`).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session, scoped_session

from yuyue.audit.operations import canonical_json
from yuyue.audit.operations import record as audit_record
from yuyue.db import WRITE_INTENT
from yuyue.events.models import OutboxEvent
from yuyue.events.origins import request_being_answered

__all__ = ["emit", "record_change"]

TOPIC_LENGTH = OutboxEvent.__table__.c.topic.type.length


def record_change(session: Session, *, actor: str, action: str, subject_type: str, subject_id: str | int, payload: dict[str, Any]) -> None:
    """The audit record and the outbox event of one state change, in the caller's write transaction.

    Both or neither: they commit with the change, so every change is audited
    and announced once. The event's topic is the audit action.
    """
    audit_record(session, actor=actor, action=action, subject_type=subject_type, subject_id=subject_id, data=payload)
    emit(session, action, payload)


def emit(session: Session, topic: str, payload: dict[str, Any]) -> OutboxEvent:
    """Add an event for the current tenant to the outbox, in the caller's write transaction.

    The event is written by the transaction's next flush (its commit at the latest), so its ``id`` is set from then on.
    It carries the id of the request being answered, if any (:mod:`yuyue.events.origins`).
    """
    session = session() if isinstance(session, scoped_session) else session
    if not (session.in_transaction() and session.connection().get_execution_options().get(WRITE_INTENT)):
        raise RuntimeError("emit() must run inside the write_transaction() of the change it announces")
    if not isinstance(topic, str) or not topic or len(topic) > TOPIC_LENGTH:
        raise ValueError(f"a topic is 1-{TOPIC_LENGTH} characters, got {topic!r}")
    # Datetimes, dates and enums become the JSON a deliverer will read back.
    event = OutboxEvent(topic=topic, payload=json.loads(canonical_json(payload)), request_id=request_being_answered())
    session.add(event)  # written by the transaction's next flush, at the latest its commit
    return event
