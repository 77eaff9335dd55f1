"""Customers of the tenant in context: find-or-create by phone, companions read, points, bans (a customer's own changes to
their name and companions are announced, so they live in :mod:`yuyue.bookings.customer_account`).

Every change is audited in the same transaction. Each operation opens a
``write_transaction``, which joins the caller's when called from a larger one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from yuyue.audit import operations as audit
from yuyue.customers.models import Ban, BanSubject, Companion, Customer, PointsEntry
from yuyue.db import CrossTenantWrite, current_tenant_id, insert_unless_exists, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound

__all__ = [
    "MAX_BAN_DAYS",
    "active_bans",
    "add_points",
    "ban",
    "bans_on",
    "check_own",
    "checked_name",
    "checked_text",
    "companions",
    "customer_for_phone",
    "get_customer",
    "logged_in_customer",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "masked_mentions",
    "normalize_id_number",
    "normalize_phone",
    "points_balance",
    "points_entries",
    "validated",
]

SYSTEM_ACTOR = "system"
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"^\+?[0-9]{5,20}$")
_CN_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
MAX_BAN_DAYS = 36500


# -- input ---------------------------------------------------------------------------------------


def normalize_phone(phone: str, pointer: str = "/phone") -> str:
    """One spelling per number: separators dropped, the +86 / 0086 prefix dropped from mainland mobiles."""
    compact = _PHONE_SEPARATORS.sub("", phone) if isinstance(phone, str) else ""
    for prefix in ("+86", "0086", "86"):
        if compact.startswith(prefix) and _CN_MOBILE.match(compact.removeprefix(prefix)):
            compact = compact.removeprefix(prefix)
            break
    if not _PHONE.match(compact) or len(compact) > Customer.__table__.c.phone.type.length:
        raise InvalidInput(_l("the phone number is not valid"), errors=[FieldProblem(pointer, _l("enter a phone number, e.g. 13800138000"), "invalid_phone")])
    return compact


def normalize_id_number(id_number: str, pointer: str = "/id_number") -> str:
    """A mainland resident ID number (GB 11643), compact and with an upper-case check letter."""
    try:
        return ric.validate(id_number if isinstance(id_number, str) else "")
    except ValidationError as error:
        raise InvalidInput(
            _l("the ID number is not valid"),
            errors=[FieldProblem(pointer, _l("not a valid resident ID number: %(message)s", message=error.message), "invalid_id_number")],
        ) from None


def mask_phone(phone: str) -> str:
    """138****8000: enough to recognise a number in the audit log without keeping it there."""
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def mask_id_number(id_number: str) -> str:
    """110101********123X: the region and the last four of a resident ID number; of a shorter one (a passport), the last four only."""
    if len(id_number) <= 4:
        return "*" * len(id_number)
    if len(id_number) < 15:
        return "*" * (len(id_number) - 4) + id_number[-4:]
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_name(name: str) -> str:
    """王** / L*****: a name's first character, so the audit log can still be read without holding the name."""
    return name[:1] + "*" * (len(name) - 1)


def masked_mentions(session: Session, customer: Customer, text: str) -> str:
    """``text`` with the customer's name, phone and their companions' names, phones and ID numbers masked.

    For reasons staff write freely about a customer ("Li Lei broke a locker") that the audit log keeps: it is kept for
    ever and cannot be erased, so it holds no personal value in clear (decisions §19, §62).
    """
    companions = session.scalars(select(Companion).where(Companion.customer_id == customer.id)).all()
    maskers = [(customer.name, mask_name), (customer.phone, mask_phone)]
    maskers += [(c.name, mask_name) for c in companions] + [(c.phone, mask_phone) for c in companions] + [(c.id_number, mask_id_number) for c in companions]
    for value, mask in sorted(((v, m) for v, m in maskers if v), key=lambda pair: -len(pair[0])):
        text = text.replace(value, mask(value))
    return text


