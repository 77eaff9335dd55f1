"""The operator chain: installation-wide audit records (operator tokens), hash-chained like a tenant's.

Actions that belong to no tenant have no tenant chain to go into. They are
chained here exactly as a tenant's records are (``record_hash`` over the same
fields, ``GENESIS_HASH`` first, a head row holding the last ``seq`` and
``hash``), in a global table as ``api_tokens`` is (decisions §7, §35).
Operator actions are rare, so :func:`record_operator_action` chains the record
at once, holding the head's row lock (PostgreSQL) or the write lock (SQLite)
until the caller's write transaction commits; nothing waits at commit.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session

from yuyue.audit.operations import GENESIS_HASH, AuditBreak, canonical_json, record_hash
from yuyue.db import WRITE_INTENT, Model, insert_unless_exists
from yuyue.types import UTCDateTime, utcnow

__all__ = ["CHAIN_NAME", "OperatorAuditHead", "OperatorAuditRecord", "check_operator_chain", "operator_records", "record_operator_action"]

# How a break of this chain is named next to tenant slugs; parentheses keep it from being read as one.
CHAIN_NAME = "(operator)"
_HEAD_ID = 1
STREAM_BATCH = 500


class OperatorAuditRecord(Model):
    """One installation-wide action; ``hash = sha256(prev_hash + canonical JSON of this record)``, as in a tenant chain."""

    __tablename__ = "operator_audit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OperatorAuditHead(Model):
    """The chain's latest link, one row; advancing it serialises appends."""

    __tablename__ = "operator_audit_heads"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


_LENGTHS = {name: OperatorAuditRecord.__table__.c[name].type.length for name in ("actor", "action", "subject_type", "subject_id")}
_ADVANCE_HEAD = (
    update(OperatorAuditHead)
    .where(OperatorAuditHead.id == _HEAD_ID)
    .values(seq=OperatorAuditHead.seq + 1)
    .returning(OperatorAuditHead.seq, OperatorAuditHead.hash)
    .execution_options(synchronize_session=False)
)


def _plain_session(session: Session | scoped_session) -> Session:
    return session() if isinstance(session, scoped_session) else session


def record_operator_action(session: Session, *, actor: str, action: str, subject_type: str, subject_id: str | int, data: dict[str, Any]) -> OperatorAuditRecord:
    """Append a record to the operator chain inside the caller's write transaction; a rollback drops it.

    Like :func:`yuyue.audit.operations.record`, and with the same checks: the
    fields must fit their columns, and ``data`` is stored exactly as hashed.
    """
    session = _plain_session(session)
    if not (session.in_transaction() and session.connection().get_execution_options().get(WRITE_INTENT)):
        raise RuntimeError("record_operator_action() must run inside the write_transaction() of the change it records")
    subject_id = str(subject_id)
    for name, value in (("actor", actor), ("action", action), ("subject_type", subject_type), ("subject_id", subject_id)):
        if not isinstance(value, str) or not value or len(value) > _LENGTHS[name]:
            raise ValueError(f"audit {name} must be 1-{_LENGTHS[name]} characters, got {value!r}")
    data = json.loads(canonical_json(data))
    link = session.execute(_ADVANCE_HEAD).first()
    if link is None:
        insert_unless_exists(session, OperatorAuditHead, {"id": _HEAD_ID, "seq": 0, "hash": GENESIS_HASH}, ["id"])
        link = session.execute(_ADVANCE_HEAD).first()
    seq, prev_hash, at = link.seq, link.hash, utcnow()
    digest = record_hash(prev_hash, seq=seq, at=at, actor=actor, action=action, subject_type=subject_type, subject_id=subject_id, data=data)
    values = {"seq": seq, "at": at, "actor": actor, "action": action, "subject_type": subject_type, "subject_id": subject_id, "data": data}
    record_id = session.execute(insert(OperatorAuditRecord).values(prev_hash=prev_hash, hash=digest, **values).returning(OperatorAuditRecord.id)).scalar()
    session.execute(update(OperatorAuditHead).where(OperatorAuditHead.id == _HEAD_ID).values(hash=digest).execution_options(synchronize_session=False))
    return OperatorAuditRecord(id=record_id, prev_hash=prev_hash, hash=digest, **values)


def check_operator_chain(session: Session) -> tuple[AuditBreak | None, int]:
    """The chain's first break (named :data:`CHAIN_NAME`, reasons as for a tenant's chain) or None, and the records read."""
    session = _plain_session(session)
    columns = [
        OperatorAuditRecord.__table__.c[name] for name in ("id", "seq", "at", "actor", "action", "subject_type", "subject_id", "data", "prev_hash", "hash")
    ]
    result = session.execute(select(*columns).order_by(OperatorAuditRecord.seq).execution_options(yield_per=STREAM_BATCH))
    seq, prev_hash, last_id, count = 0, GENESIS_HASH, None, 0
    try:
        for row in result:
            count += 1
            seq += 1
            if row.seq != seq:
                return AuditBreak(CHAIN_NAME, seq, row.id, "missing_seq"), count
            if row.prev_hash != prev_hash:
                return AuditBreak(CHAIN_NAME, seq, row.id, "prev_hash_mismatch"), count
            fields = {"at": row.at, "actor": row.actor, "action": row.action, "subject_type": row.subject_type, "subject_id": row.subject_id}
            if record_hash(row.prev_hash, seq=row.seq, data=row.data, **fields) != row.hash:
                return AuditBreak(CHAIN_NAME, seq, row.id, "hash_mismatch"), count
            prev_hash, last_id = row.hash, row.id
    finally:
        result.close()
    head = session.execute(select(OperatorAuditHead.seq, OperatorAuditHead.hash)).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if (head_seq, head_hash) != (seq, prev_hash):
        return AuditBreak(CHAIN_NAME, seq if head_seq == seq else min(head_seq, seq) + 1, last_id, "head_mismatch"), count
    return None, count


def operator_records(session: Session, *, after_seq: int = 0, limit: int = 100) -> list[OperatorAuditRecord]:
    """Records of the operator chain with ``seq`` above ``after_seq``, oldest first, at most ``limit``."""
    query = select(OperatorAuditRecord).where(OperatorAuditRecord.seq > after_seq).order_by(OperatorAuditRecord.seq).limit(limit)
    return list(_plain_session(session).scalars(query))
