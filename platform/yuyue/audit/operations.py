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

The transaction's last record of each tenant also carries ``state``: the
digests of the audited rows the transaction left (:mod:`yuyue.audit.state`),
part of its hash. :func:`check_chains` walks each chain and then compares every
audited row with the digest last recorded for it, and checks signed
checkpoints (:mod:`yuyue.audit.checkpoints`) against the chains (decisions §34).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, event, insert, inspect, or_, select, update
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from yuyue.audit.canonical import canonical_json, iso_utc
from yuyue.audit.models import AuditHead, AuditRecord
from yuyue.audit.state import audited_tables, collect_state, made_inside, row_key, stream_digests, touched
from yuyue.db import WRITE_INTENT, current_tenant_id, insert_unless_exists, tenant_scope
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

__all__ = [
    "GENESIS_HASH",
    "AuditBreak",
    "ChainReport",
    "StateFinding",
    "canonical_json",
    "check_chains",
    "record",
    "record_baseline",
    "record_hash",
    "touched",
    "verify",
]

GENESIS_HASH = "0" * 64
_LENGTHS = {name: AuditRecord.__table__.c[name].type.length for name in ("actor", "action", "subject_type", "subject_id")}
STREAM_BATCH = 500
# Rows vouched for by one baseline record, so no record grows without bound.
BASELINE_ROWS = 1000
# Where a session keeps the records of its open transaction until they are chained at commit.
_PENDING = "yuyue.audit.pending"


def record_hash(
    prev_hash: str,
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    data: Any,
    state: dict[str, str | None] | None = None,
) -> str:
    """The hash that links a record with these fields to ``prev_hash``.

    ``state`` (the digests of the audited rows its transaction left, decisions §34)
    is part of the hash when the record has one; records without it hash as
    they did before it existed.
    """
    body = {"seq": seq, "at": iso_utc(at), "actor": actor, "action": action, "subject_type": subject_type, "subject_id": subject_id, "data": data}
    if state is not None:
        body["state"] = state
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
    subject_id = checked_fields(actor=actor, action=action, subject_type=subject_type, subject_id=subject_id)
    # Stored exactly as hashed: a JSON round trip turns datetimes, enums and tuples into what verify() reads back.
    data = json.loads(canonical_json(data))
    entry = AuditRecord(tenant_id=tenant_id, actor=actor, action=action, subject_type=subject_type, subject_id=subject_id, data=data)
    session.info.setdefault(_PENDING, []).append(_Pending(entry, session.get_nested_transaction()))
    return entry


def checked_fields(*, actor: str, action: str, subject_type: str, subject_id: str | int) -> str:
    """Refuse a field that does not fit its column (every chain has the same columns); returns ``subject_id`` as text."""
    subject_id = str(subject_id)
    for name, value in (("actor", actor), ("action", action), ("subject_type", subject_type), ("subject_id", subject_id)):
        if not isinstance(value, str) or not value or len(value) > _LENGTHS[name]:
            raise ValueError(f"audit {name} must be 1-{_LENGTHS[name]} characters, got {value!r}")
    return subject_id


@event.listens_for(Session, "before_commit")
def _chain_pending_records(session: Session) -> None:
    session.flush()  # the commit would flush after this listener: flush first, so the state below sees every change
    state = collect_state(session)
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    by_tenant: dict[int, list[AuditRecord]] = {}
    for item in pending:
        by_tenant.setdefault(item.entry.tenant_id, []).append(item.entry)
    for tenant_id, rows in state.items():
        # The transaction's last record of the tenant vouches for the rows; a change nobody recorded still gets one.
        entries = by_tenant.setdefault(tenant_id, [])
        if not entries:
            entries.append(_unrecorded_change(tenant_id, rows))
        entries[-1].state = rows
    for tenant_id in sorted(by_tenant):  # one order for every transaction, so heads never deadlock
        with tenant_scope(tenant_id):
            _append(session, tenant_id, by_tenant[tenant_id])


def _unrecorded_change(tenant_id: int, rows: dict[str, str | None]) -> AuditRecord:
    """The record of a transaction that changed audited rows and recorded nothing: named after its first row."""
    table, _, row_id = min(rows).partition(":")
    return AuditRecord(tenant_id=tenant_id, actor="system", action="state.changed", subject_type=table, subject_id=row_id, data={"rows": len(rows)})


