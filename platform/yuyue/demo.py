"""The demo tenant: every installed vertical enabled with a booking type and its resources,
an admin and an operator token to try the API."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app
from sqlalchemy.orm import Session

from yuyue.catalog.operations import create_booking_type, create_resource
from yuyue.credits.operations import create_package
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
        _seed_class_packages(session, host, tenant)
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
