"""What a customer changes of their own account: the name they go by and their saved companions, audited and announced.

These live above :mod:`yuyue.customers` because each change is announced with
:func:`yuyue.events.operations.record_change` (``customer.renamed``, ``customer.companion_added``, ``…_updated``,
``…_removed``) and the customers area may not import events; the API and the site call them alike. Payloads hold
ids and a masked ID number, never a name or a number in clear.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from yuyue.customers.models import Companion, Customer
from yuyue.customers.operations import (
    SYSTEM_ACTOR,
    check_own,
    checked_name,
    checked_text,
    mask_id_number,
    normalize_id_number,
    normalize_phone,
    validated,
)
from yuyue.db import current_tenant_id, insert_unless_exists, write_transaction
from yuyue.errors import Conflict, FieldProblem, NotFound
from yuyue.events.operations import record_change

__all__ = ["delete_companion", "rename_customer", "save_companion", "update_companion"]


def rename_customer(session: Session, customer: Customer, name: str, *, actor: str = SYSTEM_ACTOR) -> Customer:
    """Set the name the customer goes by, stored as given (1-100 characters once trimmed); their phone is their login and stays."""
    name = checked_name(name, "/name", required=True)
    check_own(customer)
    with write_transaction(session) as session:
        if customer.name != name:
            customer.name = name
            session.flush()
            record_change(session, actor=actor, action="customer.renamed", subject_type="customer", subject_id=customer.id, payload={"customer": customer.id})
    return customer


def _companion_fields(name: Any, id_number: Any, phone: Any, relation: Any) -> tuple[str, dict[str, Any]]:
    """The companion's ID number, normalized, and its other columns; every problem reported at once."""
    checked = validated(
        _l("the companion cannot be saved as given"),
        name=lambda: checked_name(name, "/name", required=True),
        id_number=lambda: normalize_id_number(id_number),
        phone=lambda: normalize_phone(phone) if phone is not None else None,
        relation=lambda: checked_text(relation, "/relation", 40) if relation is not None else None,
    )
    id_number = checked.pop("id_number")
    return id_number, {**checked, "birth_date": ric.get_birth_date(id_number)}


def _announce(session: Session, action: str, actor: str, customer: Customer, companion_id: int, id_number: str | None, **extra: Any) -> None:
    """Audit and announce a companion's change: ids and the ID number masked, as staff lists show it to the plain staff role."""
    payload = {"customer": customer.id, "companion": companion_id, "id_number": mask_id_number(id_number) if id_number else None, **extra}
    record_change(session, actor=actor, action=action, subject_type="companion", subject_id=companion_id, payload=payload)


def save_companion(
    session: Session,
    customer: Customer,
    name: str,
    id_number: str,
    phone: str | None = None,
    relation: str | None = None,
    *,
    actor: str = SYSTEM_ACTOR,
) -> Companion:
    """Add a companion to ``customer``, or update the one with the same ID number; birth date comes from the ID."""
    id_number, fields = _companion_fields(name, id_number, phone, relation)
    check_own(customer)
    with write_transaction(session) as session:
        _lock_companions_of(session, customer)
        created_id = insert_unless_exists(
            session,
            Companion,
            {"tenant_id": current_tenant_id(), "customer_id": customer.id, "id_number": id_number, **fields},
            ["tenant_id", "customer_id", "id_number"],
        )
        companion = session.scalar(select(Companion).where(Companion.customer_id == customer.id, Companion.id_number == id_number))
        changed = _apply(session, companion, fields)
        if created_id is not None:
            _announce(session, "customer.companion_added", actor, customer, companion.id, id_number)
        elif changed:
            _announce(session, "customer.companion_updated", actor, customer, companion.id, id_number, changed=changed)
    return companion


def update_companion(
    session: Session,
    customer: Customer,
    companion_id: int,
    name: str,
    id_number: str,
    phone: str | None = None,
    relation: str | None = None,
    *,
    actor: str = SYSTEM_ACTOR,
) -> Companion:
    """Replace what is saved of one of the customer's companions (a field left out is cleared).

    NotFound if the companion is not theirs; ``companion_exists`` if another of theirs has the ID number.
    """
    id_number, fields = _companion_fields(name, id_number, phone, relation)
    values = {"id_number": id_number, **fields}
    check_own(customer)
    with write_transaction(session) as session:
        _lock_companions_of(session, customer)
        companion = _own_companion(session, customer, companion_id)
        taken = select(Companion.id).where(Companion.customer_id == customer.id, Companion.id_number == id_number, Companion.id != companion_id)
        if session.scalar(taken) is not None:
            raise Conflict(
                _l("customer %(id)s already has a companion with this ID number", id=customer.id),
                code="companion_exists",
                errors=[FieldProblem("/id_number", _l("another saved companion has this ID number"), "companion_exists")],
            )
        if changed := _apply(session, companion, values):
            _announce(session, "customer.companion_updated", actor, customer, companion.id, id_number, changed=changed)
    return companion


def _apply(session: Session, companion: Companion, values: dict[str, Any]) -> list[str]:
    """Set the companion's columns that differ from ``values``; their names, sorted (what the change announces)."""
    changed = sorted(key for key, value in values.items() if getattr(companion, key) != value)
    for key in changed:
        setattr(companion, key, values[key])
    if changed:
        session.flush()
    return changed


def _lock_companions_of(session: Session, customer: Customer) -> None:
    """Lock the customer's row: adding and editing their companions go one at a time, so no two can end with one ID number
    (an edit's check would otherwise miss a concurrent add, and the unique key answer it with an error)."""
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())


def _own_companion(session: Session, customer: Customer, companion_id: int) -> Companion:
    companion = session.scalar(select(Companion).where(Companion.id == companion_id, Companion.customer_id == customer.id))
    if companion is None:
        raise NotFound(_l("customer %(id)s has no companion %(companion_id)s", id=customer.id, companion_id=companion_id), code="companion_not_found")
    return companion


def delete_companion(session: Session, customer: Customer, companion_id: int, *, actor: str = SYSTEM_ACTOR) -> None:
    """Remove one of the customer's companions; NotFound if it is not theirs."""
    check_own(customer)
    with write_transaction(session) as session:
        companion = _own_companion(session, customer, companion_id)
        id_number = companion.id_number
        session.delete(companion)
        session.flush()
        _announce(session, "customer.companion_removed", actor, customer, companion_id, id_number)
