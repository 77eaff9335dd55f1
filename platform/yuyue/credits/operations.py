"""Class packages and credits: what a merchant sells, and each customer's ledger of credits bought, spent, returned and lost.

Every change to one customer's credits first takes that customer's credit
lock (``lock_identities`` with ``credits:<customer id>``): on PostgreSQL two
bookings spending the same credits wait for each other; on SQLite ``BEGIN
IMMEDIATE`` already lets one writer in at a time. So the credits read under
the lock are still there when the entries taking them are written, and two
concurrent bookings cannot both spend the last credit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

import yuyue_schemas
from yuyue.audit.operations import record as audit_record
from yuyue.behaviour import BookingView
from yuyue.bookings.models import Booking
from yuyue.bookings.policies import lock_identities
from yuyue.catalog.models import BookingType
from yuyue.credits.models import CreditEntry, CreditPackage, CreditReason
from yuyue.customers.models import Customer
from yuyue.customers.operations import customer_for_phone, get_customer
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound, Refused, schema_field_problems
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

__all__ = [
    "CreditSummary",
    "Lot",
    "adjust_credits",
    "booking_type_slugs",
    "create_package",
    "credit_summary",
    "customer_by_id",
    "expire_credits",
    "forfeit_credits",
    "get_package",
    "list_packages",
    "purchase_free_package",
    "return_credits",
    "sell_package",
    "spend_credits",
    "update_package",
]

CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
# What a package's PATCH may change; its code is its identity.
PACKAGE_CHANGES = frozenset({"name", "credits", "price_amount", "currency", "valid_days", "active", "booking_types"})
# The newest ledger lines a summary shows.
HISTORY_LENGTH = 100
# Why a booking's spent credits stay spent.
FORFEITS = (CreditReason.late_forfeit, CreditReason.no_show)


# --- packages ---------------------------------------------------------------------


def list_packages(session: Session, tenant: Tenant, *, active_only: bool = False) -> list[CreditPackage]:
    """``tenant``'s packages, oldest first; with ``active_only``, only those on sale."""
    with tenant_scope(tenant.id):
        query = select(CreditPackage).order_by(CreditPackage.id)
        return list(session.scalars(query.where(CreditPackage.active.is_(True)) if active_only else query))


def get_package(session: Session, tenant: Tenant, code: str, *, active_only: bool = False) -> CreditPackage:
    """``tenant``'s package ``code``; one not on sale is not found when ``active_only``."""
    with tenant_scope(tenant.id):
        package = session.scalar(select(CreditPackage).where(CreditPackage.code == code))
    if package is None or (active_only and not package.active):
        raise NotFound(_l("no package %(code)r", code=code), code="package_not_found")
    return package


def booking_type_slugs(session: Session, tenant: Tenant, packages: Iterable[CreditPackage]) -> dict[int, str]:
    """The slugs of the booking types ``packages`` are limited to, by id, in one query."""
    ids = {i for package in packages for i in package.booking_type_ids}
    if not ids:
        return {}
    with tenant_scope(tenant.id):
        return dict(session.execute(select(BookingType.id, BookingType.slug).where(BookingType.id.in_(ids))).all())


