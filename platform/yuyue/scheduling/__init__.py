"""Availability rules → slots, holidays, and the slot inventory that counts capacity."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

# Resources are allocated in fixed quanta of this length (one unique row per resource and quantum).
QUANTUM = timedelta(minutes=5)


class Offering(Protocol):
    """What scheduling reads of a booking type: its id, its tenant and its availability rules.

    The catalog's ``BookingType`` is one; scheduling sits below the catalog and
    does not import it.
    """

    id: int
    tenant_id: int
    availability_rules: list[dict[str, Any]]
