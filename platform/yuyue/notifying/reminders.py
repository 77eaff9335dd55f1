"""Reminders before a booking starts, per booking type (``policies.reminders``): emitted as ``booking.reminder`` outbox events when due.

Placeholder of the shared contract; the notices helper fills it in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session


def emit_due_reminders(session: Session, *, now: datetime | None = None) -> int:
    """Emit a ``booking.reminder`` event for every reminder of every active tenant's confirmed bookings that is due; how many."""
    return 0