def checked_name(name: Any, pointer: str, *, required: bool) -> str | None:
    if name is None and not required:
        return None
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise InvalidInput(_l("the name is not valid"), errors=[FieldProblem(pointer, _l("a name of 1-100 characters is required"), "invalid_name")])
    return name.strip()


def checked_text(value: Any, pointer: str, length: int) -> str:
    """``value`` without surrounding spaces, if that leaves 1 to ``length`` characters; else a problem at ``pointer``."""
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > length:
        raise InvalidInput(
            _l("%(field)s is not valid", field=pointer.lstrip("/")),
            errors=[FieldProblem(pointer, _l("1-%(length)s characters are required", length=length), "invalid_text")],
        )
    return value.strip()


def validated(message: str, **checks) -> dict[str, Any]:
    """Run every check and report all problems at once, not only the first."""
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for key, check in checks.items():
        try:
            values[key] = check()
        except InvalidInput as error:
            problems += error.errors
    if problems:
        raise InvalidInput(message, errors=problems)
    return values


def check_own(customer: Customer) -> None:
    if customer.tenant_id != current_tenant_id():
        raise CrossTenantWrite(f"customer {customer.id} of tenant {customer.tenant_id} used as tenant {current_tenant_id()}")


def _check_aware(now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ValueError(f"now must be an aware datetime, got {now!r}")


def _insert(session: Session, model: type, values: dict[str, Any], unique: list[str], **options: Any) -> Any:
    return insert_unless_exists(session, model, {"tenant_id": current_tenant_id(), **values}, ["tenant_id", *unique], **options)


# -- customers -----------------------------------------------------------------------------------


def get_customer(session: Session, customer_id: int) -> Customer:
    """The customer of the tenant in context with this id.

    :raises NotFound: ``customer_not_found`` for an id of no customer of this tenant, or of one merged into another.
    """
    customer = session.scalar(select(Customer).where(Customer.id == customer_id))
    if customer is None:
        raise NotFound(_l("no customer %(customer_id)s", customer_id=customer_id), code="customer_not_found")
    if customer.merged_into_id is not None:
        raise NotFound(
            _l("customer %(customer_id)s was merged into customer %(survivor)s", customer_id=customer_id, survivor=customer.merged_into_id),
            code="customer_not_found",
        )
    return customer


def logged_in_customer(session: Session, customer_id: int) -> Customer | None:
    """The customer a token or a site session names, or None if there is none, or it was merged into another or erased (its logins ended)."""
    customer = session.get(Customer, customer_id)
    return customer if customer is not None and customer.merged_into_id is None and customer.erased_at is None else None


# FOR KEY SHARE (PostgreSQL; SQLite serialises writers anyway): the lock a booking's foreign key takes on its customer
# anyway, taken when the customer is found rather than at the insert, so a merge (FOR UPDATE) either waits for the booking
# or, once committed, makes this find the survivor instead of the emptied record (yuyue.merging).
_CUSTOMER_BY_PHONE = select(Customer).where(Customer.phone == bindparam("phone")).with_for_update(read=True, key_share=True)


def customer_for_phone(session: Session, phone: str, name: str | None = None, *, actor: str = SYSTEM_ACTOR) -> Customer:
    """The tenant's customer with this phone, created if there is none (safe against a concurrent create).

    A ``name`` fills in a customer who has none yet; an existing name is kept.
    """
    phone = normalize_phone(phone)
    name = checked_name(name, "/name", required=False)
    with write_transaction(session) as session:
        customer = session.scalar(_CUSTOMER_BY_PHONE, {"phone": phone})
        if customer is None:
            customer = _insert(session, Customer, {"phone": phone, "name": name}, ["phone"], returning=Customer)
            if customer is not None:
                audit.touched(session, customer)
                audit.record(
                    session, actor=actor, action="customer.created", subject_type="customer", subject_id=customer.id, data={"phone": mask_phone(phone)}
                )
                return customer
            customer = session.scalar(_CUSTOMER_BY_PHONE, {"phone": phone})  # created meanwhile by a concurrent request
        if name and not customer.name:
            customer.name = name
            session.flush()
            audit.record(session, actor=actor, action="customer.named", subject_type="customer", subject_id=customer.id, data={})
    return customer


# -- companions ----------------------------------------------------------------------------------


def companions(session: Session, customer: Customer) -> list[Companion]:
    """The customer's companions in the order they were added."""
    return list(session.scalars(select(Companion).where(Companion.customer_id == customer.id).order_by(Companion.id)))


# -- points --------------------------------------------------------------------------------------


def points_balance(session: Session, customer: Customer) -> int:
    """The sum of the customer's points ledger."""
    return session.scalar(select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(PointsEntry.customer_id == customer.id))


def points_entries(session: Session, customer: Customer, *, before_id: int | None = None, limit: int = 20) -> list[PointsEntry]:
    """Up to ``limit`` lines of the customer's points ledger, newest first; ``before_id`` continues after a previous page's last one."""
    query = select(PointsEntry).where(PointsEntry.customer_id == customer.id)
    if before_id is not None:
        query = query.where(PointsEntry.id < before_id)
    return list(session.scalars(query.order_by(PointsEntry.id.desc()).limit(limit)))


def add_points(
    session: Session,
    customer: Customer,
    delta: int,
    reason: str,
    booking_id: int | None = None,
    *,
    require_balance: bool = False,
    actor: str = SYSTEM_ACTOR,
) -> PointsEntry:
    """Append a line to the customer's points ledger.

    A penalty may leave the balance negative (a debt). With ``require_balance`` (spending
    points) a deduction below zero is refused with ``insufficient_points``; the customer
    row is locked first so two concurrent deductions cannot both spend the same points.
    """
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        raise InvalidInput(
            _l("points must change by a non-zero whole number"), errors=[FieldProblem("/delta", _l("a non-zero integer is required"), "invalid_delta")]
        )
    reason = checked_text(reason, "/reason", PointsEntry.__table__.c.reason.type.length)
    check_own(customer)
    with write_transaction(session) as session:
        if delta < 0 and require_balance:
            session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
            balance = points_balance(session, customer)
            if balance + delta < 0:
                raise Conflict(
                    _l("the customer has %(balance)s points, %(needed)s are needed", balance=balance, needed=-delta),
                    code="insufficient_points",
                    errors=[FieldProblem("/delta", _l("at most %(balance)s points can be deducted", balance=balance), "insufficient_points")],
                )
        entry = PointsEntry(customer_id=customer.id, delta=delta, reason=reason, booking_id=booking_id)
        session.add(entry)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="points.added",
            subject_type="customer",
            subject_id=customer.id,
            data={"entry_id": entry.id, "delta": delta, "reason": masked_mentions(session, customer, reason), "booking_id": booking_id},
        )
    return entry