def _append(session: Session, tenant_id: int, entries: list[AuditRecord]) -> None:
    link = _advance_head(session, tenant_id, len(entries))
    if link is None:
        _create_head(session, tenant_id)
        link = _advance_head(session, tenant_id, len(entries))
    last_seq, prev_hash = link
    at = utcnow()
    for seq, entry in enumerate(entries, start=last_seq - len(entries) + 1):
        digest = record_hash(prev_hash, seq=seq, at=at, **_hashed_fields(entry))
        entry.seq, entry.at, entry.prev_hash, entry.hash = seq, at, prev_hash, digest
        prev_hash = digest
    session.execute(_SET_HEAD_HASH, {"head_tenant": tenant_id, "new_hash": prev_hash})
    rows = [{name: getattr(entry, name) for name in _STORED} for entry in entries]
    ids = dict(session.execute(_INSERT_RECORDS, rows).all())
    for entry in entries:
        entry.id = ids[entry.seq]


_STORED = ("tenant_id", "seq", "at", "actor", "action", "subject_type", "subject_id", "data", "state", "prev_hash", "hash")


def _hashed_fields(entry: Any) -> dict[str, Any]:
    return {
        "actor": entry.actor,
        "action": entry.action,
        "subject_type": entry.subject_type,
        "subject_id": entry.subject_id,
        "data": entry.data,
        "state": getattr(entry, "state", None),
    }


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_records(session: Session, rolled_back: SessionTransaction) -> None:
    if not rolled_back.nested:
        session.info.pop(_PENDING, None)
        return
    kept = [item for item in session.info.get(_PENDING, []) if not made_inside(item.savepoint, rolled_back)]
    session.info[_PENDING] = kept


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
class StateFinding:
    """An audited row that disagrees with what the tenant's chain last recorded for it.

    ``reason`` is ``row_changed`` (its audited columns no longer give the digest
    last recorded, or it exists although the chain recorded it deleted),
    ``row_missing`` (the chain says it exists, the table has no such row) or
    ``row_unrecorded`` (no record of the chain covers it).
    """

    tenant: str
    table: str
    row_id: int
    reason: str

    def __str__(self) -> str:
        return f"{self.tenant}: {self.table} {self.row_id}: {self.reason}"


@dataclass(frozen=True)
class Pin:
    """A signed checkpoint: the tenant's chain had ``hash`` at ``seq``; ``line`` is where it is in the checkpoint file."""

    seq: int
    hash: str
    line: int


@dataclass(frozen=True)
class CheckpointFinding:
    """A checkpoint the database disagrees with, or one whose signature does not hold.

    ``reason`` is ``checkpoint_mismatch`` (the chain has another hash at that
    seq: rewritten), ``checkpoint_beyond_head`` (the chain ends before that seq:
    truncated), ``bad_signature`` (the line was forged or edited, or signed by
    another key) or ``malformed_checkpoint`` (the line is not a checkpoint).
    """

    tenant: str
    seq: int | None
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.tenant}: seq {self.seq if self.seq is not None else '?'}: {self.reason} (checkpoint line {self.line})"


@dataclass(frozen=True)
class ChainReport:
    breaks: list[AuditBreak]
    records: int
    tenants: int
    rows: list[StateFinding] = field(default_factory=list)
    checkpoints: list[CheckpointFinding] = field(default_factory=list)
    rows_checked: int = 0
    checkpoints_checked: int = 0

    @property
    def ok(self) -> bool:
        return not (self.breaks or self.rows or self.checkpoints)

    @property
    def findings(self) -> list[AuditBreak | StateFinding | CheckpointFinding]:
        return [*self.checkpoints, *self.breaks, *self.rows]


_READ_HEAD = select(AuditHead.seq, AuditHead.hash)

# Records shown at most for one subject (a booking's trail on its page).
TRAIL_LIMIT = 500


def records_about(session: Session, subjects: Collection[tuple[str, str]], *, limit: int = TRAIL_LIMIT) -> list[AuditRecord]:
    """The audit records of the tenant in context whose subject is one of ``subjects`` (``(subject_type, subject_id)``), in chain order."""
    if not subjects:
        return []
    matches = or_(*(and_(AuditRecord.subject_type == kind, AuditRecord.subject_id == str(key)) for kind, key in subjects))
    return list(session.scalars(select(AuditRecord).where(matches).order_by(AuditRecord.seq).limit(limit)))


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
        AuditRecord.state,
        AuditRecord.prev_hash,
        AuditRecord.hash,
    )
    result = session.execute(select(*columns).order_by(AuditRecord.seq).execution_options(yield_per=STREAM_BATCH))
    try:
        yield from result
    finally:
        result.close()


