"""Resources with their working hours, and the week's schedule of classes, trips and sessions.

Resources are created and changed through the catalog's operations, as the merchant API does;
the week view reads the availability listing and the resources each slot holds, in the
tenant's time zone, and changes nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from yuyue.admin.base import StaffRole, TenantAdminView, current_staff, requires
from yuyue.bookings.availability import slot_availability
from yuyue.bookings.models import Booking, ResourceAllocation
from yuyue.catalog import operations as catalog
from yuyue.catalog.models import BookingType, BookingTypeStatus, Resource
from yuyue.db import db
from yuyue.errors import Conflict, DomainError, NotFound, Refused
from yuyue.plugins import plugin_host
from yuyue.presenting.language import LOCALES, localize
from yuyue.provisioning.operations import enabled_plugins
from yuyue.scheduling.models import SlotInventory
from yuyue.scheduling.registry import current_registry
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

__all__ = ["VIEWS"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = {
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
    "sat": _l("Saturday"),
    "sun": _l("Sunday"),
}
# Interval rows a weekday may have on the form: more than a working day ever needs, few enough to bound a post.
MAX_INTERVALS = 12
_HOURS_FIELD = re.compile(r"hours-(mon|tue|wed|thu|fri|sat|sun)-([0-9]{1,2})-(start|end)")
_ACTION = re.compile(r"(save|add-(mon|tue|wed|thu|fri|sat|sun)|remove-(mon|tue|wed|thu|fri|sat|sun)-([0-9]{1,2}))")
_ISO_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
# A week view goes this far from today either way.
MAX_WEEKS_AWAY = 520


def _locale() -> str:
    return g.get("admin_locale_tag", "zh-Hans")


def text(value: Any) -> Any:
    """Merchant-entered localized text in the page's language."""
    return localize(value, _locale())


def resource_kinds(tenant: Tenant, resources: list[Resource] = ()) -> dict[str, Any]:
    """Kind key → its name: the kinds the tenant's enabled verticals declare, then any kind its resources already have."""
    enabled = enabled_plugins(db.session, tenant)
    kinds: dict[str, Any] = {}
    for vertical in plugin_host().verticals.values():
        if vertical.plugin in enabled:
            for kind in vertical.resource_kinds:
                kinds.setdefault(kind["key"], kind.get("name") or kind["key"])
    for resource in resources:
        kinds.setdefault(resource.kind, resource.kind)
    return kinds


def field_of(pointer: str) -> str:
    """The form field a problem's JSON pointer is about: ``/schedule/mon/0/end`` → ``hours-mon-0``."""
    parts = pointer.strip("/").split("/")
    if parts[0] == "schedule" and len(parts) >= 3 and parts[1] in WEEKDAYS:
        return f"hours-{parts[1]}-{parts[2]}"
    if parts[0] == "schedule" and len(parts) == 2 and parts[1] in WEEKDAYS:
        return f"hours-{parts[1]}"
    return parts[0] if parts[0] in {"kind", "code", "name", "schedule", "active"} else "form"


def problems_by_field(error: DomainError) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for problem in error.errors:
        found[field_of(problem.pointer)].append(problem.message)
    if not error.errors:
        found["form"].append(error.message)
    return dict(found)


