"""``write_transaction``: how it starts after reads, joins an outer one, commits and rolls back."""

import pytest
from sqlalchemy import event, select, text

from yuyue.db import db, tenant_scope, write_transaction
from yuyue.tenancy.models import Branch, Tenant


@pytest.fixture
def tenant(session):
    with write_transaction(session):
        tenant = Tenant(slug="tenant-a", name="A", time_zone="Asia/Shanghai", locales=["zh-Hans"])
        session.add(tenant)
    return tenant


def _transaction_statements(call):
    seen = []
    listeners = {
        "begin": lambda conn: seen.append("begin"),
        "commit": lambda conn: seen.append("commit"),
        "rollback": lambda conn: seen.append("rollback"),
    }
    for name, listener in listeners.items():
        event.listen(db.engine, name, listener)
    try:
        call()
    finally:
        for name, listener in listeners.items():
            event.remove(db.engine, name, listener)
    return seen


def _read_then_write(session, tenant):
    session.scalar(select(Tenant.name).where(Tenant.id == tenant.id))  # opens a read transaction
    with tenant_scope(tenant.id), write_transaction(session):
        session.add(Branch(code="main", name="Main"))


def test_reads_then_a_write_commit_once_on_postgresql_and_begin_again_immediate_on_sqlite(session, tenant):
    session.commit()
    seen = _transaction_statements(lambda: _read_then_write(session, tenant))
    if session.get_bind().dialect.name == "sqlite":
        assert seen == ["begin", "commit", "begin", "commit"]  # the deferred read ends; the writer starts IMMEDIATE
    else:
        assert seen == ["begin", "commit"]  # the read transaction goes on as the writer
    with tenant_scope(tenant.id):
        assert session.scalars(select(Branch.code)).all() == ["main"]


def test_a_write_after_reads_that_fails_leaves_nothing(session, tenant):
    session.scalar(select(Tenant.name).where(Tenant.id == tenant.id))
    with pytest.raises(RuntimeError, match="refused"):
        with tenant_scope(tenant.id), write_transaction(session):
            session.add(Branch(code="main", name="Main"))
            session.flush()
            raise RuntimeError("refused")
    with tenant_scope(tenant.id):
        assert session.scalars(select(Branch.code)).all() == []


def test_an_inner_write_transaction_joins_the_outer_one(session, tenant):
    with pytest.raises(RuntimeError):
        with tenant_scope(tenant.id), write_transaction(session):
            with write_transaction(session):
                session.add(Branch(code="inner", name="Inner"))
            assert session().in_transaction()  # the inner block did not commit
            raise RuntimeError("the outer one fails")
    with tenant_scope(tenant.id):
        assert session.scalars(select(Branch.code)).all() == []


def test_on_sqlite_the_writer_holds_the_write_lock_from_its_start(session, tenant):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is SQLite's")
    with write_transaction(session):
        other = db.engine.connect()
        try:
            other.exec_driver_sql("PRAGMA busy_timeout = 0")
            with pytest.raises(Exception, match="locked"):
                other.execute(text("BEGIN IMMEDIATE"))
        finally:
            other.close()
