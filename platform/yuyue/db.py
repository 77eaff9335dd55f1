"""The database: one metadata, the session, SQLite tuning and the central tenant filter.

Every tenant-owned model inherits :class:`TenantScoped`. The ORM session adds
``tenant_id = <current tenant>`` to every statement that touches such a model,
and refuses (fails closed) when no tenant is in context, so a forgotten filter
cannot leak another tenant's rows.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask_appbuilder import Model
from flask_appbuilder.utils.legacy import get_sqla_class
from sqlalchemy import ForeignKey, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, declared_attr, mapped_column, scoped_session, with_loader_criteria
from sqlalchemy.sql.util import find_tables

__all__ = [
    "ALL_TENANTS",
    "CrossTenantWrite",
    "Model",
    "TenantContextMissing",
    "TenantScoped",
    "all_tenants",
    "current_tenant_id",
    "db",
    "tenant_scope",
    "write_transaction",
]

# Named constraints keep Alembic's SQLite batch migrations and autogenerate stable.
Model.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = get_sqla_class()(session_options={"expire_on_commit": False})

WRITE_INTENT = "yuyue_write"


class TenantContextMissing(RuntimeError):
    """A tenant-owned model was queried or written with no tenant in context."""


class CrossTenantWrite(RuntimeError):
    """A row of one tenant was about to be written while another tenant is in context."""


class _AllTenants:
    def __repr__(self) -> str:
        return "ALL_TENANTS"


ALL_TENANTS = _AllTenants()
_current_tenant: ContextVar[int | _AllTenants | None] = ContextVar("yuyue_tenant", default=None)


class TenantScoped:
    """Mixin for every tenant-owned model: adds ``tenant_id NOT NULL``.

    Models declare their own indexes and unique constraints, each leading with
    ``tenant_id`` (a meta-test checks it).
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - declared_attr receives the class
        return mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False)


@contextmanager
def tenant_scope(tenant_id: int) -> Iterator[int]:
    """Run the block as tenant ``tenant_id``: queries see only its rows, writes may touch only them."""
    if not isinstance(tenant_id, int) or isinstance(tenant_id, bool):
        raise TypeError(f"tenant_scope() needs a tenant id, got {tenant_id!r}")
    token = _current_tenant.set(tenant_id)
    try:
        yield tenant_id
    finally:
        _current_tenant.reset(token)


@contextmanager
def all_tenants() -> Iterator[None]:
    """Run the block across every tenant. Only for operator and system code; kept explicit so it can be audited."""
    token = _current_tenant.set(ALL_TENANTS)
    try:
        yield
    finally:
        _current_tenant.reset(token)


def current_tenant_id() -> int:
    """The tenant in context; raises :class:`TenantContextMissing` if there is none."""
    tenant = _current_tenant.get()
    if not isinstance(tenant, int):
        raise TenantContextMissing("no tenant in context" if tenant is None else "all tenants are in context")
    return tenant


def _tenant_owned_tables() -> frozenset[str]:
    # Recomputed only when a model is added (plugins may add models after start-up).
    return _owned_tables_among(len(Model.registry.mappers))


@functools.cache
def _owned_tables_among(mapper_count: int) -> frozenset[str]:
    return frozenset(mapper.local_table.name for mapper in Model.registry.mappers if issubclass(mapper.class_, TenantScoped))


def _tenant_owned_in(state: ORMExecuteState) -> list[str]:
    """The tenant-owned tables a statement reads: its primary entity, else its entities, else every table it names."""
    primary = state.bind_mapper
    if primary is not None and issubclass(primary.class_, TenantScoped):
        return [primary.local_table.name]
    owned = [m.local_table.name for m in state.all_mappers if issubclass(m.class_, TenantScoped)]
    if owned:
        return owned
    # select_from(), joins and subqueries of statements whose entities are not tenant-owned.
    touched = {table.name for table in find_tables(state.statement, check_columns=True, include_crud=True) if isinstance(table, Table)}
    return sorted(touched & _tenant_owned_tables())