# -- bans ----------------------------------------------------------------------------------------


def _ban_subject(kind: BanSubject, subject: Any) -> str:
    if kind is BanSubject.customer:
        if isinstance(subject, Customer):
            return str(subject.id)
        if isinstance(subject, int | str) and str(subject).isdecimal():
            return str(int(subject))
        raise InvalidInput(_l("the customer is not valid"), errors=[FieldProblem("/subject", _l("a customer id is required"), "invalid_subject")])
    if kind is BanSubject.id_number:
        return normalize_id_number(subject, "/subject")
    return normalize_phone(subject, "/subject")


def ban(session: Session, subject_kind: BanSubject, subject: str, days: int, reason: str, now: datetime, *, actor: str = SYSTEM_ACTOR) -> Ban:
    """Forbid a customer, an ID number or a phone to book for ``days`` days from ``now``."""
    _check_aware(now)
    subject_kind = BanSubject(subject_kind)
    subject = _ban_subject(subject_kind, subject)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_BAN_DAYS:
        raise InvalidInput(
            _l("the ban length is not valid"), errors=[FieldProblem("/days", _l("1-%(max_ban_days)s days", max_ban_days=MAX_BAN_DAYS), "invalid_days")]
        )
    reason = checked_text(reason, "/reason", Ban.__table__.c.reason.type.length)
    with write_transaction(session) as session:
        if subject_kind is BanSubject.customer and session.scalar(select(Customer.id).where(Customer.id == int(subject))) is None:
            raise NotFound(
                _l("no customer %(subject)s", subject=subject),
                code="customer_not_found",
                errors=[FieldProblem("/subject", _l("no such customer"), "customer_not_found")],
            )
        entry = Ban(subject_kind=subject_kind, subject=subject, starts_at=now, ends_at=now + timedelta(days=days), reason=reason)
        session.add(entry)
        session.flush()
        shown = {BanSubject.id_number: mask_id_number, BanSubject.phone: mask_phone}.get(subject_kind, str)(subject)
        audit.record(
            session,
            actor=actor,
            action="ban.created",
            subject_type="ban",
            subject_id=entry.id,
            data={"subject_kind": subject_kind, "subject": shown, "days": days, "ends_at": entry.ends_at, "reason": reason},
        )
    return entry