@dataclass
class _Walk:
    """What walking one tenant's chain found: its first break, the records read, the last digest of each row, the hashes at pinned seqs."""

    found: AuditBreak | None = None
    count: int = 0
    last_state: dict[str, str | None] = field(default_factory=dict)
    pinned_hashes: dict[int, str] = field(default_factory=dict)


def walk_chain(chain: str, records: Iterable[Any], read_head: Callable[[], Any], pinned_seqs: Collection[int] = ()) -> _Walk:
    """Walk one chain, ``records`` in ``seq`` order, up to its first break; ``read_head()`` gives its head row (or None) once the records are read.

    Every chain — a tenant's, the operator chain — is checked here, so their breaks are named alike.
    """
    walk = _Walk()
    seq, prev_hash, last_id = 0, GENESIS_HASH, None
    for row in records:
        walk.count += 1
        seq += 1
        if row.seq != seq:
            walk.found = AuditBreak(chain, seq, row.id, "missing_seq")
            return walk
        if row.prev_hash != prev_hash:
            walk.found = AuditBreak(chain, seq, row.id, "prev_hash_mismatch")
            return walk
        if record_hash(row.prev_hash, seq=row.seq, at=row.at, **_hashed_fields(row)) != row.hash:
            walk.found = AuditBreak(chain, seq, row.id, "hash_mismatch")
            return walk
        if row.seq in pinned_seqs:
            walk.pinned_hashes[row.seq] = row.hash
        if getattr(row, "state", None):
            walk.last_state.update(row.state)
        prev_hash, last_id = row.hash, row.id
    head = read_head()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if (head_seq, head_hash) != (seq, prev_hash):
        first_unmatched = seq if head_seq == seq else min(head_seq, seq) + 1
        walk.found = AuditBreak(chain, first_unmatched, last_id, "head_mismatch")
    return walk


def _check_pins(slug: str, pins: list[Pin], walk: _Walk) -> list[CheckpointFinding]:
    """Each checkpoint against the chain: the same hash at its seq, and a chain that still reaches it."""
    findings = []
    for pin in pins:
        if pin.seq in walk.pinned_hashes:
            if walk.pinned_hashes[pin.seq] != pin.hash:
                findings.append(CheckpointFinding(slug, pin.seq, pin.line, "checkpoint_mismatch"))
        elif walk.found is None:
            findings.append(CheckpointFinding(slug, pin.seq, pin.line, "checkpoint_beyond_head"))
        # else: the chain breaks before it, and the break is reported
    return findings


_ABSENT = object()


def _check_rows(session: Session, slug: str, last_state: dict[str, str | None]) -> tuple[list[StateFinding], int]:
    """Every audited row of the tenant in context against the digest the chain last recorded for it; streams the tables."""
    findings, checked = [], 0
    tables = audited_tables()
    for table in tables.values():
        for row_id, digest in stream_digests(session, table):
            checked += 1
            expected = last_state.pop(row_key(table.name, row_id), _ABSENT)
            if expected is _ABSENT:
                findings.append(StateFinding(slug, table.name, row_id, "row_unrecorded"))
            elif expected != digest:
                findings.append(StateFinding(slug, table.name, row_id, "row_changed"))
    gone = []
    for key, digest in last_state.items():
        name, _, row_id = key.partition(":")
        if digest is not None and name in tables:  # a table no longer audited is not checked
            gone.append(StateFinding(slug, name, int(row_id), "row_missing"))
    return findings + sorted(gone, key=lambda f: (f.table, f.row_id)), checked