@event.listens_for(Session, "do_orm_execute")
def _filter_by_current_tenant(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_insert:
        return
    owned = _tenant_owned_in(state)
    if not owned:
        return
    tenant = _current_tenant.get()
    if tenant is ALL_TENANTS:
        return
    if tenant is None:
        raise TenantContextMissing(f"query on tenant-owned {', '.join(owned)} with no tenant in context")
    state.statement = _filtered(state.statement, tenant)


_TENANTS_PER_STATEMENT = 64
_filtered_statements: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _filtered(statement, tenant: int):
    """``statement`` with the tenant's criteria, kept per statement object while it lives.

    A statement built once at import (parameters as ``bindparam``) is then
    filtered and cache-keyed once per tenant instead of at every execution;
    one built per call dies with its entry.
    """
    per_tenant = _filtered_statements.get(statement)
    if per_tenant is None:
        per_tenant = _filtered_statements[statement] = {}
    filtered = per_tenant.get(tenant)
    if filtered is None:
        if len(per_tenant) >= _TENANTS_PER_STATEMENT:
            per_tenant.clear()
        filtered = per_tenant[tenant] = statement.options(_tenant_criteria(tenant))
    return filtered


@functools.lru_cache(maxsize=4096)
def _tenant_criteria(tenant: int):
    """The ``tenant_id = :tenant`` criteria of one tenant, built once: building it costs as much as the query it guards."""
    return with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant, include_aliases=True)


@event.listens_for(Session, "before_flush")
def _stamp_and_guard_tenant(session: Session, flush_context, instances) -> None:
    tenant = _current_tenant.get()
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if not isinstance(obj, TenantScoped):
            continue
        if tenant is ALL_TENANTS:
            if obj.tenant_id is None:
                raise TenantContextMissing(f"new {type(obj).__name__} has no tenant_id")
            continue
        if tenant is None:
            raise TenantContextMissing(f"write to tenant-owned {type(obj).__name__} with no tenant in context")
        if obj.tenant_id is None:
            obj.tenant_id = tenant
        elif obj.tenant_id != tenant:
            raise CrossTenantWrite(f"{type(obj).__name__} of tenant {obj.tenant_id} written as tenant {tenant}")


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and explicit BEGIN so write transactions can start IMMEDIATE.

    pysqlite's own transaction handling is switched off (the SQLAlchemy recipe);
    a write transaction takes the write lock up front, so concurrent writers wait
    on the busy timeout instead of failing with "database is locked" on upgrade.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = "IMMEDIATE" if connection.get_execution_options().get(WRITE_INTENT) else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")


def insert_unless_exists(session: Session, model: type, values: dict, unique: list[str], *, returning=None):
    """``INSERT … ON CONFLICT (unique) DO NOTHING`` on SQLite and PostgreSQL; a concurrent creator wins silently.

    Returns the new row's id (or ``returning``: ``model`` itself gives the new
    object), or None when a row with that key already existed.
    """
    statement = _insert_unless_exists_statement(session.get_bind().dialect.name, model, tuple(unique), returning)
    return session.execute(statement, values).scalar()


@functools.cache
def _insert_unless_exists_statement(dialect: str, model: type, unique: tuple[str, ...], returning):
    """Built once per model and key: the values come as parameters."""
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return insert(model).on_conflict_do_nothing(index_elements=list(unique)).returning(model.id if returning is None else returning)


@contextmanager
def write_transaction(session: Session | scoped_session | None = None) -> Iterator[Session]:
    """A transaction that writes: commits on success, rolls back on error.

    On SQLite it begins IMMEDIATE, and a read-only transaction already open is
    ended first (a deferred transaction cannot safely upgrade to a writer); on
    PostgreSQL an open read transaction goes on as the writer, which saves a
    round trip. Inside another write transaction it joins that one.
    """
    session = session or db.session
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction() and session.connection().get_execution_options().get(WRITE_INTENT):
        yield session  # joined by an outer write_transaction, which commits
        return
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("write_transaction() entered with unflushed changes")
        if session.get_bind().dialect.name == "sqlite":
            session.commit()  # ends the read; unlike rollback it leaves loaded objects usable
            session.connection(execution_options={WRITE_INTENT: True})
        else:
            session.connection().execution_options(**{WRITE_INTENT: True})  # changes the connection in place, for this transaction
    else:
        session.connection(execution_options={WRITE_INTENT: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
