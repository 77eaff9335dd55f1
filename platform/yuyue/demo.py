"""The demo tenant: every installed vertical enabled with a booking type and its resources,
an admin and an operator token to try the API."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app
from sqlalchemy.orm import Session

from yuyue.catalog.operations import create_booking_type, create_resource, get_booking_type, update_booking_type
from yuyue.catalog.stops import create_stop
from yuyue.credits.operations import create_package
from yuyue.declarations import Vertical
from yuyue.errors import NotFound
from yuyue.forms.registry import form_registry
from yuyue.plugins import PluginHost
from yuyue.provisioning import operations
from yuyue.scheduling.registry import slot_rules
from yuyue.tenancy.models import StaffRole, Tenant, TokenKind

DEMO_SLUG = "demo"
DEMO_TOKEN_NAME = "demo"
# Demo staff below the owner, each with their username as password: what a manager and the front desk see.
DEMO_STAFF = {"manager": StaffRole.manager, "desk": StaffRole.staff}
# Verticals that take groups on a channel of their own; their demo booking types hold a group of the largest size.
GROUP_VERTICALS = ("exhibition", "scenic")
# Settings that show a vertical's behaviour in the demo; every other plugin keeps its defaults.
# Places a day on top of the slots' own: the scenic area's nine hourly windows of 500 sell 3,000 a day, groups at most 600 of them;
# the exhibition's four windows of 300 sell 1,000 a day. A holiday throttle scales them with the slots.
DEMO_DAILY_CAPS = {
    "scenic": {"capacity": 3000, "by_channel": {"group": 600}},
    "exhibition": {"capacity": 1000},
}
DEMO_SETTINGS = {
    "activity": {"terms": "请于活动开始前 15 分钟签到，儿童须由成人陪同。Please arrive 15 minutes early; children come with an adult."},
}


def seed_demo(session: Session, host: PluginHost) -> Iterator[str]:
    """Create the demo tenant if it is missing; yields what a person needs to log in."""
    verticals = {vertical.plugin: DEMO_SETTINGS.get(vertical.plugin, {}) for vertical in host.verticals.values()}
    try:
        operations.get_tenant(session, DEMO_SLUG)
        yield f"demo tenant '{DEMO_SLUG}' already exists"
    except NotFound:
        tenant = operations.create_tenant(session, host, slug=DEMO_SLUG, name="演示商户 Demo Merchant", plugins=verticals)
        for vertical in sorted(host.verticals.values(), key=lambda v: v.key):
            _seed_vertical(session, host, tenant, vertical)
        _seed_groups(session, host, tenant)
        _seed_ticket_types(session, host, tenant)
        _seed_daily_caps(session, host, tenant)
        _seed_route_and_session_minimum(session, host, tenant)
        _seed_class_packages(session, host, tenant)
        yield f"created demo tenant '{DEMO_SLUG}' with a booking type for each vertical: {', '.join(sorted(host.verticals))}"
    security = current_app.appbuilder.sm
    if security.find_user(username="admin") is None:
        security.add_user("admin", "Demo", "Admin", "admin@demo.invalid", security.find_role("Admin"), password="admin")
        # The operator is also the demo merchant's owner, so one login shows both consoles.
        operations.add_staff_member(session, security, tenant_slug=DEMO_SLUG, username="admin", role=StaffRole.owner)
        for username, role in DEMO_STAFF.items():
            operations.add_staff_member(
                session, security, tenant_slug=DEMO_SLUG, username=username, role=role, email=f"{username}@demo.invalid", password=username
            )
        yield "admin login: admin / admin  (http://<host>/admin/: the demo merchant's owner and the operator console)"
        yield "staff logins: " + ", ".join(f"{username} / {username} ({role.value})" for username, role in DEMO_STAFF.items())
    # A token is shown only once, so each run issues a new one and revokes the ones earlier runs printed.
    earlier = [t for t in operations.list_tokens(session) if t.kind is TokenKind.operator and t.name == DEMO_TOKEN_NAME and t.revoked_at is None]
    for token in earlier:
        operations.revoke_token(session, token.id)
    _, secret = operations.create_token(session, kind=TokenKind.operator, name=DEMO_TOKEN_NAME)
    yield f"operator API token: {secret}" + (" (the one printed before is revoked)" if earlier else "")


def _seed_vertical(session: Session, host: PluginHost, tenant: Tenant, vertical: Vertical) -> None:
    """One booking type from the vertical's defaults, and one resource of each kind it uses, held per slot."""
    for kind in vertical.resource_kinds:
        create_resource(session, tenant, kind=kind["key"], code=f"{vertical.key}-{kind['key']}-1", name=kind["name"])
    create_booking_type(
        session,
        host,
        form_registry(),
        slot_rules(),
        tenant,
        vertical=vertical.key,
        slug=vertical.key.replace("_", "-"),
        name=vertical.name,
        resource_requirements=[{"kind": kind["key"], "count": 1, "per": "slot"} for kind in vertical.resource_kinds],
        max_party_size=10,
    )


# Full price in fen for the timed-entry verticals; children, seniors and students pay half.
DEMO_ADULT_PRICES = {"exhibition": 6000, "scenic": 12000}