def check_chains(session: Session, tenant_id: int | None = None, *, pins: dict[int, tuple[str, list[Pin]]] | None = None, rows: bool = True) -> ChainReport:
    """Walk each tenant's chain (or only ``tenant_id``'s) in ``seq`` order, then compare its audited rows with it; all streamed.

    ``pins`` are verified checkpoints by tenant id (``(slug, [Pin, …])``): each
    is checked against the chain. The rows of a tenant whose chain is broken
    are not compared (the chain cannot say what they should be); with
    ``rows=False`` none are.
    """
    session = _plain_session(session)
    pins = pins or {}
    query = select(Tenant.id, Tenant.slug).order_by(Tenant.id)
    if tenant_id is not None:
        query = query.where(Tenant.id == tenant_id)
    tenants = session.execute(query).all()
    breaks, row_findings, pin_findings, records, rows_checked = [], [], [], 0, 0
    for tenant in tenants:
        tenant_pins = pins.get(tenant.id, (tenant.slug, []))[1]
        with tenant_scope(tenant.id):
            read_head = lambda: session.execute(_READ_HEAD).first()  # noqa: E731 - read after the records, as they were
            walk = walk_chain(tenant.slug, _records_in_order(session), read_head, {pin.seq for pin in tenant_pins})
            pin_findings += _check_pins(tenant.slug, tenant_pins, walk)
            if walk.found is None and rows:
                found, checked = _check_rows(session, tenant.slug, walk.last_state)
                row_findings += found
                rows_checked += checked
        records += walk.count
        if walk.found:
            breaks.append(walk.found)
    known = {tenant.id for tenant in tenants}
    for pinned_id, (slug, tenant_pins) in sorted(pins.items()):
        if pinned_id not in known and (tenant_id is None or pinned_id == tenant_id):  # the tenant's chain is gone altogether
            pin_findings += [CheckpointFinding(slug, pin.seq, pin.line, "checkpoint_beyond_head") for pin in tenant_pins]
    return ChainReport(
        breaks=breaks,
        records=records,
        tenants=len(tenants),
        rows=row_findings,
        checkpoints=pin_findings,
        rows_checked=rows_checked,
        checkpoints_checked=sum(len(p) for _, p in pins.values()),
    )


def verify(session: Session, tenant_id: int | None = None) -> list[AuditBreak]:
    """The first broken link of each tenant's chain; empty when every chain is intact."""
    return check_chains(session, tenant_id, rows=False).breaks


# --- a baseline for rows that were there before the chain vouched for them ------------


def record_baseline(connection: Connection, *, actor: str = "system", action: str = "audit.baseline") -> int:
    """Append to each tenant's chain records vouching for its audited rows as they are now; returns the records written.

    For an installation upgraded to state digests (migration 0006): the rows
    already there were never recorded, so they are taken as they stand. This
    trusts the database at the moment it runs (decisions §34). Runs on a bare
    connection inside the caller's transaction, without the ORM session or
    its tenant filter, so every query names its tenant.
    """
    written = 0
    tenants = connection.execute(select(Tenant.__table__.c.id).order_by(Tenant.__table__.c.id)).scalars().all()
    # An audited table a later migration creates has no rows yet at this one.
    existing = set(inspect(connection).get_table_names())
    for tenant_id in tenants:
        chunks, chunk = [], {}
        for table in (table for table in audited_tables().values() if table.name in existing):
            columns = [table.model.__table__.c[column] for column in table.columns]
            query = select(*columns).where(table.model.__table__.c.tenant_id == tenant_id).order_by(table.model.__table__.c.id)
            for row in connection.execute(query.execution_options(yield_per=STREAM_BATCH)):
                chunk[row_key(table.name, row.id)] = table.digest(row._mapping)
                if len(chunk) == BASELINE_ROWS:
                    chunks.append(chunk)
                    chunk = {}
        if chunk:
            chunks.append(chunk)
        written += _append_baseline(connection, tenant_id, chunks, actor, action)
    return written


def _append_baseline(connection: Connection, tenant_id: int, chunks: list[dict[str, str | None]], actor: str, action: str) -> int:
    if not chunks:
        return 0
    heads = AuditHead.__table__
    head = connection.execute(select(heads.c.seq, heads.c.hash).where(heads.c.tenant_id == tenant_id).with_for_update()).first()
    if head is None:
        connection.execute(insert(heads).values(tenant_id=tenant_id, seq=0, hash=GENESIS_HASH))
        head = (0, GENESIS_HASH)
    seq, prev_hash = head
    at, rows = utcnow(), []
    for number, chunk in enumerate(chunks, start=1):
        seq += 1
        fields = {"actor": actor, "action": action, "subject_type": "tenant", "subject_id": str(tenant_id), "data": {"part": number, "of": len(chunks)}}
        digest = record_hash(prev_hash, seq=seq, at=at, state=chunk, **fields)
        rows.append({"tenant_id": tenant_id, "seq": seq, "at": at, "state": chunk, "prev_hash": prev_hash, "hash": digest, **fields})
        prev_hash = digest
    connection.execute(insert(AuditRecord.__table__), rows)
    connection.execute(update(heads).where(heads.c.tenant_id == tenant_id).values(seq=seq, hash=prev_hash))
    return len(rows)
