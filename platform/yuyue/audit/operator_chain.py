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
from typing import Any

from sqlalchemy import Integer, String, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session

from yuyue.audit.models import ChainLink
from yuyue.audit.operations import GENESIS_HASH, AuditBreak, canonical_json, checked_fields, record_hash, walk_chain
from yuyue.db import WRITE_INTENT, Model, insert_unless_exists
from yuyue.types import utcnow

__all__ = ["CHAIN_NAME", "OperatorAuditHead", "OperatorAuditRecord", "check_operator_chain", "operator_records", "record_operator_action"]

# How a break of this chain is named next to tenant slugs; parentheses keep it from being read as one.
CHAIN_NAME = "(operator)"
_HEAD_ID = 1
STREAM_BATCH = 500


class OperatorAuditRecord(ChainLink, Model):
    """One installation-wide action; ``hash = sha256(prev_hash + canonical JSON of this record)``, as in a tenant chain."""

    __tablename__ = "operator_audit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)


class OperatorAuditHead(Model):
    """The chain's latest link, one row; advancing it serialises appends."""

    __tablename__ = "operator_audit_heads"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


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
    subject_id = checked_fields(actor=actor, action=action, subject_type=subject_type, subject_id=subject_id)
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
    result = session.execute(select(OperatorAuditRecord).order_by(OperatorAuditRecord.seq).execution_options(yield_per=STREAM_BATCH))
    try:
        walk = walk_chain(CHAIN_NAME, result.scalars(), lambda: session.execute(select(OperatorAuditHead.seq, OperatorAuditHead.hash)).first())
    finally:
        result.close()
    return walk.found, walk.count


def operator_records(session: Session, *, after_seq: int = 0, limit: int = 100) -> list[OperatorAuditRecord]:
    """Records of the operator chain with ``seq`` above ``after_seq``, oldest first, at most ``limit``."""
    query = select(OperatorAuditRecord).where(OperatorAuditRecord.seq > after_seq).order_by(OperatorAuditRecord.seq).limit(limit)
    return list(_plain_session(session).scalars(query))
