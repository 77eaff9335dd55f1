"""Through the API, the operator sees every tenant while each tenant's stored plugins stay its own."""

from __future__ import annotations

from sqlalchemy import select

from yuyue.db import all_tenants, tenant_scope
from yuyue.provisioning.operations import get_tenant
from yuyue.tenancy.models import TenantPlugin

TENANTS = "/api/v1/operator/tenants"
EXHIBITION = {"max_persons_per_account_per_day": 4}


def stored_plugins(session, slug: str) -> dict[str, dict]:
    session.expunge_all()
    with tenant_scope(get_tenant(session, slug).id):
        return {row.plugin: row.config for row in session.scalars(select(TenantPlugin))}


def test_staff_token_is_refused_even_for_its_own_tenant(client, problem, staff_headers):
    problem(client.get(f"{TENANTS}/tenant-a", headers=staff_headers), 403, "forbidden")


def test_operator_lists_tenants_it_created(operator, create_tenant):
    create_tenant("tenant-a", plugins={"exhibition": EXHIBITION})
    create_tenant("tenant-b", plugins={"course": {}})

    tenants = {t["slug"]: t["plugins"] for t in operator.get(TENANTS).get_json()["tenants"]}

    assert tenants == {"tenant-a": {"exhibition": EXHIBITION}, "tenant-b": {"course": {}}}


def test_plugins_stored_for_one_tenant_are_invisible_to_another(create_tenant, session):
    create_tenant("tenant-a", plugins={"exhibition": EXHIBITION, "activity": {}})
    create_tenant("tenant-b")

    assert stored_plugins(session, "tenant-b") == {}
    assert stored_plugins(session, "tenant-a") == {"activity": {}, "exhibition": EXHIBITION}


def test_each_tenant_row_carries_its_own_tenant_id(create_tenant, session):
    create_tenant("tenant-a", plugins={"exhibition": EXHIBITION})
    create_tenant("tenant-b", plugins={"exhibition": {}})
    session.expunge_all()

    with all_tenants():
        owners = {(row.tenant_id, row.plugin) for row in session.scalars(select(TenantPlugin))}

    assert owners == {(get_tenant(session, "tenant-a").id, "exhibition"), (get_tenant(session, "tenant-b").id, "exhibition")}


def test_replacing_one_tenants_plugins_leaves_another_tenants_alone(operator, create_tenant, session):
    create_tenant("tenant-a", plugins={"exhibition": EXHIBITION})
    create_tenant("tenant-b", plugins={"exhibition": {}})

    operator.put(f"{TENANTS}/tenant-b/plugins", json={"plugins": {"course": {}}})

    assert stored_plugins(session, "tenant-a") == {"exhibition": EXHIBITION}
    assert stored_plugins(session, "tenant-b") == {"course": {}}


def test_suspending_one_tenant_leaves_another_active(operator, create_tenant):
    create_tenant("tenant-a")
    create_tenant("tenant-b")

    operator.post(f"{TENANTS}/tenant-b/suspend")

    assert {t["slug"]: t["status"] for t in operator.get(TENANTS).get_json()["tenants"]} == {"tenant-a": "active", "tenant-b": "suspended"}