def _is_whole(value: Any) -> bool:
    """An int, not a bool nor a float such as 2.0 (JSON Schema's "integer" admits those, an integer column stores them changed)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _package_problems(values: Mapping[str, Any]) -> list[FieldProblem]:
    problems = [
        FieldProblem(f"/{key}", _l("a whole number"), "not_whole")
        for key in ("credits", "price_amount", "valid_days")
        if values.get(key) is not None and not _is_whole(values[key])
    ]
    if "name" in values:
        problems += schema_field_problems(yuyue_schemas.problems("localized-text", values["name"]), "/name")
    if "currency" in values and not CURRENCY_PATTERN.match(values["currency"]):
        problems.append(FieldProblem("/currency", _l("an ISO 4217 code such as CNY"), "invalid_currency"))
    return problems


def _booking_type_ids(session: Session, slugs: list[str]) -> tuple[list[int], list[FieldProblem]]:
    found = dict(session.execute(select(BookingType.slug, BookingType.id).where(BookingType.slug.in_(slugs))).all())
    problems = [
        FieldProblem(f"/booking_types/{index}", _l("no booking type with this slug"), "booking_type_not_found")
        for index, s in enumerate(slugs)
        if s not in found
    ]
    return list(dict.fromkeys(found[s] for s in slugs if s in found)), problems


def create_package(session: Session, tenant: Tenant, *, code: str, name: Any, credits: int, actor: str, **settings: Any) -> CreditPackage:
    """A package of ``credits`` classes on sale at ``price_amount`` (0: free), valid ``valid_days`` from purchase (None: no expiry).

    ``booking_types`` (slugs) limits the credits to those booking types.
    """
    unknown = settings.keys() - PACKAGE_CHANGES
    if unknown:
        raise TypeError(f"package settings that do not exist: {', '.join(sorted(unknown))}")
    slugs = settings.pop("booking_types", [])
    problems = _package_problems({"name": name, "credits": credits, **settings})
    with tenant_scope(tenant.id), write_transaction(session):
        ids, unknown_types = _booking_type_ids(session, slugs)
        if problems or unknown_types:
            raise InvalidInput(_l("the package cannot be created as given"), errors=problems + unknown_types)
        if session.scalar(select(CreditPackage.id).where(CreditPackage.code == code)) is not None:
            raise Conflict(
                _l("a package %(code)r already exists", code=code), code="code_taken", errors=[FieldProblem("/code", _l("already taken"), "code_taken")]
            )
        package = CreditPackage(code=code, name=name, credits=credits, booking_type_ids=ids, **settings)
        session.add(package)
        session.flush()
        audit_record(session, actor=actor, action="package.created", subject_type="credit_package", subject_id=package.id, data=_package_data(package))
    return package


def update_package(session: Session, tenant: Tenant, code: str, *, actor: str, **changes: Any) -> CreditPackage:
    """Change what ``changes`` names, all or none; credits already bought keep the expiry they were bought with."""
    unknown = changes.keys() - PACKAGE_CHANGES
    if unknown:
        raise TypeError(f"package settings that cannot be changed: {', '.join(sorted(unknown))}")
    problems = _package_problems(changes)
    with tenant_scope(tenant.id), write_transaction(session):
        package = get_package(session, tenant, code)
        if "booking_types" in changes:
            ids, unknown_types = _booking_type_ids(session, changes.pop("booking_types"))
            problems += unknown_types
            changes["booking_type_ids"] = ids
        if problems:
            raise InvalidInput(_l("the package cannot be changed as given"), errors=problems)
        for key, value in changes.items():
            setattr(package, key, value)
        session.flush()
        audit_record(session, actor=actor, action="package.changed", subject_type="credit_package", subject_id=package.id, data=_package_data(package))
    return package


def _package_data(package: CreditPackage) -> dict[str, Any]:
    return {column: getattr(package, column) for column in CreditPackage.__audited__}


# --- reading a customer's credits -------------------------------------------------------


@dataclass(frozen=True)
class Lot:
    """Credits added by one entry (a purchase or a positive adjustment), what remains of them, and the package they came in."""

    entry: CreditEntry
    package: CreditPackage | None
    remaining: int

    def expired(self, now: datetime) -> bool:
        return self.entry.expires_at is not None and self.entry.expires_at <= now

    def pays_for(self, booking_type_id: int) -> bool:
        return self.package is None or not self.package.booking_type_ids or booking_type_id in self.package.booking_type_ids


def _lots(session: Session, customer_id: int) -> list[Lot]:
    """The customer's lots, those expiring first first (never-expiring ones last): the order credits are spent in."""
    taken = aliased(CreditEntry)
    remaining = CreditEntry.delta + func.coalesce(func.sum(taken.delta), 0)
    rows = session.execute(
        select(CreditEntry, CreditPackage, remaining)
        .outerjoin(taken, taken.lot_id == CreditEntry.id)
        .outerjoin(CreditPackage, CreditPackage.id == CreditEntry.package_id)
        .where(CreditEntry.customer_id == customer_id, CreditEntry.lot_id.is_(None), CreditEntry.delta > 0)
        .group_by(CreditEntry.id, CreditPackage.id)
        .order_by(CreditEntry.expires_at.is_(None), CreditEntry.expires_at, CreditEntry.id)
    ).all()
    return [Lot(entry, package, int(left)) for entry, package, left in rows]


