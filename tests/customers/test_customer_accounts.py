"""Customers are found or created by phone, once per tenant, even under concurrent requests."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from yuyue.audit import operations as audit
from yuyue.audit.models import AuditRecord
from yuyue.customers.models import Customer
from yuyue.customers.operations import customer_for_phone, normalize_phone
from yuyue.db import db, tenant_scope
from yuyue.errors import InvalidInput

# The tenant's chain opens with its own creation (tenant.created); these tests look at the customers' records.
CUSTOMER_RECORDS = AuditRecord.subject_type == "customer"


def test_first_booking_with_a_phone_creates_the_customer_and_audits_it(session, tenant):
    customer = customer_for_phone(session, "13800138000", "张三")
    assert (customer.phone, customer.name, customer.tenant_id) == ("13800138000", "张三", tenant.id)
    (entry,) = session.scalars(select(AuditRecord).where(CUSTOMER_RECORDS)).all()
    assert (entry.action, entry.subject_id, entry.data) == ("customer.created", str(customer.id), {"phone": "138****8000"})


def test_the_same_phone_in_another_spelling_finds_the_same_customer(session, tenant):
    first = customer_for_phone(session, "13800138000")
    for spelling in ("138 0013 8000", "+86 138-0013-8000", "0086 13800138000"):
        assert customer_for_phone(session, spelling).id == first.id
    assert session.scalar(select(func.count()).select_from(Customer)) == 1
    assert session.scalar(select(func.count()).select_from(AuditRecord).where(CUSTOMER_RECORDS)) == 1


def test_a_name_fills_in_a_nameless_customer_but_never_replaces_one(session, tenant):
    customer_for_phone(session, "13800138000")
    assert customer_for_phone(session, "13800138000", "张三").name == "张三"
    assert customer_for_phone(session, "13800138000", "李四").name == "张三"
    actions = session.scalars(select(AuditRecord.action).where(CUSTOMER_RECORDS).order_by(AuditRecord.seq)).all()
    assert actions == ["customer.created", "customer.named"]


def test_the_same_phone_is_a_different_customer_in_another_tenant(session, tenant, make_tenant):
    mine = customer_for_phone(session, "13800138000")
    other = make_tenant("scenic")
    with tenant_scope(other.id):
        theirs = customer_for_phone(session, "13800138000")
    assert mine.id != theirs.id


@pytest.mark.parametrize("phone", ["", "abc", "123", "1" * 21, None])
def test_an_invalid_phone_is_refused_with_a_pointer(session, tenant, phone):
    with pytest.raises(InvalidInput) as error:
        customer_for_phone(session, phone)
    assert [(p.pointer, p.code) for p in error.value.errors] == [("/phone", "invalid_phone")]


def test_foreign_and_landline_numbers_are_kept_as_given():
    assert normalize_phone("+1 (415) 555-0100") == "+14155550100"
    assert normalize_phone("010-6512 3456") == "01065123456"


def test_concurrent_first_visits_with_one_phone_create_one_customer(app, session, tenant):
    threads = 12
    start = threading.Barrier(threads)
    ids: list[int] = []
    failures: list[BaseException] = []

    def visit() -> None:
        try:
            with app.app_context(), tenant_scope(tenant.id):
                start.wait()
                ids.append(customer_for_phone(db.session, "13900139000").id)
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    pool = [threading.Thread(target=visit) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert failures == []
    assert len(set(ids)) == 1
    assert session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "customer.created")) == 1
    assert audit.verify(session) == []