@dataclass
class ResourceForm:
    """What the resource form shows and sends: every typed value, kept as typed for the next round trip."""

    kind: str = ""
    code: str = ""
    name: dict[str, str] = field(default_factory=lambda: dict.fromkeys(LOCALES, ""))
    limited: bool = False
    hours: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {day: [] for day in WEEKDAYS})
    active: bool = True

    @classmethod
    def of(cls, resource: Resource) -> ResourceForm:
        # A name given as one plain string (through the API) is shown, and saved back, as the Chinese one.
        name = resource.name if isinstance(resource.name, dict) else {"zh-Hans": resource.name or ""}
        schedule = resource.schedule
        return cls(
            kind=resource.kind,
            code=resource.code,
            name={locale: str(name.get(locale, "")) for locale in LOCALES},
            limited=schedule is not None,
            hours={day: [{"start": i.get("start", ""), "end": i.get("end", "")} for i in (schedule or {}).get(day, [])] for day in WEEKDAYS},
            active=resource.active,
        )

    @classmethod
    def read(cls, form: MultiDict) -> ResourceForm:
        rows: dict[str, dict[int, dict[str, str]]] = {day: {} for day in WEEKDAYS}
        for key, value in form.items():
            match = _HOURS_FIELD.fullmatch(key)
            if match and int(match.group(2)) < MAX_INTERVALS:
                rows[match.group(1)].setdefault(int(match.group(2)), {"start": "", "end": ""})[match.group(3)] = value.strip()[:5]
        return cls(
            kind=form.get("kind", "").strip(),
            code=form.get("code", "").strip(),
            name={locale: form.get(f"name-{locale}", "").strip() for locale in LOCALES},
            limited=form.get("hours_mode") == "weekly",
            # Rows left empty are dropped, so the positions problems point at are the rows shown.
            hours={day: [row for _, row in sorted(rows[day].items()) if row["start"] or row["end"]] for day in WEEKDAYS},
            active=form.get("active") == "on",
        )

    def name_value(self) -> dict[str, str]:
        return {locale: typed for locale, typed in self.name.items() if typed}

    def schedule_value(self) -> dict[str, list[dict[str, str]]] | None:
        if not self.limited:
            return None
        return {day: rows for day, rows in self.hours.items() if rows}

    def apply(self, action: str) -> None:
        """An add-a-row or remove-a-row button: change the rows shown, save nothing."""
        self.limited = True
        if action.startswith("add-"):
            day = action.removeprefix("add-")
            if len(self.hours[day]) < MAX_INTERVALS:
                self.hours[day].append({"start": "", "end": ""})
        elif action.startswith("remove-"):
            _, day, index = action.split("-")
            if int(index) < len(self.hours[day]):
                del self.hours[day][int(index)]


def _action() -> str:
    action = request.form.get("action", "save")
    if not _ACTION.fullmatch(action):
        abort(400, "unknown form action")
    return action


def _status_of(error: DomainError) -> int:
    return 409 if isinstance(error, Conflict | Refused) else 422


class ResourcesView(TenantAdminView):
    """Coaches, vehicles, rooms and halls: the list for everyone, the forms for managers and owners."""

    area = "resources"
    default_view = "index"
    nav_label = _l("Resources")
    nav_order = 50
    nav_icon = "resources"

    @expose("/")
    def index(self) -> Any:
        tenant = current_staff().tenant
        resources = catalog.list_resources(db.session, tenant)
        return self.render(
            "admin/schedules/resources.html",
            resources=resources,
            kinds=resource_kinds(tenant, resources),
            text=text,
            weekdays=WEEKDAYS,
            weekday_names=WEEKDAY_NAMES,
        )

    @expose("/new", methods=["GET", "POST"])
    @requires(StaffRole.manager)
    def create(self) -> Any:
        tenant = current_staff().tenant
        if request.method == "GET":
            return self._form(ResourceForm(), editing=None)
        form, action = ResourceForm.read(request.form), _action()
        if action != "save":
            form.apply(action)
            return self._form(form, editing=None)
        try:
            resource = catalog.create_resource(db.session, tenant, kind=form.kind, code=form.code, name=form.name_value(), schedule=form.schedule_value())
        except DomainError as error:
            return self._form(form, editing=None, errors=problems_by_field(error)), _status_of(error)
        flash(_("Resource %(code)s added.", code=resource.code), "success")
        return redirect(url_for(".index"))

    @expose("/<name:resource>/", methods=["GET", "POST"])
    @requires(StaffRole.manager)
    def edit(self, resource: str) -> Any:
        tenant = current_staff().tenant
        try:
            row = catalog.get_resource(db.session, tenant, resource)
        except NotFound:
            abort(404)
        if request.method == "GET":
            return self._form(ResourceForm.of(row), editing=row)
        form, action = ResourceForm.read(request.form), _action()
        form.kind, form.code = row.kind, row.code
        if action != "save":
            form.apply(action)
            return self._form(form, editing=row)
        try:
            catalog.update_resource(db.session, tenant, row.code, name=form.name_value(), schedule=form.schedule_value(), active=form.active)
        except DomainError as error:
            return self._form(form, editing=row, errors=problems_by_field(error)), _status_of(error)
        flash(_("Resource %(code)s saved.", code=row.code), "success")
        return redirect(url_for(".index"))

    def _form(self, form: ResourceForm, *, editing: Resource | None, errors: dict[str, list[str]] | None = None) -> str:
        tenant = current_staff().tenant
        return self.render(
            "admin/schedules/resource_form.html",
            form=form,
            editing=editing,
            errors=errors or {},
            kinds=resource_kinds(tenant, [editing] if editing else []),
            locales=LOCALES,
            weekdays=WEEKDAYS,
            weekday_names=WEEKDAY_NAMES,
            text=text,
        )


