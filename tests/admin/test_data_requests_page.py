"""The admin's data requests page: managers see who asked for their data or its erasure, filtered and paged; staff may not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tenant_setup import phone

from yuyue.customers.models import Customer
from yuyue.customers.operations import customer_for_phone
from yuyue.db import tenant_scope
from yuyue.privacy import operations as privacy
from yuyue.privacy.models import Requester
from yuyue.types import utcnow

PAGE = "/admin/t/tenant-a/data-requests/"
HOSTILE = "<script>alert(1)</script>"


def customer(session, tenant, n: int) -> Customer:
    with tenant_scope(tenant.id):
        return customer_for_phone(session, phone(n))


@pytest.fixture
def requests_made(session, tenants) -> dict[str, str]:
    """Customer 1 downloaded their data and was then erased by an owner with a hostile reason; tenant B's customer downloaded theirs."""
    tenant = tenants["tenant-a"]
    first = customer(session, tenant, 1)
    with tenant_scope(tenant.id):
        downloaded = privacy.record_download(session, first, actor=f"customer:{first.id}", now=utcnow() - timedelta(minutes=5))
    erased = privacy.erase_customer(session, tenant, first, requested_by=Requester.staff, actor="staff:1", reason=HOSTILE)
    other = customer(session, tenants["tenant-b"], 1)
    with tenant_scope(tenants["tenant-b"].id):
        elsewhere = privacy.record_download(session, other, actor=f"customer:{other.id}")
    return {"download": downloaded.reference, "erasure": erased.reference, "tenant-b": elsewhere.reference}


def test_a_manager_sees_every_request_newest_first_and_none_of_another_tenant(admin_login, requests_made):
    html = admin_login("manager-a", language="en").get(PAGE).get_data(as_text=True)

    assert html.index(requests_made["erasure"]) < html.index(requests_made["download"])
    assert requests_made["tenant-b"] not in html
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_filters_keep_one_kind_or_status(admin_login, requests_made):
    manager = admin_login("manager-a", language="en")

    erasures = manager.get(f"{PAGE}?kind=erasure").get_data(as_text=True)
    refused = manager.get(f"{PAGE}?status=refused").get_data(as_text=True)

    assert requests_made["erasure"] in erasures and requests_made["download"] not in erasures
    assert requests_made["erasure"] not in refused and "No data request yet." in refused
    assert requests_made["download"] in manager.get(f"{PAGE}?kind=nonsense").get_data(as_text=True)


def test_plain_staff_may_not_see_the_page(admin_login, requests_made):
    assert admin_login("staff-a").get(PAGE).status_code == 403
