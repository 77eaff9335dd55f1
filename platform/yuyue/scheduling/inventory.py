"""Slot inventory writes: get-or-create a slot's counter row, take and release capacity, cut time into quanta.

Capacity is only ever taken by one conditional UPDATE whose row count says
whether it fitted (ARCHITECTURE §5): no read-then-write, so two concurrent
bookings cannot both take the last place. Every function needs the tenant in
context (``yuyue.db.tenant_scope``) and writes inside
``yuyue.db.write_transaction`` (joining the caller's, if any).

A booking's places come from its slot's row and, under a ``daily_cap`` rule,
from its day's rows (:class:`DayInventory`, the whole day and its channel's
day) in the same transaction. Rows are always locked in one order — slot rows
by (start, channel), then day rows by (date, scope) — so two transactions
moving places in opposite directions (a reschedule A→B racing one B→A) wait
for each other instead of deadlocking.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from yuyue.audit.state import audited_columns, touched
from yuyue.db import CrossTenantWrite, current_tenant_id, insert_unless_exists, write_transaction
from yuyue.errors import Refused
from yuyue.scheduling import QUANTUM, Offering
from yuyue.scheduling.models import DayInventory, SlotInventory
from yuyue.scheduling.rules import DAY_SCOPE
from yuyue.scheduling.slots import Slot, day_caps, slot_at
from yuyue.tenancy.models import Tenant

__all__ = [
    "QUANTUM",
    "InventoryError",
    "inventory_row",
    "move_places",
    "quanta",
    "release_capacity",
    "release_places",
    "remaining_places",
    "resize_future_rows",
    "take_capacity",
    "take_places",
    "take_row_places",
    "take_slot_capacity",
]

_UNIQUE_KEY = ["tenant_id", "booking_type_id", "starts_at", "channel"]

_SLOT_KEY = (
    SlotInventory.booking_type_id == bindparam("slot_type"),
    SlotInventory.starts_at == bindparam("slot_start"),
    SlotInventory.channel == bindparam("slot_channel"),
)
_ROW_OF_SLOT = select(SlotInventory).where(*_SLOT_KEY)
# What an UPDATE of a row returns so the audit log learns its new state without reading it again.
_AUDITED = audited_columns(SlotInventory)
# ORM-enabled UPDATE: the session adds the tenant criteria. A closed slot (``closed_reason``) takes nothing.
_TAKE_IN_SLOT = (
    update(SlotInventory)
    .where(*_SLOT_KEY, SlotInventory.taken + bindparam("n") <= SlotInventory.capacity, SlotInventory.closed_reason.is_(None))
    .values(taken=SlotInventory.taken + bindparam("n"))
    .returning(*_AUDITED)
    .execution_options(synchronize_session=False)
)


class InventoryError(RuntimeError):
    """An inventory counter was asked for something that can only be a bug (releasing more than was taken)."""


def inventory_row(session: Session, booking_type: Offering, slot: Slot, channel: str) -> SlotInventory:
    """The inventory row of ``slot`` for ``channel``, created with the slot's capacity if missing.

    Race-safe: a missing row is created with ``INSERT … ON CONFLICT DO NOTHING
    RETURNING``, and read again only if a concurrent request created it first,
    so both end up with the one row; an existing row costs one SELECT.

    :raises KeyError: if the slot has no such channel.
    """
    capacity = slot.capacities[channel]
    tenant_id = current_tenant_id()
    if booking_type.tenant_id != tenant_id:
        raise CrossTenantWrite(f"booking type of tenant {booking_type.tenant_id} used as tenant {tenant_id}")
    key = {"slot_type": booking_type.id, "slot_start": slot.starts_at, "slot_channel": channel}
    with write_transaction(session):
        row = session.scalars(_ROW_OF_SLOT, key).one_or_none()
        if row is None:
            row = _insert_row(session, booking_type, slot, channel, capacity, taken=0, returning=SlotInventory)
            if row is None:  # created meanwhile by a concurrent request
                row = session.scalars(_ROW_OF_SLOT, key).one()
            else:
                touched(session, row)
        return row


def take_slot_capacity(session: Session, booking_type: Offering, slot: Slot, channel: str, n: int) -> int | None:
    """Take ``n`` places of ``slot`` for ``channel``; the inventory row's id, or None (nothing changed) if they do not fit.

    The conditional UPDATE of :func:`take_capacity`, addressed by the slot: one
    statement when the row exists. A missing row is inserted with the places
    already taken; if a concurrent request inserted it first, the UPDATE runs again.

    :raises KeyError: if the slot has no such channel.
    """
    if n < 1:
        raise ValueError(f"take at least one place, not {n}")
    capacity = slot.capacities[channel]
    tenant_id = current_tenant_id()
    if booking_type.tenant_id != tenant_id:
        raise CrossTenantWrite(f"booking type of tenant {booking_type.tenant_id} used as tenant {tenant_id}")
    key = {"slot_type": booking_type.id, "slot_start": slot.starts_at, "slot_channel": channel, "n": n}
    with write_transaction(session):
        row = session.execute(_TAKE_IN_SLOT, key).first()
        if row is None and n <= capacity:
            inserted = _insert_row(session, booking_type, slot, channel, capacity, taken=n)
            if inserted is not None:
                values = {"id": inserted, "booking_type_id": booking_type.id, "starts_at": slot.starts_at, "channel": channel, "capacity": capacity, "taken": n}
                touched(session, SlotInventory, inserted, values)
                return inserted
            row = session.execute(_TAKE_IN_SLOT, key).first()  # created meanwhile by a concurrent request
        if row is None:
            return None
        touched(session, SlotInventory, row.id, row._mapping)
        _expire_taken(session, row.id)
        return row.id


def _insert_row(session: Session, booking_type: Offering, slot: Slot, channel: str, capacity: int, *, taken: int, returning=None):
    values = {"tenant_id": booking_type.tenant_id, "booking_type_id": booking_type.id, "starts_at": slot.starts_at, "ends_at": slot.ends_at}
    return insert_unless_exists(session, SlotInventory, {**values, "channel": channel, "capacity": capacity, "taken": taken}, _UNIQUE_KEY, returning=returning)


def _expire_taken(session: Session, inventory_id: int) -> None:
    """Let a loaded row read ``taken`` afresh after an UPDATE changed it behind the ORM's back."""
    _expire_loaded(session, inventory_id, ["taken"])