@dataclass
class WeekSlot:
    """One slot of one booking type in the week, its channels added up."""

    booking_type: BookingType
    starts_at: datetime
    ends_at: datetime
    local_start: datetime
    local_end: datetime
    capacity: int = 0
    taken: int = 0
    bookable: bool = False
    reason: str | None = None
    resources: list[Resource] = field(default_factory=list)
    # True when the resources are the ones the booking type names, not yet held by the slot.
    planned: bool = False


def parse_week(value: str | None, today: date) -> date:
    """The Monday of ISO week ``2026-W50``; this week when not given. A bad or far-off week is a 400."""
    if not value:
        return today - timedelta(days=today.weekday())
    match = _ISO_WEEK.fullmatch(value)
    if match is None:
        abort(400, "the week is written like 2026-W50")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        abort(400, "there is no such week")
    if abs((monday - today).days) > MAX_WEEKS_AWAY * 7:
        abort(400, "that week is too far away")
    return monday


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def held_resources(booking_types: list[BookingType], start: datetime, end: datetime) -> dict[tuple[int, datetime], set[int]]:
    """(booking type id, slot start) → the resources held by the slot or by its bookings."""
    ids = [booking_type.id for booking_type in booking_types]
    by_slot = select(SlotInventory.booking_type_id, SlotInventory.starts_at, ResourceAllocation.resource_id).join(
        ResourceAllocation, ResourceAllocation.inventory_id == SlotInventory.id
    )
    by_booking = select(Booking.booking_type_id, Booking.starts_at, ResourceAllocation.resource_id).join(
        ResourceAllocation, ResourceAllocation.booking_id == Booking.id
    )
    held: dict[tuple[int, datetime], set[int]] = defaultdict(set)
    for query, table in ((by_slot, SlotInventory), (by_booking, Booking)):
        rows = db.session.execute(query.where(table.booking_type_id.in_(ids), table.starts_at >= start, table.starts_at < end).distinct())
        for booking_type_id, starts_at, resource_id in rows:
            held[booking_type_id, starts_at].add(resource_id)
    return held


def planned_resources(booking_type: BookingType) -> set[int]:
    """The resources a booking type's requirements name outright (as many named as it needs)."""
    return {
        resource_id
        for requirement in booking_type.resource_requirements or []
        if requirement.get("resource_ids") and len(requirement["resource_ids"]) <= requirement.get("count", 1)
        for resource_id in requirement["resource_ids"]
    }


