"""Append to and verify the per-tenant hash chain of audit records.

Each record's ``hash`` is ``sha256(prev_hash + canonical JSON of its fields)``, and
the tenant's :class:`AuditHead` holds the latest ``seq`` and ``hash``.
:func:`record` only queues a record in the session; the transaction's records
are chained and written when it commits (a ``before_commit`` listener), by one
atomic ``UPDATE`` of the head row per tenant, one multi-row ``INSERT`` and one
``UPDATE`` of the head's hash. The head row stays locked (PostgreSQL) or covered
by the write lock (SQLite, ``BEGIN IMMEDIATE``) until the commit ends, so two
transactions can never chain to the same link, and a tenant's transactions are
serialised only for those last statements and the commit, not for their
whole length (decisions §24).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from yuyue.audit.models import AuditHead, AuditRecord
from yuyue.db import WRITE_INTENT, current_tenant_id, insert_unless_exists, tenant_scope
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

__all__ = ["GENESIS_HASH", "AuditBreak", "ChainReport", "canonical_json", "check_chains", "record", "record_hash", "verify"]

GENESIS_HASH = "0" * 64
_LENGTHS = {name: AuditRecord.__table__.c[name].type.length for name in ("actor", "action", "subject_type", "subject_id")}
STREAM_BATCH = 500
# Where a session keeps the records of its open transaction until they are chained at commit.
_PENDING = "yuyue.audit.pending"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} in audit data: pass an aware datetime")
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in audit data")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text kept as is; aware datetimes as ISO 8601 UTC."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default)


def record_hash(prev_hash: str, *, seq: int, at: datetime, actor: str, action: str, subject_type: str, subject_id: str, data: Any) -> str:
    """The hash that links a record with these fields to ``prev_hash``."""
    body = {"seq": seq, "at": _iso(at), "actor": actor, "action": action, "subject_type": subject_type, "subject_id": subject_id, "data": data}
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


def _plain_session(session: Session | scoped_session) -> Session:
    return session() if isinstance(session, scoped_session) else session


def _in_write_transaction(session: Session) -> bool:
    return session.in_transaction() and bool(session.connection().get_execution_options().get(WRITE_INTENT))


_ADVANCE_HEAD = (
    update(AuditHead)
    .where(AuditHead.tenant_id == bindparam("head_tenant"))
    .values(seq=AuditHead.seq + bindparam("count"))
    .returning(AuditHead.seq, AuditHead.hash)
    .execution_options(synchronize_session=False)
)
_SET_HEAD_HASH = (
    update(AuditHead).where(AuditHead.tenant_id == bindparam("head_tenant")).values(hash=bindparam("new_hash")).execution_options(synchronize_session=False)
)
_INSERT_RECORDS = insert(AuditRecord.__table__).returning(AuditRecord.seq, AuditRecord.id)


def _advance_head(session: Session, tenant_id: int, count: int) -> tuple[int, str] | None:
    """Take ``count`` sequence numbers; returns (last new seq, hash before them), or None if the tenant has no head yet."""
    row = session.execute(_ADVANCE_HEAD, {"head_tenant": tenant_id, "count": count}).first()
    return (row.seq, row.hash) if row else None


def _create_head(session: Session, tenant_id: int) -> None:
    """Create the tenant's head at seq 0; a concurrent creator wins silently."""
    insert_unless_exists(session, AuditHead, {"tenant_id": tenant_id, "seq": 0, "hash": GENESIS_HASH}, ["tenant_id"])


@dataclass
class _Pending:
    """A record waiting for its transaction to commit, and the savepoint it was made in (if any)."""

    entry: AuditRecord
    savepoint: SessionTransaction | None = field(default=None, repr=False)


def record(session: Session, *, actor: str, action: str, subject_type: str, subject_id: str | int, data: dict[str, Any]) -> AuditRecord:
    """Queue a record for the current tenant's chain; it is chained and written when the caller's write transaction commits.

    Returns the record, whose ``seq``, ``at``, ``prev_hash`` and ``hash`` are
    set at commit; ``at`` is the commit time, taken while holding the head, so
    times never run backwards along the chain. A rollback (of the transaction,
    or of the savepoint the record was made in) drops it.
    """
    session = _plain_session(session)
    if not _in_write_transaction(session):
        raise RuntimeError("audit.record() must run inside the write_transaction() of the change it records")
    tenant_id = current_tenant_id()
    subject_id = str(subject_id)
    for name, value in (("actor", actor), ("action", action), ("subject_type", subject_type), ("subject_id", subject_id)):
        if not isinstance(value, str) or not value or len(value) > _LENGTHS[name]:
            raise ValueError(f"audit {name} must be 1-{_LENGTHS[name]} characters, got {value!r}")
    # Stored exactly as hashed: a JSON round trip turns datetimes, enums and tuples into what verify() reads back.
    data = json.loads(canonical_json(data))
    entry = AuditRecord(tenant_id=tenant_id, actor=actor, action=action, subject_type=subject_type, subject_id=subject_id, data=data)
    session.info.setdefault(_PENDING, []).append(_Pending(entry, session.get_nested_transaction()))
    return entry