def _expire_loaded(session: Session, inventory_id: int, columns: list[str]) -> None:
    loaded = session.identity_map.get(identity_key(SlotInventory, inventory_id))
    if loaded is not None:
        session.expire(loaded, columns)


def resize_future_rows(session: Session, booking_type: Offering, zone: ZoneInfo, now: datetime) -> list[int]:
    """Give the rows of slots yet to start the capacity the booking type's rules now give them; returns the rows that grew.

    A row is created with its slot's capacity at the first booking, so changed
    rules reach the slots already booked only through this. A slot the rules no
    longer make, or a channel they no longer have, gets capacity 0: nothing more
    is sold there, and the bookings already made stay for the merchant to move or
    cancel. Capacity below what is taken leaves the slot full; nothing is oversold
    because places are only ever taken by :func:`take_capacity`'s conditional UPDATE.
    Day rows from today on follow the days' caps the same way; a row whose cap
    the rules dropped is deleted (a cap set again counts the day from its slots).
    """
    grown, by_capacity = [], defaultdict(list)
    with write_transaction(session):
        rows = session.execute(
            select(SlotInventory.id, SlotInventory.starts_at, SlotInventory.channel, SlotInventory.capacity).where(
                SlotInventory.booking_type_id == booking_type.id, SlotInventory.starts_at > now
            )
        ).all()
        for row in rows:
            slot = slot_at(booking_type.availability_rules, zone, row.starts_at)
            capacity = slot.capacities.get(row.channel, 0) if slot is not None else 0
            if capacity != row.capacity:
                by_capacity[capacity].append(row.id)
                if capacity > row.capacity:
                    grown.append(row.id)
        for capacity, ids in by_capacity.items():  # one UPDATE per new capacity, not per row
            resized = session.execute(
                update(SlotInventory)
                .where(SlotInventory.id.in_(ids))
                .values(capacity=capacity)
                .returning(*_AUDITED)
                .execution_options(synchronize_session=False)
            )
            for row in resized:
                touched(session, SlotInventory, row.id, row._mapping)
                _expire_loaded(session, row.id, ["capacity"])
        _resize_day_rows(session, booking_type, now.astimezone(zone).date())
    return grown