def _lookup_keys(values: Iterable[str], normalize) -> set[str]:
    keys = set()
    for value in values:
        try:
            keys.add(normalize(value))
        except InvalidInput:
            continue  # an invalid number cannot be banned, so it matches nothing
    return keys


def active_bans(
    session: Session,
    *,
    customer_id: int | None = None,
    id_numbers: Iterable[str] = (),
    phones: Iterable[str] = (),
    now: datetime,
) -> list[Ban]:
    """Bans in force at ``now`` on the customer, any of the ID numbers or any of the phones; one query."""
    _check_aware(now)
    ids, numbers = _lookup_keys(id_numbers, normalize_id_number), _lookup_keys(phones, normalize_phone)
    if customer_id is None and not ids and not numbers:
        return []
    subjects = {"customer": None if customer_id is None else str(customer_id), "id_numbers": sorted(ids), "phones": sorted(numbers)}
    return list(session.scalars(_BANS_IN_FORCE, {"now": now, **subjects}))


_BANS_IN_FORCE = (
    select(Ban)
    .where(
        Ban.starts_at <= bindparam("now"),
        Ban.ends_at > bindparam("now"),
        or_(
            and_(Ban.subject_kind == BanSubject.customer, Ban.subject == bindparam("customer")),
            and_(Ban.subject_kind == BanSubject.id_number, Ban.subject.in_(bindparam("id_numbers", expanding=True))),
            and_(Ban.subject_kind == BanSubject.phone, Ban.subject.in_(bindparam("phones", expanding=True))),
        ),
    )
    .order_by(Ban.ends_at.desc(), Ban.id)
)


def bans_on(session: Session, customer: Customer, *, id_numbers: Iterable[str] = (), ending_after: datetime | None = None) -> list[Ban]:
    """Bans on the customer, their phone or any of ``id_numbers``, earliest first: those ending after ``ending_after``
    (in force then, or starting later), or every one ever imposed when it is None."""
    subjects = [and_(Ban.subject_kind == BanSubject.customer, Ban.subject == str(customer.id))]
    if customer.phone:
        subjects.append(and_(Ban.subject_kind == BanSubject.phone, Ban.subject == customer.phone))
    numbers = _lookup_keys(id_numbers, normalize_id_number)
    if numbers:
        subjects.append(and_(Ban.subject_kind == BanSubject.id_number, Ban.subject.in_(sorted(numbers))))
    query = select(Ban).where(or_(*subjects))
    if ending_after is not None:
        _check_aware(ending_after)
        query = query.where(Ban.ends_at > ending_after)
    return list(session.scalars(query.order_by(Ban.starts_at, Ban.id)))
