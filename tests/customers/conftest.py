"""Customer fixtures: a tenant in context (made with the root ``make_tenant``) and a customer of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from yuyue.customers.models import Customer
from yuyue.customers.operations import customer_for_phone
from yuyue.db import tenant_scope
from yuyue.tenancy.models import Tenant


@pytest.fixture
def tenant(make_tenant) -> Iterator[Tenant]:
    """The museum tenant, in context for the whole test."""
    tenant = make_tenant("museum")
    with tenant_scope(tenant.id):
        yield tenant


@pytest.fixture
def customer(session, tenant) -> Customer:
    return customer_for_phone(session, "13800138000", "张三")