def _resize_day_rows(session: Session, booking_type: Offering, today: date) -> None:
    days = session.scalars(select(DayInventory).where(DayInventory.booking_type_id == booking_type.id, DayInventory.local_date >= today)).all()
    for day in days:
        caps = day_caps(booking_type.availability_rules, day.local_date)
        if day.scope not in caps:
            session.delete(day)
        elif caps[day.scope] != day.capacity:
            day.capacity = caps[day.scope]
    session.flush()


def take_capacity(session: Session, inventory_id: int, n: int) -> bool:
    """Take ``n`` places of an inventory row if they fit; ``False`` (nothing changed) if they do not.

    One statement: ``UPDATE slot_inventory SET taken = taken + :n WHERE id = :id AND taken + :n <= capacity``.
    """
    if n < 1:
        raise ValueError(f"take at least one place, not {n}")
    condition = (SlotInventory.taken + n <= SlotInventory.capacity) & SlotInventory.closed_reason.is_(None)
    return _change_taken(session, inventory_id, SlotInventory.taken + n, condition) is not None


def release_capacity(session: Session, inventory_id: int, n: int) -> None:
    """Give back ``n`` places taken earlier (a cancellation, an expired hold).

    :raises InventoryError: if the row does not hold ``n`` taken places: that is
        a double release, and the transaction should not commit.
    """
    _release_row(session, inventory_id, n)


def _release_row(session: Session, inventory_id: int, n: int):
    if n < 1:
        raise ValueError(f"release at least one place, not {n}")
    row = _change_taken(session, inventory_id, SlotInventory.taken - n, SlotInventory.taken >= n)
    if row is None:
        raise InventoryError(f"slot inventory {inventory_id} does not hold {n} taken places")
    return row


def _change_taken(session: Session, inventory_id: int, new_taken, condition):
    """The row's audited columns after the change, or None when ``condition`` did not hold."""
    with write_transaction(session):
        # ORM-enabled UPDATE: the session adds the tenant criteria.
        statement = (
            update(SlotInventory)
            .where(SlotInventory.id == inventory_id, condition)
            .values(taken=new_taken)
            .returning(*_AUDITED)
            .execution_options(synchronize_session=False)
        )
        row = session.execute(statement).first()
        if row is None:
            return None
        touched(session, SlotInventory, row.id, row._mapping)
        _expire_taken(session, inventory_id)
        return row


