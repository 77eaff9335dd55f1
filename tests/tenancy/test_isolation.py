"""The central tenant filter: fails closed, never leaks, refuses cross-tenant writes."""

import pytest
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import aliased

from yuyue.db import CrossTenantWrite, Model, TenantContextMissing, TenantScoped, all_tenants, tenant_scope, write_transaction
from yuyue.tenancy.models import Branch, Tenant


@pytest.fixture
def two_tenants(session):
    with write_transaction(session):
        a = Tenant(slug="tenant-a", name="A", time_zone="Asia/Shanghai", locales=["zh-Hans"])
        b = Tenant(slug="tenant-b", name="B", time_zone="Europe/Berlin", locales=["en"])
        session.add_all([a, b])
        session.flush()
        for tenant, codes in ((a, ["a1", "a2"]), (b, ["b1"])):
            with tenant_scope(tenant.id):
                session.add_all(Branch(code=code, name=code.upper()) for code in codes)
                session.flush()
    session.expunge_all()
    return a, b


def test_query_of_tenant_owned_model_with_no_tenant_raises(session, two_tenants):
    with pytest.raises(TenantContextMissing, match="branches"):
        session.scalars(select(Branch)).all()


def test_count_with_no_tenant_raises_too(session, two_tenants):
    with pytest.raises(TenantContextMissing):
        session.scalar(select(func.count()).select_from(Branch))


def test_count_in_tenant_context_counts_only_that_tenant(session, two_tenants):
    a, _ = two_tenants
    with tenant_scope(a.id):
        assert session.scalar(select(func.count()).select_from(Branch)) == 2


def test_subqueries_are_filtered(session, two_tenants):
    a, b = two_tenants
    inner = select(Branch.id).where(Branch.code.like("b%")).scalar_subquery()
    with tenant_scope(a.id):
        assert session.scalar(select(func.count()).where(inner.is_not(None))) == 0


def test_tenant_a_sees_only_its_rows(session, two_tenants):
    a, b = two_tenants
    with tenant_scope(a.id):
        codes = session.scalars(select(Branch.code).order_by(Branch.code)).all()
    assert codes == ["a1", "a2"]


def test_explicit_filter_for_other_tenant_returns_nothing(session, two_tenants):
    a, b = two_tenants
    with tenant_scope(a.id):
        assert session.scalars(select(Branch).where(Branch.tenant_id == b.id)).all() == []


def test_aliases_and_joins_are_filtered(session, two_tenants):
    a, b = two_tenants
    other = aliased(Branch)
    with tenant_scope(b.id):
        rows = session.execute(select(Branch.code, other.code).join(other, other.id != Branch.id)).all()
        assert rows == []  # b has one branch; a's branches must not appear as join partners
    with tenant_scope(a.id):
        rows = session.execute(select(Branch.code, other.code).join(other, other.id != Branch.id)).all()
        assert sorted(rows) == [("a1", "a2"), ("a2", "a1")]


def test_bulk_update_and_delete_touch_only_current_tenant(session, two_tenants):
    a, b = two_tenants
    with tenant_scope(a.id), write_transaction(session):
        session.execute(update(Branch).values(name="renamed"))
        session.execute(delete(Branch).where(Branch.code == "b1"))
    with tenant_scope(b.id):
        assert session.scalars(select(Branch.name)).all() == ["B1"]


def test_new_row_is_stamped_with_current_tenant(session, two_tenants):
    a, _ = two_tenants
    with tenant_scope(a.id), write_transaction(session):
        branch = Branch(code="a3", name="A3")
        session.add(branch)
    assert branch.tenant_id == a.id


def test_writing_another_tenants_row_is_refused(session, two_tenants):
    a, b = two_tenants
    with tenant_scope(a.id), pytest.raises(CrossTenantWrite):
        with write_transaction(session):
            session.add(Branch(tenant_id=b.id, code="sneaky", name="X"))
    with all_tenants():
        assert session.scalar(select(func.count()).select_from(Branch).where(Branch.code == "sneaky")) == 0


def test_write_with_no_tenant_is_refused(session, two_tenants):
    with pytest.raises(TenantContextMissing):
        with write_transaction(session):
            session.add(Branch(code="orphan", name="X"))


def test_all_tenants_scope_sees_everything(session, two_tenants):
    with all_tenants():
        assert session.scalar(select(func.count()).select_from(Branch)) == 3


def test_tenant_scope_is_restored_after_block(session, two_tenants):
    a, b = two_tenants
    with tenant_scope(a.id):
        with tenant_scope(b.id):
            assert session.scalars(select(Branch.code)).all() == ["b1"]
        assert len(session.scalars(select(Branch.code)).all()) == 2


_BRANCH_CODES = select(Branch.code).where(Branch.code.like(bindparam("pattern"))).order_by(Branch.code)


def test_a_statement_built_once_is_filtered_for_each_tenant_that_runs_it(session, two_tenants):
    """The filtered form of a prebuilt statement is kept per tenant: it must never serve one tenant's criteria to another."""
    a, b = two_tenants
    for _ in range(2):  # the second round runs the kept forms
        with tenant_scope(a.id):
            assert session.scalars(_BRANCH_CODES, {"pattern": "%"}).all() == ["a1", "a2"]
        with tenant_scope(b.id):
            assert session.scalars(_BRANCH_CODES, {"pattern": "%"}).all() == ["b1"]
        with pytest.raises(TenantContextMissing):
            session.scalars(_BRANCH_CODES, {"pattern": "%"}).all()
        with all_tenants():
            assert session.scalars(_BRANCH_CODES, {"pattern": "%1"}).all() == ["a1", "b1"]


def test_a_prebuilt_update_changes_only_the_current_tenants_rows(session, two_tenants):
    a, b = two_tenants
    rename = update(Branch).where(Branch.code == bindparam("old")).values(name=bindparam("new_name")).execution_options(synchronize_session=False)
    with tenant_scope(b.id), write_transaction(session):
        assert session.execute(rename, {"old": "a1", "new_name": "taken"}).rowcount == 0
    with tenant_scope(a.id), write_transaction(session):
        assert session.execute(rename, {"old": "a1", "new_name": "mine"}).rowcount == 1
    with all_tenants():
        assert session.scalars(select(Branch.name).order_by(Branch.code)).all() == ["mine", "A2", "B1"]


def test_tenant_scope_needs_an_integer_id():
    with pytest.raises(TypeError):
        with tenant_scope("tenant-a"):
            pass


def _tenant_tables():
    from yuyue import models  # noqa: F401 - every model registered

    return [mapper.local_table for mapper in Model.registry.mappers if issubclass(mapper.class_, TenantScoped)]


def test_every_tenant_owned_table_has_non_null_tenant_id_leading_its_indexes():
    tables = _tenant_tables()
    assert tables, "no tenant-owned tables found"
    for table in tables:
        assert table.c.tenant_id.nullable is False, table.name
        for index in table.indexes:
            assert index.columns.keys()[0] == "tenant_id", f"{table.name}.{index.name} does not lead with tenant_id"
        for constraint in table.constraints:
            if constraint.__class__.__name__ == "UniqueConstraint":
                assert constraint.columns.keys()[0] == "tenant_id", f"{table.name}: unique constraint without tenant_id first"
