"""Which status may follow which, and the compare-and-set that moves a booking along.

A transition is one conditional UPDATE on (id, expected status), so two
concurrent actors (a cancel racing a check-in, two cancels) cannot both win.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from yuyue.audit.state import audited_columns, touched
from yuyue.bookings.models import Booking, BookingStatus
from yuyue.errors import Conflict
from yuyue.types import utcnow

S = BookingStatus
ALLOWED: dict[BookingStatus, frozenset[BookingStatus]] = {
    S.held: frozenset({S.confirmed, S.cancelled, S.expired}),
    S.confirmed: frozenset({S.checked_in, S.cancelled, S.no_show}),
    S.checked_in: frozenset({S.completed}),
    S.completed: frozenset(),
    S.cancelled: frozenset(),
    S.expired: frozenset(),
    S.no_show: frozenset(),
}


def require_transition(booking: Booking, to: BookingStatus) -> None:
    if to not in ALLOWED[booking.status]:
        raise Conflict(
            _l("a %(status)s booking cannot become %(target)s", status=booking.status.value, target=to.value),
            code="illegal_transition",
        )


def move(session: Session, booking: Booking, to: BookingStatus, **values) -> None:
    """Move ``booking`` to ``to`` if it is still in the status we read; refuse otherwise."""
    require_transition(booking, to)
    row = session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == booking.status)
        .values(status=to, updated_at=utcnow(), **values)
        .returning(*audited_columns(Booking))  # the audit log's digest of the row as this UPDATE left it
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        session.refresh(booking)
        raise Conflict(_l("the booking changed meanwhile and is now %(status)s", status=booking.status.value), code="illegal_transition")
    touched(session, Booking, booking.id, row._mapping)
    # The row is already written; record the new state without queuing another UPDATE.
    for key, value in {"status": to, **values}.items():
        set_committed_value(booking, key, value)