@dataclass(frozen=True)
class CreditSummary:
    """A customer's credits at ``now``: the usable ``balance``, the lots with credits left (expired ones flagged), the newest ledger lines."""

    customer: Customer
    now: datetime
    balance: int
    lots: list[Lot]
    history: list[CreditEntry]
    packages: dict[int, CreditPackage]
    bookings: dict[int, str]


def customer_by_id(session: Session, tenant: Tenant, customer_id: int) -> Customer:
    with tenant_scope(tenant.id):
        return get_customer(session, customer_id)


def credit_summary(session: Session, tenant: Tenant, customer: Customer, *, now: datetime | None = None) -> CreditSummary:
    """What ``customer`` holds; reads only."""
    now = now or utcnow()
    with tenant_scope(tenant.id):
        lots = [lot for lot in _lots(session, customer.id) if lot.remaining > 0]
        history = list(session.scalars(select(CreditEntry).where(CreditEntry.customer_id == customer.id).order_by(CreditEntry.id.desc()).limit(HISTORY_LENGTH)))
        package_ids = {e.package_id for e in history if e.package_id} - {lot.package.id for lot in lots if lot.package}
        packages = {lot.package.id: lot.package for lot in lots if lot.package}
        if package_ids:
            packages |= {p.id: p for p in session.scalars(select(CreditPackage).where(CreditPackage.id.in_(package_ids)))}
        booking_ids = {e.booking_id for e in history if e.booking_id}
        bookings = dict(session.execute(select(Booking.id, Booking.public_id).where(Booking.id.in_(booking_ids))).all()) if booking_ids else {}
    balance = sum(lot.remaining for lot in lots if not lot.expired(now))
    return CreditSummary(customer, now, balance, lots, history, packages, bookings)


# --- changing a customer's credits -----------------------------------------------------


def _lock(session: Session, customer_id: int) -> None:
    lock_identities(session, [f"credits:{customer_id}"])


def _write(session: Session, actor: str, customer_id: int, entries: list[CreditEntry], data: Mapping[str, Any]) -> None:
    """Add ``entries`` (all for one reason) to the ledger with one audit record saying what they did."""
    for entry in entries:
        entry.customer_id = customer_id
        session.add(entry)
    session.flush()
    payload = {"entries": [entry.id for entry in entries], "delta": sum(entry.delta for entry in entries), **data}
    audit_record(session, actor=actor, action=f"credits.{entries[0].reason.value}", subject_type="customer", subject_id=customer_id, data=payload)


def _take(lots: list[Lot], credits: int, reason: CreditReason, *, booking_id: int | None = None, note: str | None = None) -> list[CreditEntry]:
    """Entries taking ``credits`` from ``lots`` in their order; the caller checked that they hold enough."""
    entries, needed = [], credits
    for lot in lots:
        if needed == 0:
            break
        taken = min(needed, lot.remaining)
        entries.append(CreditEntry(lot_id=lot.entry.id, package_id=lot.entry.package_id, booking_id=booking_id, delta=-taken, reason=reason, note=note))
        needed -= taken
    return entries


def _grant(session: Session, customer: Customer, package: CreditPackage, now: datetime, actor: str, note: str | None) -> CreditEntry:
    expires_at = None if package.valid_days is None else now + timedelta(days=package.valid_days)
    entry = CreditEntry(package_id=package.id, delta=package.credits, reason=CreditReason.purchase, expires_at=expires_at, note=note)
    _lock(session, customer.id)
    _write(session, actor, customer.id, [entry], {"package": package.code, "price_amount": package.price_amount, "currency": package.currency})
    return entry


