"""Set-up shared by the booking-operation tests: a museum tenant with timed-entry booking types."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from yuyue.catalog.operations import create_booking_type, create_resource
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.scheduling.rules import current_registry
from yuyue.tenancy.operations import create_tenant

ZONE = ZoneInfo("Asia/Shanghai")
# A Wednesday with no holiday near it; "now" is a week earlier so the default windows are open.
SLOT_DAY = date(2026, 12, 9)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZONE)

SIMPLE_FORM = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "x-field": "text", "minLength": 1},
        "note": {"type": "string", "x-field": "text"},
    },
    "required": ["name"],
}
SIMPLE_UI = {"order": ["name", "note"], "fields": {}}


def at(hour: int, minute: int = 0, day: date = SLOT_DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE)


def windows(*spans: tuple[str, str], capacity: int = 20, **extra) -> list[dict]:
    return [{"type": "fixed_windows", "params": {"windows": [{"start": s, "end": e, "capacity": capacity} for s, e in spans], **extra}}]


def make_tenant(session, slug: str = "museum", plugins: tuple[str, ...] = ("exhibition", "course")):
    return create_tenant(session, plugin_host(), slug=slug, name=slug.title(), plugins={p: {} for p in plugins})


def make_booking_type(session, tenant, slug: str = "entry", *, vertical: str = "exhibition", rules=None, form=SIMPLE_FORM, ui=SIMPLE_UI, **options):
    return create_booking_type(
        session,
        plugin_host(),
        form_registry(),
        current_registry(),
        tenant,
        vertical=vertical,
        slug=slug,
        name={"zh-Hans": "参观", "en": "Visit"},
        availability_rules=windows(("09:00", "11:00")) if rules is None else rules,
        policies=options.pop("policies", {}),
        form=form,
        ui=ui,
        **options,
    )


def make_coach(session, tenant, code: str = "coach-li"):
    return create_resource(session, tenant, kind="coach", code=code, name={"zh-Hans": "李教练", "en": "Coach Li"})


def phone(n: int) -> str:
    return f"138{n:08d}"


__all__ = ["NOW", "SLOT_DAY", "ZONE", "at", "make_booking_type", "make_coach", "make_tenant", "phone", "timedelta", "windows"]
