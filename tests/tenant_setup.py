"""Set-up shared by the test folders: tenants, booking types, coaches, phone and ID numbers.

Imported by name (test folders are not packages; ``tests/`` is on ``sys.path``
because the root conftest lives there). Each folder's own ``*_setup`` module
keeps what only that folder uses: its slot day, forms with labels, prices.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from stdnum.cn import ric

from yuyue.catalog.models import BookingType, Resource
from yuyue.catalog.operations import create_booking_type, create_resource
from yuyue.catalog.stops import create_stop
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant
from yuyue.scheduling.registry import current_registry
from yuyue.tenancy.models import Tenant

VISIT = {"zh-Hans": "参观", "en": "Visit"}
NAME_FORM = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "x-field": "text", "minLength": 1},
        "note": {"type": "string", "x-field": "text"},
    },
    "required": ["name"],
}
NAME_UI = {"order": ["name", "note"], "fields": {}}

# A shuttle route for vehicle booking types: code, kind, minutes after departure.
ROUTE = (("south_gate", "pickup", 0), ("metro_exit_b", "both", 10), ("railway_north", "both", 25), ("airport_t2", "dropoff", 50))

_serial = itertools.count(1)


def windows(*spans: tuple[str, str], capacity: int = 20, **extra: Any) -> list[dict]:
    """Availability rules: one ``fixed_windows`` rule with a window per ``(start, end)`` span."""
    return [{"type": "fixed_windows", "params": {"windows": [{"start": s, "end": e, "capacity": capacity} for s, e in spans], **extra}}]


def make_tenant(session, slug: str = "museum", plugins: tuple[str, ...] = ("exhibition", "course")) -> Tenant:
    """A tenant with ``plugins`` enabled, each with an empty configuration."""
    return create_tenant(session, plugin_host(), slug=slug, name=slug.title(), plugins={p: {} for p in plugins})


def make_booking_type(
    session,
    tenant: Tenant,
    slug: str = "entry",
    *,
    vertical: str = "exhibition",
    name: Any = VISIT,
    rules: list[dict] | None = None,
    form: dict = NAME_FORM,
    ui: dict = NAME_UI,
    **options: Any,
) -> BookingType:
    """A booking type made through the catalog operation; 09:00-11:00 with 20 places unless ``rules`` say otherwise.

    A vehicle booking type gets the stops of :data:`ROUTE`, which its form's pick-up and drop-off points name.
    """
    booking_type = create_booking_type(
        session,
        plugin_host(),
        form_registry(),
        current_registry(),
        tenant,
        vertical=vertical,
        slug=slug,
        name=name,
        availability_rules=windows(("09:00", "11:00")) if rules is None else rules,
        policies=options.pop("policies", None) or {},
        form=form,
        ui=ui,
        **options,
    )
    if vertical == "vehicle":
        for code, kind, minutes in ROUTE:
            create_stop(session, tenant, slug, code=code, name={"zh-Hans": code, "en": code}, kind=kind, minutes_after_departure=minutes)
    return booking_type


def make_coach(session, tenant: Tenant, code: str = "coach-li") -> Resource:
    return create_resource(session, tenant, kind="coach", code=code, name={"zh-Hans": "李教练", "en": "Coach Li"})


def phone(n: int) -> str:
    """The n-th test mobile number: 138 followed by n in eight digits."""
    return f"138{n:08d}"


def id_number(born: date, serial: int | None = None, area: str = "110105") -> str:
    """A valid GB 11643 resident ID number for someone born on ``born``; without ``serial`` each call gives a new one."""
    body = f"{area}{born:%Y%m%d}{(serial if serial is not None else next(_serial)) % 1000:03d}"
    return body + ric.calc_check_digit(body + "?")  # it reads the first 17 characters of a full-length number