def purchase_free_package(session: Session, tenant: Tenant, customer: Customer, code: str, *, actor: str, now: datetime | None = None) -> CreditEntry:
    """A customer takes a package that costs nothing; a priced one is sold at the front desk (``package_not_free``)."""
    now = now or utcnow()
    with tenant_scope(tenant.id), write_transaction(session):
        package = get_package(session, tenant, code, active_only=True)
        if package.price_amount > 0:
            raise Refused(
                _l("this package is paid for at the front desk, which then adds it to your account"),
                code="package_not_free",
                errors=[FieldProblem("/package", _l("buy it at the front desk"), "package_not_free")],
            )
        return _grant(session, customer, package, now, actor, None)


def sell_package(
    session: Session,
    tenant: Tenant,
    *,
    phone: str,
    package_code: str,
    actor: str,
    name: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> CreditEntry:
    """Staff add a package the customer with ``phone`` paid for at the front desk (the customer is created if new)."""
    now = now or utcnow()
    with tenant_scope(tenant.id), write_transaction(session):
        package = get_package(session, tenant, package_code)
        if not package.active:
            raise Refused(
                _l("package %(package_code)r is not on sale", package_code=package_code),
                code="package_inactive",
                errors=[FieldProblem("/package", _l("not on sale"), "package_inactive")],
            )
        customer = customer_for_phone(session, phone, name, actor=actor)
        return _grant(session, customer, package, now, actor, note)


def adjust_credits(
    session: Session,
    tenant: Tenant,
    customer: Customer,
    *,
    delta: int,
    note: str,
    actor: str,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> list[CreditEntry]:
    """Staff add credits (a lot expiring at ``expires_at``, None: never) or take usable ones away, with the reason in ``note``.

    Taking more than the usable balance is refused (``insufficient_credits``).
    """
    now = now or utcnow()
    if not _is_whole(delta) or delta == 0:
        raise InvalidInput(_l("the adjustment is not valid"), errors=[FieldProblem("/delta", _l("a whole number other than 0"), "not_whole")])
    if expires_at is not None and (delta < 0 or expires_at <= now):
        why = _l("only credits added may expire") if delta < 0 else _l("a moment in the future")
        raise InvalidInput(_l("the adjustment is not valid"), errors=[FieldProblem("/expires_at", why, "invalid_expiry")])
    with tenant_scope(tenant.id), write_transaction(session):
        _lock(session, customer.id)
        if delta > 0:
            entries = [CreditEntry(delta=delta, reason=CreditReason.adjust, expires_at=expires_at, note=note)]
        else:
            usable = [lot for lot in _lots(session, customer.id) if lot.remaining > 0 and not lot.expired(now)]
            balance = sum(lot.remaining for lot in usable)
            if balance < -delta:
                raise Refused(
                    _l("the customer has %(balance)s usable credits", balance=balance),
                    code="insufficient_credits",
                    errors=[FieldProblem("/delta", _l("at most %(balance)s credits can be taken", balance=balance), "insufficient_credits")],
                )
            entries = _take(usable, -delta, CreditReason.adjust, note=note)
        _write(session, actor, customer.id, entries, {"note": note})
    return entries


def _booking_id(session: Session, public_id: str) -> int:
    return session.scalar(select(Booking.id).where(Booking.public_id == public_id))


def spend_credits(session: Session, booking: BookingView, credits: int, *, actor: str = "system") -> None:
    """Pay for ``booking`` with ``credits`` of its customer's, those expiring first first, inside the booking's transaction.

    Only credits unexpired at the booking's time (``booking.created_at``) and
    valid for its booking type count; too few refuse the booking
    (``insufficient_credits``).
    """
    _lock(session, booking.customer_id)
    usable = [
        lot
        for lot in _lots(session, booking.customer_id)
        if lot.remaining > 0 and not lot.expired(booking.created_at) and lot.pays_for(booking.booking_type.id)
    ]
    available = sum(lot.remaining for lot in usable)
    if available < credits:
        raise Refused(
            _l("this class takes %(credits)s credits and %(available)s can pay for it; buy a class package first", credits=credits, available=available),
            code="insufficient_credits",
            errors=[
                FieldProblem(
                    "/booking_type", _l("%(credits)s credits needed, %(available)s available", credits=credits, available=available), "insufficient_credits"
                )
            ],
        )
    entries = _take(usable, credits, CreditReason.booking, booking_id=_booking_id(session, booking.public_id))
    _write(session, actor, booking.customer_id, entries, {"booking": booking.public_id})


def _spent_by_lot(session: Session, booking_id: int) -> dict[int, int]:
    """How many credits the booking holds of each lot now (what it took less what was given back)."""
    rows = session.execute(
        select(CreditEntry.lot_id, func.sum(CreditEntry.delta))
        .where(CreditEntry.booking_id == booking_id, CreditEntry.lot_id.is_not(None))
        .group_by(CreditEntry.lot_id)
    )
    return {lot_id: -int(net) for lot_id, net in rows if net < 0}


def return_credits(session: Session, booking: BookingView, *, actor: str = "system") -> int:
    """Give back to their lots the credits ``booking`` took (a timely cancellation); how many. Nothing when it took none."""
    _lock(session, booking.customer_id)
    booking_id = _booking_id(session, booking.public_id)
    spent = _spent_by_lot(session, booking_id)
    if not spent:
        return 0
    lots = {lot.entry.id: lot for lot in _lots(session, booking.customer_id)}
    entries = [
        CreditEntry(lot_id=lot_id, package_id=lots[lot_id].entry.package_id, booking_id=booking_id, delta=credits, reason=CreditReason.cancel_refund)
        for lot_id, credits in spent.items()
    ]
    _write(session, actor, booking.customer_id, entries, {"booking": booking.public_id})
    return sum(spent.values())


def forfeit_credits(session: Session, booking: BookingView, reason: str, *, actor: str = "system") -> int:
    """Record that the credits ``booking`` took stay spent (``late_forfeit``, ``no_show``); how many. Nothing when it took none.

    The entry changes no balance (``delta`` 0): the credits left when the
    booking was made. It is written so the history says why they did not come back.
    """
    if reason not in FORFEITS:
        raise ValueError(f"credits are forfeited for {', '.join(FORFEITS)}, not {reason!r}")
    reason = CreditReason(reason)
    _lock(session, booking.customer_id)
    booking_id = _booking_id(session, booking.public_id)
    forfeited = sum(_spent_by_lot(session, booking_id).values())
    if forfeited:
        entry = CreditEntry(booking_id=booking_id, delta=0, reason=reason)
        _write(session, actor, booking.customer_id, [entry], {"booking": booking.public_id, "forfeited": forfeited})
    return forfeited


def expire_credits(session: Session, tenant: Tenant, *, now: datetime | None = None) -> list[CreditEntry]:
    """Write an ``expire`` line for every lot of ``tenant`` whose expiry passed with credits left, so the ledger sums to the balance.

    Balances never wait for this (an expired lot is not counted), so it runs
    once a day (``yuyue worker``).
    """
    now = now or utcnow()
    taken = aliased(CreditEntry)
    remaining = CreditEntry.delta + func.coalesce(func.sum(taken.delta), 0)
    written = []
    with tenant_scope(tenant.id), write_transaction(session):
        due = session.execute(
            select(CreditEntry.id, CreditEntry.customer_id, CreditEntry.package_id)
            .outerjoin(taken, taken.lot_id == CreditEntry.id)
            .where(CreditEntry.lot_id.is_(None), CreditEntry.delta > 0, CreditEntry.expires_at <= now)
            .group_by(CreditEntry.id)
            .having(remaining > 0)
        ).all()
        for customer_id in sorted({row.customer_id for row in due}):
            _lock(session, customer_id)
            lots = [lot for lot in _lots(session, customer_id) if lot.remaining > 0 and lot.expired(now)]
            entries = [CreditEntry(lot_id=lot.entry.id, package_id=lot.entry.package_id, delta=-lot.remaining, reason=CreditReason.expire) for lot in lots]
            if entries:
                _write(session, "system", customer_id, entries, {})
                written += entries
    return written
