"""Companions: people a customer books for, identified by a validated resident ID number."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from yuyue.audit import operations as audit
from yuyue.audit.models import AuditRecord
from yuyue.bookings.customer_account import delete_companion, save_companion
from yuyue.customers.operations import companions, customer_for_phone
from yuyue.db import CrossTenantWrite, tenant_scope
from yuyue.errors import InvalidInput, NotFound

# Valid GB 11643 numbers (Beijing Dongcheng); the adult's check character is X.
ADULT = "11010119900307109X"
CHILD = "110101201503070026"


def actions(session) -> list[str]:
    return session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)).all()


def test_a_companion_gets_the_birth_date_from_the_id_number(session, customer):
    companion = save_companion(session, customer, "张小明", CHILD, relation="child")
    assert (companion.name, companion.id_number, companion.birth_date, companion.relation) == ("张小明", CHILD, date(2015, 3, 7), "child")
    assert companions(session, customer) == [companion]


def test_saving_the_same_id_number_again_updates_the_companion(session, customer):
    first = save_companion(session, customer, "李四", ADULT)
    second = save_companion(session, customer, "李四", ADULT.lower(), phone="13900139000")
    assert second.id == first.id
    assert second.phone == "13900139000"
    assert len(companions(session, customer)) == 1
    assert actions(session)[-2:] == ["customer.companion_added", "customer.companion_updated"]


def test_saving_an_unchanged_companion_writes_no_audit_record(session, customer):
    save_companion(session, customer, "李四", ADULT)
    before = actions(session)
    save_companion(session, customer, "李四", ADULT)
    assert actions(session) == before


def test_the_audit_log_keeps_a_masked_id_number(session, customer):
    save_companion(session, customer, "李四", ADULT)
    entry = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
    assert entry.data == {"customer": customer.id, "companion": int(entry.subject_id), "id_number": ADULT[:6] + "********" + ADULT[-4:]}


def test_an_id_number_with_a_wrong_check_digit_is_refused(session, customer):
    wrong = ADULT[:-1] + "0"
    with pytest.raises(InvalidInput) as error:
        save_companion(session, customer, "李四", wrong)
    assert [(p.pointer, p.code) for p in error.value.errors] == [("/id_number", "invalid_id_number")]


def test_every_invalid_field_is_reported_at_once(session, customer):
    with pytest.raises(InvalidInput) as error:
        save_companion(session, customer, " ", "123", phone="x", relation="")
    assert [p.pointer for p in error.value.errors] == ["/name", "/id_number", "/phone", "/relation"]


def test_companions_belong_to_their_customer(session, customer):
    other = customer_for_phone(session, "13900139000")
    save_companion(session, customer, "李四", ADULT)
    mine = save_companion(session, other, "李四", ADULT)
    assert companions(session, other) == [mine]


def test_deleting_a_companion_removes_it_and_audits_it(session, customer):
    companion = save_companion(session, customer, "李四", ADULT)
    delete_companion(session, customer, companion.id)
    assert companions(session, customer) == []
    assert actions(session)[-1] == "customer.companion_removed"
    assert audit.verify(session) == []


def test_deleting_another_customers_companion_is_not_found(session, customer):
    other = customer_for_phone(session, "13900139000")
    companion = save_companion(session, other, "李四", ADULT)
    with pytest.raises(NotFound):
        delete_companion(session, customer, companion.id)
    assert companions(session, other) == [companion]


def test_a_customer_of_another_tenant_cannot_be_given_companions(session, customer, make_tenant):
    other = make_tenant("scenic")
    with tenant_scope(other.id), pytest.raises(CrossTenantWrite):
        save_companion(session, customer, "李四", ADULT)
