"""The rows the audit log vouches for: which columns of which tables, the digest of a row, and the rows a transaction touched.

A model opts in by naming its audited columns in ``__audited__`` (``id`` first
among them). Every transaction's audit records carry, for each audited row it
wrote, the digest of the row as the transaction left it (``null`` once
deleted), so ``yuyue audit verify`` can compare the tables with the chain
(decisions §34). Rows written through the ORM unit of work are collected by an
``after_flush`` listener; code that writes audited rows with Core statements
reports them with :func:`touched`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from yuyue.audit.canonical import canonical_json
from yuyue.db import Model, current_tenant_id, tenant_scope

__all__ = [
    "AuditedTable",
    "audited",
    "audited_columns",
    "audited_tables",
    "collect_state",
    "made_inside",
    "row_digest",
    "row_key",
    "stream_digests",
    "touched",
]

# Where a session keeps the audited rows its open transaction touched, until they are digested at commit.
_TOUCHED = "yuyue.audit.touched"
STREAM_BATCH = 1000


@dataclass(frozen=True)
class AuditedTable:
    """A model whose rows the audit log vouches for, and the columns that make up a row's digest."""

    model: type
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.model.__table__.name

    def digest(self, values: Mapping[str, Any]) -> str:
        return row_digest(self.name, {column: values[column] for column in self.columns})

    def digest_of(self, obj: Any) -> str:
        return row_digest(self.name, {column: getattr(obj, column) for column in self.columns})


def row_digest(table: str, row: Mapping[str, Any]) -> str:
    """``sha256`` of the canonical JSON of ``{"table": …, "row": {column: value}}``: the table is part of it, so rows cannot move between tables."""
    return hashlib.sha256(canonical_json({"table": table, "row": dict(row)}).encode()).hexdigest()


def row_key(table: str, row_id: int) -> str:
    """How the chain names a row: ``bookings:42``."""
    return f"{table}:{row_id}"


@functools.cache
def audited(model: type) -> AuditedTable | None:
    """The model's audited columns, or None if the audit log does not vouch for its rows."""
    columns = model.__dict__.get("__audited__")
    if not columns:
        return None
    table = model.__table__
    unknown = [column for column in columns if column not in table.c]
    if unknown or columns[0] != "id":
        raise TypeError(f"{model.__name__}.__audited__ must start with 'id' and name its columns (unknown: {unknown})")
    return AuditedTable(model, tuple(columns))


def audited_columns(model: type) -> tuple[Any, ...]:
    """The model's audited column attributes, for ``UPDATE … RETURNING`` them and passing the row to :func:`touched`."""
    return tuple(getattr(model, column) for column in _required(model).columns)


def audited_tables() -> dict[str, AuditedTable]:
    """Every audited table by name; recomputed only when a model is added (plugins may add models)."""
    return _audited_among(len(Model.registry.mappers))


@functools.cache
def _audited_among(mapper_count: int) -> dict[str, AuditedTable]:
    found = (audited(mapper.class_) for mapper in Model.registry.mappers)
    return {table.name: table for table in sorted((t for t in found if t is not None), key=lambda t: t.name)}


# --- collecting what a transaction touched ---------------------------------------------


@dataclass
class _Touch:
    tenant_id: int
    table: AuditedTable
    row_id: int
    obj: Any = None
    values: dict[str, Any] | None = None
    deleted: bool = False
    savepoint: SessionTransaction | None = None


def _plain(session: Session | scoped_session) -> Session:
    return session() if isinstance(session, scoped_session) else session


def _remember(session: Session, touch: _Touch) -> None:
    touch.savepoint = session.get_nested_transaction()
    session.info.setdefault(_TOUCHED, []).append(touch)


def touched(session: Session, model_or_row: Any, row_id: int | None = None, values: Mapping[str, Any] | None = None) -> None:
    """Report an audited row written by a Core statement, so its digest goes into the transaction's audit record.

    - ``touched(session, SlotInventory, 7, values)``: the row's audited columns as
      the statement left them (``UPDATE … RETURNING *audited_columns(SlotInventory)``:
      no extra query, and exact even if another transaction changed other columns
      since this one read the row);
    - ``touched(session, SlotInventory, 7)``: read the row again at commit (one
      ``SELECT`` per table for all such rows);
    - ``touched(session, customer)``: an object whose attributes are the row as
      this transaction leaves it: just inserted (``INSERT … RETURNING`` the
      model), or refreshed after this transaction's UPDATE locked the row.

    Rows written through the ORM unit of work (``session.add``, attribute
    changes, ``session.delete``) need no call: inserted ones are digested from
    the object, updated ones read again at commit (the object may hold columns
    another transaction changed since it was loaded). A row reported without an audit
    record gets one at commit (``state.changed``), so the chain always covers it.
    """
    session = _plain(session)
    if isinstance(model_or_row, type):
        table = _required(model_or_row)
        if row_id is None:
            raise TypeError("touched(session, Model, row_id[, values]) needs the row's id")
        kept = None if values is None else {column: values[column] for column in table.columns}
        _remember(session, _Touch(current_tenant_id(), table, row_id, values=kept))
    else:
        table = _required(type(model_or_row))
        _remember(session, _Touch(model_or_row.tenant_id, table, model_or_row.id, obj=model_or_row))


