"""Plan limits: set by the operator in the console or the operator API, enforced where booking types, resources and staff are created."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from yuyue.audit.models import AuditRecord
from yuyue.db import tenant_scope
from yuyue.provisioning.operations import get_tenant, list_staff, set_plan_limits
from yuyue.tenancy.models import StaffRole

PLAN = "/admin/operator/tenants/tenant-a/plan"
RESOURCES_API = "/api/v1/t/{tenant}/admin/resources"
TYPES_API = "/api/v1/t/{tenant}/admin/booking-types"


def coach(code: str) -> dict:
    return {"kind": "coach", "code": code, "name": {"zh-Hans": code}}


def test_the_operator_sets_a_plan_in_the_console_audited(admin_login, admin_users, session, tenants):
    operator = admin_login("operator")

    response = operator.post(PLAN, data={"max_resources": "1", "max_booking_types": "", "max_staff": "10"})

    assert response.status_code == 302
    assert get_tenant(session, "tenant-a").plan_limits == {"max_resources": 1, "max_staff": 10}
    page = operator.get("/admin/operator/tenants/tenant-a/").get_data(as_text=True)
    assert 'name="max_resources" min="0" value="1"' in page
    with tenant_scope(get_tenant(session, "tenant-a").id):
        [record] = session.scalars(select(AuditRecord).where(AuditRecord.action == "tenant.plan_changed"))
    assert record.actor == f"operator-user:{admin_users['operator']}" and record.data["limits"] == {"max_resources": 1, "max_staff": 10}


@pytest.mark.parametrize("typed", ["-3", "many", "1e3", "9" * 30])
def test_a_limit_that_is_not_a_whole_number_is_refused_next_to_its_field(admin_login, session, tenants, typed):
    response = admin_login("operator").post(PLAN, data={"max_resources": typed})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'name="max_resources" min="0" value="{typed}" aria-invalid="true"' in page
    assert get_tenant(session, "tenant-a").plan_limits == {}


def test_a_resource_beyond_the_plan_is_refused_by_the_merchant_api(session, tenants, staff_client, problem):
    set_plan_limits(session, "tenant-a", {"max_resources": 1})
    manager, manager_b = staff_client("tenant-a", StaffRole.manager), staff_client("tenant-b", StaffRole.manager)

    assert manager.post(RESOURCES_API.format(tenant="tenant-a"), json=coach("coach-1")).status_code == 201
    body = problem(manager.post(RESOURCES_API.format(tenant="tenant-a"), json=coach("coach-2")), 409, "plan_limit_reached")

    assert "at most 1 resources" in body["detail"] and "max_resources" in body["detail"]
    assert len(manager.get(RESOURCES_API.format(tenant="tenant-a")).get_json()["resources"]) == 1
    assert manager_b.post(RESOURCES_API.format(tenant="tenant-b"), json=coach("coach-2")).status_code == 201, "tenant-b has no limit"


def test_a_resource_beyond_the_plan_is_refused_in_the_admin_with_the_form_kept(admin_login, session, tenants):
    set_plan_limits(session, "tenant-a", {"max_resources": 0})

    response = admin_login("manager-a").post(
        "/admin/t/tenant-a/resources/new", data={"kind": "coach", "code": "coach-9", "name-zh-Hans": "九号", "hours_mode": "always", "action": "save"}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "最多允许 0 个资源" in page and 'value="coach-9"' in page and 'value="九号"' in page


def test_a_booking_type_beyond_the_plan_set_through_the_operator_api_is_refused(operator, session, tenants, staff_client, problem):
    assert operator.put("/api/v1/operator/tenants/tenant-a/plan", json={"limits": {"max_booking_types": 1}}).get_json() == {"limits": {"max_booking_types": 1}}
    manager = staff_client("tenant-a", StaffRole.manager)

    assert manager.post(TYPES_API.format(tenant="tenant-a"), json={"vertical": "course", "slug": "yoga", "name": "Yoga"}).status_code == 201
    body = problem(
        manager.post(TYPES_API.format(tenant="tenant-a"), json={"vertical": "course", "slug": "pilates", "name": "Pilates"}), 409, "plan_limit_reached"
    )

    assert "max_booking_types = 1" in body["detail"]
    assert [t["slug"] for t in manager.get(TYPES_API.format(tenant="tenant-a")).get_json()["booking_types"]] == ["yoga"]


def test_the_operator_api_reads_the_plan_and_refuses_a_bad_one(operator, tenants, problem):
    operator.put("/api/v1/operator/tenants/tenant-b/plan", json={"limits": {"max_staff": 3}})

    assert operator.get("/api/v1/operator/tenants/tenant-b/plan").get_json() == {"limits": {"max_staff": 3}}
    assert operator.get("/api/v1/operator/tenants/tenant-b").get_json()["plan_limits"] == {"max_staff": 3}
    body = problem(operator.put("/api/v1/operator/tenants/tenant-b/plan", json={"limits": {"max_staff": -1, "max_rockets": 2}}), 422, "validation_failed")
    assert {e["pointer"] for e in body["errors"]} >= {"/limits/max_staff"}
    problem(operator.get("/api/v1/operator/tenants/no-such/plan"), 404)


def test_the_plan_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    assert {"get", "put"} <= paths["/api/v1/operator/tenants/{slug}/plan"].keys()


def test_a_staff_member_beyond_the_plan_is_refused_and_no_account_is_left(app, admin_login, session, tenants):
    set_plan_limits(session, "tenant-a", {"max_staff": 4})  # owner-a, manager-a, staff-a and both
    operator = admin_login("operator")

    response = operator.post(
        "/admin/operator/tenants/tenant-a/staff", data={"username": "fifth", "role": "staff", "email": "fifth@example.invalid", "password": "pass-word-5"}
    )

    assert response.status_code == 409 and "最多允许 4 个员工" in response.get_data(as_text=True)
    assert app.appbuilder.sm.find_user(username="fifth") is None
    assert len(list_staff(session, "tenant-a")) == 4


def test_changing_a_members_role_is_not_counted_against_the_plan(app, admin_login, session, tenants):
    set_plan_limits(session, "tenant-a", {"max_staff": 4})

    response = admin_login("operator").post("/admin/operator/tenants/tenant-a/staff", data={"username": "staff-a", "role": "manager"})

    assert response.status_code == 302