def quanta(starts_at: datetime, ends_at: datetime) -> list[datetime]:
    """The UTC starts of the :data:`QUANTUM`-long quanta covering ``[starts_at, ends_at)``.

    Quanta are aligned on UTC multiples of the quantum, so two intervals that
    overlap by any amount share at least one quantum, and a resource holding one
    row per quantum cannot be allocated twice for overlapping times.
    """
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("quanta() needs aware datetimes")
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    first = epoch + ((starts_at.astimezone(UTC) - epoch) // QUANTUM) * QUANTUM
    found, moment, end = [], first, ends_at.astimezone(UTC)
    while moment < end:
        found.append(moment)
        moment += QUANTUM
    return found


# --- a booking's places: its slot's row and its day's rows -------------------------------

_DAY_UNIQUE_KEY = ["tenant_id", "booking_type_id", "local_date", "scope"]
_DAY_KEY = (
    DayInventory.booking_type_id == bindparam("day_type"),
    DayInventory.local_date == bindparam("day_date"),
    DayInventory.scope == bindparam("day_scope"),
)
_DAY_AUDITED = audited_columns(DayInventory)
_TAKE_IN_DAY = (
    update(DayInventory)
    .where(*_DAY_KEY, DayInventory.taken + bindparam("n") <= DayInventory.capacity)
    .values(taken=DayInventory.taken + bindparam("n"))
    .returning(*_DAY_AUDITED)
    .execution_options(synchronize_session=False)
)
_RELEASE_IN_DAY = (
    update(DayInventory)
    .where(*_DAY_KEY)
    .values(taken=DayInventory.taken - bindparam("n"))
    .returning(*_DAY_AUDITED)
    .execution_options(synchronize_session=False)
)
_CLOSED_REASON_OF_SLOT = select(SlotInventory.closed_reason).where(*_SLOT_KEY)


def take_places(session: Session, booking_type: Offering, slot: Slot, channel: str, n: int) -> int:
    """Take ``n`` places of ``slot`` for ``channel`` and of its day's caps; the id of the slot's inventory row.

    :raises Refused: ``slot_closed``, ``slot_full`` or ``daily_cap_reached``; the
        caller's transaction must then roll back (a day refusal comes after the slot's places were taken).
    :raises KeyError: if the slot has no such channel.
    """
    with write_transaction(session):
        inventory_id = _take_in_slot(session, booking_type, slot, channel, n)
        _take_in_days(session, booking_type.id, slot.local_date, slot.zone, channel, slot.day_caps, n)
    return inventory_id


def release_places(session: Session, inventory_id: int, n: int) -> None:
    """Give back ``n`` places taken earlier from a slot's row and from its day's rows (a cancellation, an expired hold or offer).

    :raises InventoryError: if the slot's row does not hold ``n`` taken places (a double release).
    """
    with write_transaction(session):
        row = _release_row(session, inventory_id, n)
        _release_in_days(session, row.booking_type_id, _local_date(session, row.starts_at), row.channel, n)


def move_places(session: Session, booking_type: Offering, inventory_id: int, slot: Slot, channel: str, n: int) -> int:
    """Move ``n`` places from the slot row ``inventory_id`` (same booking type and channel) to ``slot``; the new row's id.

    Within one day the day's caps are left alone (a move does not change what
    the day sells), so a full day still lets a booking move inside it.

    :raises Refused: as :func:`take_places`, for the new slot.
    """
    with write_transaction(session):
        old_start = session.scalar(select(SlotInventory.starts_at).where(SlotInventory.id == inventory_id))
        # Slot rows in start order, whichever way the booking moves.
        if slot.starts_at < old_start:
            new_id = _take_in_slot(session, booking_type, slot, channel, n)
            _release_row(session, inventory_id, n)
        else:
            _release_row(session, inventory_id, n)
            new_id = _take_in_slot(session, booking_type, slot, channel, n)
        old_day = _local_date(session, old_start)
        if old_day != slot.local_date:
            # Then day rows in date order.
            if old_day < slot.local_date:
                _release_in_days(session, booking_type.id, old_day, channel, n)
                _take_in_days(session, booking_type.id, slot.local_date, slot.zone, channel, slot.day_caps, n)
            else:
                _take_in_days(session, booking_type.id, slot.local_date, slot.zone, channel, slot.day_caps, n)
                _release_in_days(session, booking_type.id, old_day, channel, n)
    return new_id


def take_row_places(session: Session, booking_type: Offering, inventory_id: int, n: int) -> bool:
    """Take ``n`` places of the slot row ``inventory_id`` and of its day's caps if they all fit; ``False`` (nothing changed) if not.

    For the waitlist, which holds a freed place by the slot's row.
    """
    with write_transaction(session):
        row = _change_taken(
            session, inventory_id, SlotInventory.taken + n, (SlotInventory.taken + n <= SlotInventory.capacity) & SlotInventory.closed_reason.is_(None)
        )
        if row is None:
            return False
        zone = _zone(session)
        local_date = row.starts_at.astimezone(zone).date()
        try:
            _take_in_days(session, booking_type.id, local_date, zone, row.channel, day_caps(booking_type.availability_rules, local_date), n)
        except Refused:
            _release_row(session, inventory_id, n)
            return False
    return True


def remaining_places(session: Session, booking_type: Offering, inventory: SlotInventory) -> int:
    """What a booking on the slot row ``inventory`` could still take: its own places left, within its day's caps; 0 when closed."""
    if inventory.closed_reason is not None:
        return 0
    remaining = inventory.capacity - inventory.taken
    zone = _zone(session)
    local_date = inventory.starts_at.astimezone(zone).date()
    caps = day_caps(booking_type.availability_rules, local_date)
    for scope in sorted(scope for scope in (DAY_SCOPE, inventory.channel) if scope in caps):
        row = session.execute(
            select(DayInventory.capacity, DayInventory.taken).where(
                DayInventory.booking_type_id == booking_type.id, DayInventory.local_date == local_date, DayInventory.scope == scope
            )
        ).first()
        capacity, taken = row if row is not None else (caps[scope], _day_taken(session, booking_type.id, local_date, zone, scope))
        remaining = min(remaining, capacity - taken)
    return max(remaining, 0)


def day_bounds(local_date: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC moments a local day starts and the next one starts: the slots of the day start in between."""
    return datetime.combine(local_date, time(0), zone).astimezone(UTC), datetime.combine(local_date + timedelta(days=1), time(0), zone).astimezone(UTC)


def _take_in_slot(session: Session, booking_type: Offering, slot: Slot, channel: str, n: int) -> int:
    inventory_id = take_slot_capacity(session, booking_type, slot, channel, n)
    if inventory_id is not None:
        return inventory_id
    key = {"slot_type": booking_type.id, "slot_start": slot.starts_at, "slot_channel": channel}
    if session.scalar(_CLOSED_REASON_OF_SLOT, key) is not None:
        raise Refused(_l("this slot is closed"), code="slot_closed")
    raise Refused(_l("this slot is full"), code="slot_full")


def _take_in_days(session: Session, booking_type_id: int, local_date: date, zone: ZoneInfo, channel: str, caps: dict[str, int], n: int) -> None:
    """Take ``n`` places of each capped scope of the day (after the slot's own: a new row counts them)."""
    for scope in sorted(scope for scope in (DAY_SCOPE, channel) if scope in caps):
        key = {"day_type": booking_type_id, "day_date": local_date, "day_scope": scope, "n": n}
        row = session.execute(_TAKE_IN_DAY, key).first()
        if row is None:
            # The day's first places under this cap: the row starts with what the day's slots hold, this booking's included.
            taken = _day_taken(session, booking_type_id, local_date, zone, scope)
            if taken <= caps[scope]:
                values = {"booking_type_id": booking_type_id, "local_date": local_date, "scope": scope, "capacity": caps[scope], "taken": taken}
                inserted = insert_unless_exists(session, DayInventory, {"tenant_id": current_tenant_id(), **values}, _DAY_UNIQUE_KEY)
                if inserted is not None:
                    touched(session, DayInventory, inserted, {"id": inserted, **values})
                    continue
                row = session.execute(_TAKE_IN_DAY, key).first()  # created meanwhile by a concurrent request
        if row is None:
            raise Refused(_l("this day is fully booked"), code="daily_cap_reached")
        touched(session, DayInventory, row.id, row._mapping)


def _release_in_days(session: Session, booking_type_id: int, local_date: date, channel: str, n: int) -> None:
    """Give back ``n`` places of each row the day has for the channel (a day without a row counts from its slots)."""
    for scope in sorted({DAY_SCOPE, channel}):
        row = session.execute(_RELEASE_IN_DAY, {"day_type": booking_type_id, "day_date": local_date, "day_scope": scope, "n": n}).first()
        if row is not None:
            touched(session, DayInventory, row.id, row._mapping)


def _day_taken(session: Session, booking_type_id: int, local_date: date, zone: ZoneInfo, scope: str) -> int:
    """What the day's slot rows in ``scope`` have taken: what its day row holds, or would hold."""
    start, end = day_bounds(local_date, zone)
    query = select(func.coalesce(func.sum(SlotInventory.taken), 0)).where(
        SlotInventory.booking_type_id == booking_type_id, SlotInventory.starts_at >= start, SlotInventory.starts_at < end
    )
    if scope != DAY_SCOPE:
        query = query.where(SlotInventory.channel == scope)
    return session.scalar(query)


def _zone(session: Session) -> ZoneInfo:
    return ZoneInfo(session.get(Tenant, current_tenant_id()).time_zone)


def _local_date(session: Session, starts_at: datetime) -> date:
    return starts_at.astimezone(_zone(session)).date()
