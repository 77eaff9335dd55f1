"""Audit fixtures: a tenant to chain records for (made with the root ``make_tenant``), and a way to append them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from yuyue.audit import operations as audit
from yuyue.audit.models import AuditRecord
from yuyue.db import tenant_scope, write_transaction
from yuyue.tenancy.models import Tenant


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
