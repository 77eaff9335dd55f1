"""Merge two records of one person into one: everything of the other record moves to the survivor, which then stands alone.

Staff merge when a customer booked once by phone and once through the mini-program, or with two phones. The survivor
takes the other's bookings, waitlist entries, points, class credits, bans, companions (one per ID number), notification
preferences, tags and note, and the phone or WeChat openid it lacks. The other record's row stays, emptied of everything
personal and marked ``merged_into_id``: searches, staff pages and logins treat it as gone, and its id is never given to
anyone else (SQLite reuses the highest deleted id, and a token or cookie naming it may still be presented). Quotas,
limits and no-show counts read bookings by customer, so they count the merged history from then on.

:data:`CUSTOMER_REFERENCES` lists every column that names a customer with what a merge does to its rows; a table
that adds such a column adds a line there (``tests/merging/test_customer_references.py`` fails until it does). The
module sits above every area holding such a table for that reason.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from yuyue.audit.state import audited, audited_columns, touched
from yuyue.bookings.customer_records import MAX_NOTE_LENGTH, MAX_TAGS
from yuyue.bookings.models import Booking, Consent, Feedback, WaitlistEntry
from yuyue.bookings.placement import Actor
from yuyue.bookings.policies import lock_identities
from yuyue.credits.models import CreditEntry
from yuyue.customers.models import Ban, BanSubject, Companion, Customer, PointsEntry, RefreshToken
from yuyue.customers.operations import checked_text, get_customer
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound
from yuyue.events.models import NotificationPreference
from yuyue.events.operations import record_change
from yuyue.privacy.models import DataRequest
from yuyue.tenancy.models import Tenant

__all__ = ["CUSTOMER_REFERENCES", "MERGE_REASON_LENGTH", "merge_customers", "move_rows"]

# The reason staff give is kept in the audit log, as long as a ban's.
MERGE_REASON_LENGTH = 200
# The survivor's own identity fields, taken from the other record when the survivor has none.
IDENTITY_FIELDS = ("phone", "wechat_openid", "name")
# A companion's fields the survivor's companion with the same ID number takes from the other's when it has none.
COMPANION_FIELDS = ("phone", "relation", "birth_date")
NOTE_SEPARATOR = "\n\n"

# What a merge does to the rows of one (model, column): called with the survivor and the other record, answers how many rows it handled.
Merge = Callable[[Session, type, str, Customer, Customer], int]


def move_rows(session: Session, model: type, column: str, survivor: Customer, other: Customer) -> int:
    """Point every row of ``other`` at ``survivor``: one UPDATE, whose audited rows go to the audit chain as it left them."""
    statement = update(model).where(getattr(model, column) == other.id).values({column: survivor.id})
    if audited(model) is None:
        return session.execute(statement, execution_options={"synchronize_session": False}).rowcount
    rows = session.execute(statement.returning(*audited_columns(model)), execution_options={"synchronize_session": False}).all()
    for row in rows:
        touched(session, model, row.id, row._mapping)
    return len(rows)


def join_companions(session: Session, model: type, column: str, survivor: Customer, other: Customer) -> int:
    """Move the other's companions; one with an ID number the survivor already saved is dropped, after filling the
    survivor's companion's empty fields from it (its name stays the survivor's)."""
    kept = {c.id_number: c for c in session.scalars(select(model).where(getattr(model, column) == survivor.id)) if c.id_number}
    theirs = list(session.scalars(select(model).where(getattr(model, column) == other.id).order_by(model.id)))
    for companion in theirs:
        twin = kept.get(companion.id_number) if companion.id_number else None
        if twin is None:
            setattr(companion, column, survivor.id)
            continue
        for field in COMPANION_FIELDS:
            if getattr(twin, field) is None:
                setattr(twin, field, getattr(companion, field))
        session.delete(companion)
    session.flush()
    return len(theirs)


def join_preferences(session: Session, model: type, column: str, survivor: Customer, other: Customer) -> int:
    """One row per customer: the survivor keeps theirs, takes the other's email if it has none, and every channel turned off
    or message muted on either stays so (the person asked for it on one of their records); without one, the other's moves."""
    mine = session.scalar(select(model).where(getattr(model, column) == survivor.id))
    theirs = session.scalar(select(model).where(getattr(model, column) == other.id))
    if theirs is None:
        return 0
    if mine is None:
        setattr(theirs, column, survivor.id)
    else:
        mine.email = mine.email or theirs.email
        mine.channels_off = list(dict.fromkeys([*mine.channels_off, *theirs.channels_off]))
        mine.muted = list(dict.fromkeys([*mine.muted, *theirs.muted]))
        session.delete(theirs)
    session.flush()
    return 1


def revoke_rows(session: Session, model: type, column: str, survivor: Customer, other: Customer) -> int:
    """Delete the other's rows: its refresh tokens log nobody in any more (the survivor logs in anew)."""
    return session.execute(delete(model).where(getattr(model, column) == other.id), execution_options={"synchronize_session": False}).rowcount


# Every column holding a customer's id, and what a merge does to its rows (appended to by each table that names a customer).
CUSTOMER_REFERENCES: tuple[tuple[type, str, Merge], ...] = (
    (Booking, "customer_id", move_rows),
    (WaitlistEntry, "customer_id", move_rows),
    (PointsEntry, "customer_id", move_rows),
    (CreditEntry, "customer_id", move_rows),
    (Companion, "customer_id", join_companions),
    (NotificationPreference, "customer_id", join_preferences),
    (RefreshToken, "customer_id", revoke_rows),
    (DataRequest, "customer_id", move_rows),
    (Consent, "customer_id", move_rows),
    (Feedback, "customer_id", move_rows),
    # Records merged into the other one earlier now point at the survivor, so every merged record names a live one.
    (Customer, "merged_into_id", move_rows),
)


def merge_customers(session: Session, tenant: Tenant, customer_id: int, *, other_id: int, reason: str, actor: Actor) -> Customer:
    """Merge customer ``other_id`` into customer ``customer_id`` (the survivor) and empty it; one transaction, audited and
    announced as ``customer.merged``.

    :raises InvalidInput: ``merge_into_itself`` (``/from``), or a reason that is not 1-:data:`MERGE_REASON_LENGTH` characters.
    :raises NotFound: ``customer_not_found`` for either id not of a customer of ``tenant`` (``/from`` for the other).
    :raises Conflict: ``merged_tags_too_many`` or ``merged_note_too_long`` when the two records' tags or notes together
        exceed what one record holds: staff shorten them first, since a merge drops nothing.
    """
    reason = checked_text(reason, "/reason", MERGE_REASON_LENGTH)
    if other_id == customer_id:
        raise InvalidInput(
            _l("a customer cannot be merged into itself"),
            errors=[FieldProblem("/from", _l("the id of another customer of the same person"), "merge_into_itself")],
        )
    with tenant_scope(tenant.id), write_transaction(session):
        survivor, other = _locked(session, customer_id, other_id)
        tags, note = _joined_notes(survivor, other)
        moved = {model.__tablename__: merge(session, model, column, survivor, other) for model, column, merge in CUSTOMER_REFERENCES}
        moved["bans"] = _move_bans(session, survivor, other)
        identity = {field: getattr(other, field) for field in IDENTITY_FIELDS}
        _empty(other, into=survivor)
        session.flush()  # the other's phone and openid are free before the survivor takes them (both are unique)
        taken = sorted(field for field, value in identity.items() if value is not None and getattr(survivor, field) is None)
        for field in taken:
            setattr(survivor, field, identity[field])
        survivor.tags, survivor.note = tags, note
        session.flush()
        payload = {
            "customer": survivor.id,
            "merged": other.id,
            "reason": reason,
            "moved": moved,
            "taken": taken,
            "dropped": sorted(field for field in ("phone", "wechat_openid") if identity[field] is not None and field not in taken),
        }
        record_change(session, actor=str(actor), action="customer.merged", subject_type="customer", subject_id=survivor.id, payload=payload)
    return survivor


def _locked(session: Session, customer_id: int, other_id: int) -> tuple[Customer, Customer]:
    """Both customers, locked in the order a booking locks its customer (the row, then the identity key), rows in id order,
    so no two merges or a merge and a booking deadlock: a booking of either that found its customer first is waited for; one
    that comes later finds the survivor by phone, and counts the merged history against its quotas."""
    locked = select(Customer).where(Customer.id.in_(sorted((customer_id, other_id)))).order_by(Customer.id).with_for_update()
    found = {c.id: c for c in session.scalars(locked.execution_options(populate_existing=True)) if c.merged_into_id is None}
    lock_identities(session, [f"customer:{customer_id}", f"customer:{other_id}"])
    if customer_id not in found:
        get_customer(session, customer_id)  # raises customer_not_found
    if other_id not in found:
        raise NotFound(
            _l("no customer %(customer_id)s", customer_id=other_id),
            code="customer_not_found",
            errors=[FieldProblem("/from", _l("no such customer"), "customer_not_found")],
        )
    for customer, pointer in ((found[customer_id], ""), (found[other_id], "/from")):
        if customer.erased_at is not None:  # an erased record is no one's any more: nothing of it may join a person's
            raise Conflict(
                _l("customer %(customer_id)s was erased", customer_id=customer.id),
                code="customer_erased",
                errors=[FieldProblem(pointer, _l("this customer's data was erased"), "customer_erased")],
            )
    return found[customer_id], found[other_id]


def _joined_notes(survivor: Customer, other: Customer) -> tuple[list[str], str | None]:
    tags = list(dict.fromkeys([*survivor.tags, *other.tags]))
    if len(tags) > MAX_TAGS:
        raise Conflict(
            _l("together the two records have %(count)s tags, one holds at most %(max_tags)s", count=len(tags), max_tags=MAX_TAGS),
            code="merged_tags_too_many",
            errors=[FieldProblem("/from", _l("remove some tags of either record first"), "merged_tags_too_many")],
        )
    note = NOTE_SEPARATOR.join(n for n in (survivor.note, other.note) if n) or None
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise Conflict(
            _l("together the two records' notes are longer than %(length)s characters", length=MAX_NOTE_LENGTH),
            code="merged_note_too_long",
            errors=[FieldProblem("/from", _l("shorten the note of either record first"), "merged_note_too_long")],
        )
    return tags, note


def _empty(other: Customer, *, into: Customer) -> None:
    """What stays of the other record: its id and when it was first seen, pointing at the survivor."""
    for field in IDENTITY_FIELDS:
        setattr(other, field, None)
    other.tags, other.note, other.merged_into_id = [], None, into.id


def _move_bans(session: Session, survivor: Customer, other: Customer) -> int:
    """Bans on the other record become bans on the survivor; bans on a phone or ID number stay on it (they follow the number)."""
    bans = list(session.scalars(select(Ban).where(Ban.subject_kind == BanSubject.customer, Ban.subject == str(other.id))))
    for ban in bans:
        ban.subject = str(survivor.id)
    session.flush()
    return len(bans)
