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


def proofs_to_show(price_lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What staff check at the entrance: each ticket of a booking whose type asks for proof (a student card), with how many."""
    return [{"key": line["key"], "label": line["label"], "quantity": line["quantity"], "proof": line["proof"]} for line in price_lines if line.get("proof")]
