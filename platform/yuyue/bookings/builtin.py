"""The host's own booking behaviour, through the same hooks as any plugin's.

Listed in ``yuyue.plugins.DEFAULT_PLUGINS``, so every application has it; lower
areas (the catalog) reach the booking area only through these hooks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from yuyue.bookings.waitlist import promote
from yuyue.hookspecs import hookimpl


@hookimpl
def capacity_added(inventory_ids: list[int], now: datetime, session: Session) -> None:
    """Places added to a full slot go to its waitlist first."""
    for inventory_id in inventory_ids:
        promote(session, inventory_id, now)
