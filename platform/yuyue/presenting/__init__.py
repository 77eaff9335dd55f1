"""How the host's records look to the people who read them, shared by the API and the customer site.

``language`` picks a locale and renders localized text; ``customer`` and
``staff`` turn bookings, booking types, slots and the rest into the JSON each
audience reads. Presenters only read, so a GET or a page may show anything
they render; and nothing here imports :mod:`yuyue.api`, so a site renders the
same records without the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


def local_time(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 in ``zone`` (the tenant's), with its offset; None stays None."""
    return moment.astimezone(zone).isoformat() if moment is not None else None


def booking_terms(booking: Any, zone: ZoneInfo) -> dict[str, Any]:
    """What every reader of a booking sees alike: its status, when, how many and for how much (times in ``zone``)."""
    return {
        "status": booking.status.value,
        "starts_at": local_time(booking.starts_at, zone),
        "ends_at": local_time(booking.ends_at, zone),
        "local_date": booking.local_date.isoformat(),
        "channel": booking.channel,
        "party_size": booking.party_size,
        "tickets": booking.tickets,
        "price_lines": booking.price_lines,
        "price_amount": booking.price_amount,
        "currency": booking.currency,
    }


def proofs_to_show(price_lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What staff check at the entrance: each ticket of a booking whose type asks for proof (a student card), with how many."""
    return [{"key": line["key"], "label": line["label"], "quantity": line["quantity"], "proof": line["proof"]} for line in price_lines if line.get("proof")]
