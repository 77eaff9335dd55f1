"""The demo tenant: every installed vertical enabled, an admin and an operator token to try the API."""

from __future__ import annotations

from collections.abc import Iterator

from flask import current_app
from sqlalchemy.orm import Session

from yuyue.errors import NotFound
from yuyue.plugins import PluginHost
from yuyue.tenancy import operations
from yuyue.tenancy.models import TokenKind

DEMO_SLUG = "demo"


def seed_demo(session: Session, host: PluginHost) -> Iterator[str]:
    """Create the demo tenant if it is missing; yields what a person needs to log in."""
    verticals = {vertical.plugin: {} for vertical in host.verticals.values()}
    try:
        operations.get_tenant(session, DEMO_SLUG)
        yield f"demo tenant '{DEMO_SLUG}' already exists"
    except NotFound:
        operations.create_tenant(session, host, slug=DEMO_SLUG, name="演示商户 Demo Merchant", plugins=verticals)
        yield f"created demo tenant '{DEMO_SLUG}' with verticals: {', '.join(sorted(host.verticals))}"
    security = current_app.appbuilder.sm
    if security.find_user(username="admin") is None:
        security.add_user("admin", "Demo", "Admin", "admin@demo.invalid", security.find_role("Admin"), password="admin")
        yield "admin login: admin / admin  (/login/)"
    _, secret = operations.create_token(session, kind=TokenKind.operator, name="demo")
    yield f"operator API token: {secret}"