def _required(model: type) -> AuditedTable:
    table = audited(model)
    if table is None:
        raise TypeError(f"{model.__name__} is not audited: it declares no __audited__ columns")
    return table


@event.listens_for(Session, "after_flush")
def _collect_flushed(session: Session, flush_context) -> None:
    # Still the flush's own lists here: what was inserted, updated or deleted.
    for obj in session.new:
        table = audited(type(obj))
        if table is not None:
            _remember(session, _Touch(obj.tenant_id, table, obj.id, obj=obj))
    for obj in session.dirty:
        table = audited(type(obj))
        if table is not None:
            _remember(session, _Touch(obj.tenant_id, table, obj.id))
    for obj in session.deleted:
        table = audited(type(obj))
        if table is not None:
            _remember(session, _Touch(obj.tenant_id, table, obj.id, deleted=True))


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_touches(session: Session, rolled_back: SessionTransaction) -> None:
    if not rolled_back.nested:
        session.info.pop(_TOUCHED, None)
        return
    if _TOUCHED in session.info:
        session.info[_TOUCHED] = [touch for touch in session.info[_TOUCHED] if not made_inside(touch.savepoint, rolled_back)]


def made_inside(savepoint: SessionTransaction | None, rolled_back: SessionTransaction) -> bool:
    """Whether something made in ``savepoint`` was undone by rolling back ``rolled_back``."""
    while savepoint is not None:
        if savepoint is rolled_back:
            return True
        savepoint = savepoint.parent
    return False


def collect_state(session: Session) -> dict[int, dict[str, str | None]]:
    """Per tenant, ``{row key: digest}`` of every audited row the transaction touched, as it now stands; empties the list.

    Call after the last flush of the transaction. The last report of a row
    wins; rows reported without values are read again here, one ``SELECT`` per
    tenant and table.
    """
    touches: list[_Touch] = session.info.pop(_TOUCHED, [])
    if not touches:
        return {}
    latest: dict[tuple[int, str, int], _Touch] = {}
    for touch in touches:
        latest[(touch.tenant_id, touch.table.name, touch.row_id)] = touch
    state: dict[int, dict[str, str | None]] = {}
    reread: dict[tuple[int, str], list[int]] = {}
    for (tenant_id, name, row_id), touch in latest.items():
        rows = state.setdefault(tenant_id, {})
        if touch.deleted or (touch.obj is not None and inspect(touch.obj).was_deleted):
            rows[row_key(name, row_id)] = None
        elif touch.values is not None:
            rows[row_key(name, row_id)] = touch.table.digest(touch.values)
        elif touch.obj is not None:
            with tenant_scope(tenant_id):  # an expired attribute loads under the row's tenant
                rows[row_key(name, row_id)] = touch.table.digest_of(touch.obj)
        else:
            reread.setdefault((tenant_id, name), []).append(row_id)
    tables = audited_tables()
    for (tenant_id, name), ids in reread.items():
        table = tables[name]
        with tenant_scope(tenant_id):
            found = {row.id: table.digest(row._mapping) for row in session.execute(_columns_of(table).where(table.model.id.in_(ids)))}
        for row_id in ids:
            state[tenant_id][row_key(name, row_id)] = found.get(row_id)
    return state


def _columns_of(table: AuditedTable):
    return select(*(getattr(table.model, column) for column in table.columns))


def stream_digests(session: Session, table: AuditedTable) -> Iterator[tuple[int, str]]:
    """``(id, digest)`` of every row of ``table`` of the tenant in context, in id order, streamed."""
    result = session.execute(_columns_of(table).order_by(table.model.id).execution_options(yield_per=STREAM_BATCH))
    try:
        for row in result:
            yield row.id, table.digest(row._mapping)
    finally:
        result.close()