def week_slots(tenant: Tenant, booking_types: list[BookingType], monday: date, resource: Resource | None) -> dict[date, list[WeekSlot]]:
    """Local day → the slots of ``booking_types`` that day (holding ``resource``, if given), by start."""
    zone = ZoneInfo(tenant.time_zone)
    sunday = monday + timedelta(days=6)
    now = utcnow()
    slots: dict[tuple[int, datetime], WeekSlot] = {}
    for booking_type in booking_types:
        for listed in slot_availability(db.session, booking_type, zone, monday, sunday, now, registry=current_registry()):
            key = (booking_type.id, listed.starts_at)
            slot = slots.get(key)
            if slot is None:
                slot = slots[key] = WeekSlot(booking_type, listed.starts_at, listed.ends_at, listed.starts_at.astimezone(zone), listed.ends_at.astimezone(zone))
            slot.capacity += listed.capacity
            slot.taken += listed.taken
            slot.bookable = slot.bookable or listed.bookable
            slot.reason = None if slot.bookable else slot.reason or listed.reason
    if slots:
        first, last = min(s.starts_at for s in slots.values()), max(s.starts_at for s in slots.values())
        held = held_resources(booking_types, first, last + timedelta(seconds=1))
    else:
        held = {}
    resources = {row.id: row for row in catalog.list_resources(db.session, tenant)}
    days: dict[date, list[WeekSlot]] = {monday + timedelta(days=n): [] for n in range(7)}
    for key, slot in sorted(slots.items(), key=lambda item: (item[1].starts_at, text(item[1].booking_type.name) or "")):
        ids = held.get(key, set())
        if not ids:
            ids, slot.planned = planned_resources(slot.booking_type), True
        slot.resources = sorted((resources[i] for i in ids if i in resources), key=lambda r: r.code)
        if resource is not None and resource.id not in ids:
            continue
        days[slot.local_start.date()].append(slot)
    return days


def desk_url(tenant: Tenant, booking_type: BookingType, day: date) -> str:
    """The bookings desk's list of a booking type's bookings on a day."""
    return f"/admin/t/{tenant.slug}/bookings/?" + urlencode({"booking_type": booking_type.slug, "day": day.isoformat()})


class ScheduleView(TenantAdminView):
    """The week's classes, trips and sessions by day and time, with places taken and the resources they hold."""

    area = "schedule"
    default_view = "week"
    nav_label = _l("Schedule")
    nav_order = 45
    nav_icon = "calendar"

    @expose("/")
    def week(self) -> Any:
        tenant = current_staff().tenant
        zone = ZoneInfo(tenant.time_zone)
        today = utcnow().astimezone(zone).date()
        monday = parse_week(request.args.get("week"), today)
        all_types = catalog.list_booking_types(db.session, tenant)
        resources = catalog.list_resources(db.session, tenant)
        chosen_type = request.args.get("booking_type") or None
        chosen_resource = request.args.get("resource") or None
        if chosen_type is not None:
            booking_types = [booking_type for booking_type in all_types if booking_type.slug == chosen_type]
            if not booking_types:
                abort(404)
        else:
            booking_types = [booking_type for booking_type in all_types if booking_type.status is BookingTypeStatus.active]
        resource = None
        if chosen_resource is not None:
            resource = next((row for row in resources if row.code == chosen_resource), None)
            if resource is None:
                abort(404)
        days = week_slots(tenant, booking_types, monday, resource)
        filters = {key: value for key, value in (("booking_type", chosen_type), ("resource", chosen_resource)) if value}
        return self.render(
            "admin/schedules/week.html",
            tenant=tenant,
            days=days,
            today=today,
            week=iso_week(monday),
            previous_week=url_for(".week", week=iso_week(monday - timedelta(days=7)), **filters),
            next_week=url_for(".week", week=iso_week(monday + timedelta(days=7)), **filters),
            this_week=url_for(".week", **filters),
            booking_types=all_types,
            resources=resources,
            chosen_type=chosen_type,
            chosen_resource=chosen_resource,
            weekday_names=WEEKDAY_NAMES,
            weekdays=WEEKDAYS,
            desk_url=desk_url,
            text=text,
        )


VIEWS: tuple[type, ...] = (ResourcesView, ScheduleView)