def _seed_ticket_types(session: Session, host: PluginHost, tenant: Tenant) -> None:
    """Adult, child (6–17), senior (60+) and student (with a student card) tickets for the exhibition and scenic entries."""
    for slug, adult in DEMO_ADULT_PRICES.items():
        if slug not in host.verticals:
            continue
        half = adult // 2
        ticket_types = [
            {"key": "adult", "name": {"zh-Hans": "成人票", "zh-Hant": "成人票", "en": "Adult"}, "price_amount": adult},
            {"key": "child", "name": {"zh-Hans": "儿童票", "zh-Hant": "兒童票", "en": "Child"}, "price_amount": half, "min_age": 6, "max_age": 17},
            {"key": "senior", "name": {"zh-Hans": "老人票", "zh-Hant": "長者票", "en": "Senior"}, "price_amount": half, "min_age": 60},
            {
                "key": "student",
                "name": {"zh-Hans": "学生票", "zh-Hant": "學生票", "en": "Student"},
                "price_amount": half,
                "proof": {"zh-Hans": "学生证", "zh-Hant": "學生證", "en": "Student card"},
            },
        ]
        update_booking_type(session, host, form_registry(), slot_rules(), tenant, slug, price_amount=adult, ticket_types=ticket_types)


def _seed_daily_caps(session: Session, host: PluginHost, tenant: Tenant) -> None:
    """A daily cap on the demo's timed-entry types, so the day sells out before every hour does."""
    for slug, params in DEMO_DAILY_CAPS.items():
        try:
            booking_type = get_booking_type(session, tenant, slug)
        except NotFound:
            continue  # the vertical's plugin is not installed
        rules = [*booking_type.availability_rules, {"type": "daily_cap", "params": params}]
        update_booking_type(session, host, form_registry(), slot_rules(), tenant, slug, availability_rules=rules)


def _seed_groups(session: Session, host: PluginHost, tenant: Tenant) -> None:
    """Groups at the exhibition and the scenic area: the verticals' default slots already split places between
    individuals and groups (散客/团队); a booking of their demo types may hold a group as large as the settings allow."""
    for key in GROUP_VERTICALS:
        vertical = host.verticals.get(key)
        if vertical is not None:
            largest = vertical.settings_schema["properties"]["group_max_size"]["default"]
            update_booking_type(session, host, form_registry(), slot_rules(), tenant, key.replace("_", "-"), max_party_size=largest)


# The demo shuttle's route: code, name, kind, minutes after departure.
DEMO_STOPS = (
    ("civic_centre", {"zh-Hans": "市民中心", "zh-Hant": "市民中心", "en": "Civic Centre"}, "pickup", 0),
    ("science_park", {"zh-Hans": "科技园", "zh-Hant": "科技園", "en": "Science Park"}, "both", 15),
    ("airport_t3", {"zh-Hans": "机场 T3 航站楼", "zh-Hant": "機場 T3 航廈", "en": "Airport Terminal 3"}, "dropoff", 50),
)
# An event session goes ahead with at least 5 sign-ups, decided a day before it starts.
DEMO_SESSION_MINIMUM = {"min_participants": 5, "decision_hours_before": 24}


def _seed_route_and_session_minimum(session: Session, host: PluginHost, tenant: Tenant) -> None:
    """The shuttle's stops with their times, and a minimum number of participants for event sessions."""
    if "vehicle" in host.verticals:
        for code, name, kind, minutes in DEMO_STOPS:
            create_stop(session, tenant, "vehicle", code=code, name=name, kind=kind, minutes_after_departure=minutes)
    if "activity" in host.verticals:
        plugins = operations.enabled_plugins(session, tenant)
        plugins[host.verticals["activity"].plugin] = {**plugins[host.verticals["activity"].plugin], **DEMO_SESSION_MINIMUM}
        operations.set_tenant_plugins(session, host, tenant.slug, plugins)


def _seed_class_packages(session: Session, host: PluginHost, tenant: Tenant) -> None:
    """Classes paid with class packages: a 10-class pass sold at the front desk, a free trial class customers take
    themselves, ``pay_with_credits`` on for the course vertical, and a weekly yoga class taught by its own coach."""
    if "course" not in host.verticals:
        return
    plugins = operations.enabled_plugins(session, tenant)
    course = host.verticals["course"].plugin
    operations.set_tenant_plugins(session, host, tenant.slug, {**plugins, course: {**plugins.get(course, {}), "pay_with_credits": True}})
    create_package(
        session,
        tenant,
        code="ten-classes",
        name={"zh-Hans": "10次课卡", "zh-Hant": "10次課卡", "en": "10-class pass"},
        credits=10,
        price_amount=80000,
        valid_days=90,
        actor="system",
    )
    create_package(
        session,
        tenant,
        code="trial-class",
        name={"zh-Hans": "体验课", "zh-Hant": "體驗課", "en": "Trial class"},
        credits=1,
        valid_days=14,
        actor="system",
    )
    coach = create_resource(
        session,
        tenant,
        kind="coach",
        code="coach-wang",
        name={"zh-Hans": "王教练", "zh-Hant": "王教練", "en": "Coach Wang"},
        schedule={"wed": [{"start": "18:00", "end": "21:00"}], "sat": [{"start": "09:00", "end": "12:00"}]},
    )
    create_booking_type(
        session,
        host,
        form_registry(),
        slot_rules(),
        tenant,
        vertical="course",
        slug="yoga-class",
        name={"zh-Hans": "瑜伽小班课（王教练）", "zh-Hant": "瑜伽小班課（王教練）", "en": "Small-group yoga with Coach Wang"},
        availability_rules=[
            {
                "type": "weekly_hours",
                "params": {
                    "weekdays": {"wed": [{"start": "19:00", "end": "20:00"}], "sat": [{"start": "10:00", "end": "11:00"}]},
                    "slot_minutes": 60,
                    "capacity": 12,
                },
            }
        ],
        resource_requirements=[{"kind": "coach", "count": 1, "per": "slot", "resource_ids": [coach.id]}],
    )
