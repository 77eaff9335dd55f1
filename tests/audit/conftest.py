"""Audit fixtures: a tenant to chain records for, and a way to append them.

``make_tenant`` here writes a bare tenant row instead of provisioning one:
provisioning is audited (decisions §35), and these tests count and number only
the records they append.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from yuyue.audit import operations as audit
from yuyue.audit.models import AuditRecord
from yuyue.db import tenant_scope, write_transaction
from yuyue.tenancy.models import Tenant


@pytest.fixture
def make_tenant(session) -> Callable[[str], Tenant]:
    """``make_tenant("museum")``: a tenant whose audit chain is still empty."""

    def make(slug: str) -> Tenant:
        with write_transaction(session):
            tenant = Tenant(slug=slug, name=slug.title(), time_zone="Asia/Shanghai", locales=["en"])
            session.add(tenant)
        return tenant

    return make


@pytest.fixture
def tenant(make_tenant) -> Tenant:
    return make_tenant("museum")


@pytest.fixture
def append(session) -> Callable[..., list[AuditRecord]]:
    """``append(tenant, 3)`` adds three records to the tenant's chain, each in its own transaction."""

    def add(tenant: Tenant, count: int, **fields) -> list[AuditRecord]:
        records = []
        with tenant_scope(tenant.id):
            for n in range(count):
                with write_transaction(session):
                    values = {"actor": "staff:7", "action": "booking.created", "subject_type": "booking", "subject_id": n + 1, "data": {"n": n, "名": "张三"}}
                    records.append(audit.record(session, **(values | fields)))
        return records

    return add