@event.listens_for(Session, "before_commit")
def _chain_pending_records(session: Session) -> None:
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    by_tenant: dict[int, list[AuditRecord]] = {}
    for item in pending:
        by_tenant.setdefault(item.entry.tenant_id, []).append(item.entry)
    for tenant_id in sorted(by_tenant):  # one order for every transaction, so heads never deadlock
        with tenant_scope(tenant_id):
            _append(session, tenant_id, by_tenant[tenant_id])


def _append(session: Session, tenant_id: int, entries: list[AuditRecord]) -> None:
    link = _advance_head(session, tenant_id, len(entries))
    if link is None:
        _create_head(session, tenant_id)
        link = _advance_head(session, tenant_id, len(entries))
    last_seq, prev_hash = link
    at = utcnow()
    for seq, entry in enumerate(entries, start=last_seq - len(entries) + 1):
        fields = {"actor": entry.actor, "action": entry.action, "subject_type": entry.subject_type, "subject_id": entry.subject_id, "data": entry.data}
        digest = record_hash(prev_hash, seq=seq, at=at, **fields)
        entry.seq, entry.at, entry.prev_hash, entry.hash = seq, at, prev_hash, digest
        prev_hash = digest
    session.execute(_SET_HEAD_HASH, {"head_tenant": tenant_id, "new_hash": prev_hash})
    columns = ("tenant_id", "seq", "at", "actor", "action", "subject_type", "subject_id", "data", "prev_hash", "hash")
    rows = [{name: getattr(entry, name) for name in columns} for entry in entries]
    ids = dict(session.execute(_INSERT_RECORDS, rows).all())
    for entry in entries:
        entry.id = ids[entry.seq]


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_records(session: Session, rolled_back: SessionTransaction) -> None:
    if not rolled_back.nested:
        session.info.pop(_PENDING, None)
        return
    kept = [item for item in session.info.get(_PENDING, []) if not _made_inside(item.savepoint, rolled_back)]
    session.info[_PENDING] = kept


def _made_inside(savepoint: SessionTransaction | None, rolled_back: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is rolled_back:
            return True
        savepoint = savepoint.parent
    return False


@dataclass(frozen=True)
class AuditBreak:
    """The first broken link of one tenant's chain.

    ``reason`` is ``hash_mismatch`` (the record's fields no longer give its hash),
    ``prev_hash_mismatch`` (it does not point at the record before it),
    ``missing_seq`` (a record is missing: ``seq`` is the number expected) or
    ``head_mismatch`` (the chain's end disagrees with the tenant's head: trailing
    records deleted, or the head edited).
    """

    tenant: str
    seq: int
    record_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"record {self.record_id}" if self.record_id is not None else "no record"
        return f"{self.tenant}: seq {self.seq} ({where}): {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    breaks: list[AuditBreak]
    records: int
    tenants: int

    @property
    def ok(self) -> bool:
        return not self.breaks


def _records_in_order(session: Session) -> Iterator[Any]:
    columns = (
        AuditRecord.id,
        AuditRecord.seq,
        AuditRecord.at,
        AuditRecord.actor,
        AuditRecord.action,
        AuditRecord.subject_type,
        AuditRecord.subject_id,
        AuditRecord.data,
        AuditRecord.prev_hash,
        AuditRecord.hash,
    )
    result = session.execute(select(*columns).order_by(AuditRecord.seq).execution_options(yield_per=STREAM_BATCH))
    try:
        yield from result
    finally:
        result.close()


def _check_tenant(session: Session, slug: str) -> tuple[AuditBreak | None, int]:
    """The first break of the tenant in context (or None) and the number of records read."""
    seq, prev_hash, last_id, count = 0, GENESIS_HASH, None, 0
    for row in _records_in_order(session):
        count += 1
        seq += 1
        if row.seq != seq:
            return AuditBreak(slug, seq, row.id, "missing_seq"), count
        if row.prev_hash != prev_hash:
            return AuditBreak(slug, seq, row.id, "prev_hash_mismatch"), count
        fields = {"at": row.at, "actor": row.actor, "action": row.action, "subject_type": row.subject_type, "subject_id": row.subject_id}
        if record_hash(row.prev_hash, seq=row.seq, data=row.data, **fields) != row.hash:
            return AuditBreak(slug, seq, row.id, "hash_mismatch"), count
        prev_hash, last_id = row.hash, row.id
    head = session.execute(select(AuditHead.seq, AuditHead.hash)).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if (head_seq, head_hash) != (seq, prev_hash):
        first_unmatched = seq if head_seq == seq else min(head_seq, seq) + 1
        return AuditBreak(slug, first_unmatched, last_id, "head_mismatch"), count
    return None, count


def check_chains(session: Session, tenant_id: int | None = None) -> ChainReport:
    """Walk each tenant's chain (or only ``tenant_id``'s) in ``seq`` order, streaming the rows."""
    session = _plain_session(session)
    query = select(Tenant.id, Tenant.slug).order_by(Tenant.id)
    if tenant_id is not None:
        query = query.where(Tenant.id == tenant_id)
    tenants = session.execute(query).all()
    breaks, records = [], 0
    for tenant in tenants:
        with tenant_scope(tenant.id):
            found, count = _check_tenant(session, tenant.slug)
        records += count
        if found:
            breaks.append(found)
    return ChainReport(breaks=breaks, records=records, tenants=len(tenants))


def verify(session: Session, tenant_id: int | None = None) -> list[AuditBreak]:
    """The first broken link of each tenant's chain; empty when every chain is intact."""
    return check_chains(session, tenant_id).breaks
