"""Slot inventory writes: get-or-create a slot's counter row, take and release capacity, cut time into quanta.

Capacity is only ever taken by one conditional UPDATE whose row count says
whether it fitted (ARCHITECTURE §5): no read-then-write, so two concurrent
bookings cannot both take the last place. Every function needs the tenant in
context (``yuyue.db.tenant_scope``) and writes inside
``yuyue.db.write_transaction`` (joining the caller's, if any).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from yuyue.audit.state import audited_columns, touched
from yuyue.db import CrossTenantWrite, current_tenant_id, insert_unless_exists, write_transaction
from yuyue.scheduling import QUANTUM, Offering
from yuyue.scheduling.models import SlotInventory
from yuyue.scheduling.slots import Slot, slot_at

__all__ = ["QUANTUM", "InventoryError", "inventory_row", "quanta", "release_capacity", "resize_future_rows", "take_capacity", "take_slot_capacity"]

_UNIQUE_KEY = ["tenant_id", "booking_type_id", "starts_at", "channel"]

_SLOT_KEY = (
    SlotInventory.booking_type_id == bindparam("slot_type"),
    SlotInventory.starts_at == bindparam("slot_start"),
    SlotInventory.channel == bindparam("slot_channel"),
)
_ROW_OF_SLOT = select(SlotInventory).where(*_SLOT_KEY)
# What an UPDATE of a row returns so the audit log learns its new state without reading it again.
_AUDITED = audited_columns(SlotInventory)
# ORM-enabled UPDATE: the session adds the tenant criteria.
_TAKE_IN_SLOT = (
    update(SlotInventory)
    .where(*_SLOT_KEY, SlotInventory.taken + bindparam("n") <= SlotInventory.capacity)
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
    return grown


def take_capacity(session: Session, inventory_id: int, n: int) -> bool:
    """Take ``n`` places of an inventory row if they fit; ``False`` (nothing changed) if they do not.

    One statement: ``UPDATE slot_inventory SET taken = taken + :n WHERE id = :id AND taken + :n <= capacity``.
    """
    if n < 1:
        raise ValueError(f"take at least one place, not {n}")
    condition = SlotInventory.taken + n <= SlotInventory.capacity
    return _change_taken(session, inventory_id, SlotInventory.taken + n, condition)


def release_capacity(session: Session, inventory_id: int, n: int) -> None:
    """Give back ``n`` places taken earlier (a cancellation, an expired hold).

    :raises InventoryError: if the row does not hold ``n`` taken places: that is
        a double release, and the transaction should not commit.
    """
    if n < 1:
        raise ValueError(f"release at least one place, not {n}")
    if not _change_taken(session, inventory_id, SlotInventory.taken - n, SlotInventory.taken >= n):
        raise InventoryError(f"slot inventory {inventory_id} does not hold {n} taken places")


def _change_taken(session: Session, inventory_id: int, new_taken, condition) -> bool:
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
            return False
        touched(session, SlotInventory, row.id, row._mapping)
        _expire_taken(session, inventory_id)
        return True


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
