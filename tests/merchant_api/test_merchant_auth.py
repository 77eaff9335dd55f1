"""Who may call the merchant API: staff tokens of the tenant in the URL, and only up to their role."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from yuyue.db import write_transaction
from yuyue.provisioning.operations import suspend_tenant
from yuyue.tenancy.models import ApiToken
from yuyue.types import utcnow

ADMIN = "/api/v1/t/tenant-a/admin"
READS = ["/booking-types", "/resources", "/bookings", "/exports/bookings.csv", "/exports/bookings.xlsx"]
MANAGER_WRITES = [
    ("post", "/booking-types", {"vertical": "exhibition", "slug": "entry", "name": "Entry"}),
    ("patch", "/booking-types/entry", {"price_amount": 1}),
    ("post", "/resources", {"kind": "coach", "code": "coach-li", "name": "Li"}),
    ("patch", "/resources/coach-li", {"active": False}),
]


@pytest.mark.parametrize("path", READS)
def test_a_plain_staff_token_reads(front_desk, path):
    assert front_desk.get(ADMIN + path).status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), MANAGER_WRITES)
def test_a_plain_staff_token_cannot_change_booking_types_or_resources(front_desk, problem, method, path, body):
    problem(front_desk.open(ADMIN + path, method=method.upper(), json=body), 403, "forbidden")


@pytest.mark.parametrize("path", READS)
def test_no_token_is_a_401(client, tenants, problem, path):
    response = client.get(ADMIN + path)

    problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_token_is_a_401(client, tenants, problem):
    problem(client.get(ADMIN + "/bookings", headers={"Authorization": "Bearer yy_not-a-real-token"}), 401, "invalid_token")


@pytest.mark.parametrize("path", READS)
def test_an_operator_token_is_refused(operator, tenants, problem, path):
    problem(operator.get(ADMIN + path), 403, "forbidden")


@pytest.mark.parametrize("path", READS)
def test_another_tenants_staff_token_is_refused(manager_b, problem, path):
    problem(manager_b.get(ADMIN + path), 403, "forbidden")


@pytest.mark.parametrize(("method", "path", "body"), MANAGER_WRITES)
def test_another_tenants_manager_cannot_write(manager_b, problem, method, path, body):
    problem(manager_b.open(ADMIN + path, method=method.upper(), json=body), 403, "forbidden")


def test_a_revoked_token_is_a_401(manager, problem, session):
    with write_transaction(session):
        session.execute(update(ApiToken).values(revoked_at=utcnow()))
    problem(manager.get(ADMIN + "/bookings"), 401, "invalid_token")


def test_a_suspended_tenants_merchant_api_answers_403(manager, session, problem):
    suspend_tenant(session, "tenant-a")

    problem(manager.get(ADMIN + "/bookings"), 403, "tenant_suspended")


def test_an_unknown_tenant_is_a_404(manager, problem):
    problem(manager.get("/api/v1/t/no-such-tenant/admin/bookings"), 404)
