"""The demo tenant: every installed vertical enabled with a booking type and its resources,
an admin and an operator token to try the API."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app
from sqlalchemy.orm import Session

from yuyue.catalog.operations import create_booking_type, create_resource
from yuyue.catalog.stops import create_stop
from yuyue.declarations import Vertical
from yuyue.errors import NotFound
from yuyue.forms.registry import form_registry
from yuyue.plugins import PluginHost
from yuyue.provisioning import operations
from yuyue.scheduling.registry import slot_rules
from yuyue.tenancy.models import Tenant, TokenKind

DEMO_SLUG = "demo"
DEMO_TOKEN_NAME = "demo"
# Settings that show a vertical's behaviour in the demo; every other plugin keeps its defaults.
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
        _seed_route_and_session_minimum(session, host, tenant)
        yield f"created demo tenant '{DEMO_SLUG}' with a booking type for each vertical: {', '.join(sorted(host.verticals))}"
    security = current_app.appbuilder.sm
    if security.find_user(username="admin") is None:
        security.add_user("admin", "Demo", "Admin", "admin@demo.invalid", security.find_role("Admin"), password="admin")
        yield "admin login: admin / admin  (/login/)"
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
