"""The merchant and operator admin at ``/admin/`` (Flask-AppBuilder's session login, yuyue's own pages).

Each area of pages is a module with a ``VIEWS`` tuple; :func:`init_admin` registers them all.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, g
from flask_wtf.csrf import generate_csrf

from yuyue.admin import appearance, builder, checkin, customers, dashboard, desk, feedback, home, notifications, operator, privacy, schedules, webhooks
from yuyue.admin.base import StaffRole, nav_entries, tenant_url_defaults
from yuyue.admin.headers import init_security_headers
from yuyue.presenting.catalogs import init_languages

__all__ = ["init_admin"]

AREAS = (home, dashboard, builder, desk, checkin, schedules, appearance, webhooks, notifications, operator, customers, privacy, feedback)

assets = Blueprint("admin_assets", __name__, template_folder="templates", static_folder="static", static_url_path="/admin/static")


def _layout_context() -> dict[str, Any]:
    staff = g.get("staff")
    views = current_app.extensions["yuyue.admin_views"]
    menu = [entry for entry in nav_entries(views) if staff is not None and staff.allows(entry.min_role)]
    return {
        "appbuilder": current_app.appbuilder,
        "admin_menu": menu,
        "staff": staff,
        "csrf_token": generate_csrf,
        "StaffRole": StaffRole,
        "languages": current_app.config["LANGUAGES"],
    }


def init_admin(app: Flask) -> None:
    """Register every admin page (after the API, whose URL converters the admin's routes use)."""
    appbuilder = app.appbuilder
    app.register_blueprint(assets)
    with app.app_context():
        views = [appbuilder.add_view_no_menu(view_class()) for area in AREAS for view_class in area.VIEWS]
    app.extensions["yuyue.admin_views"] = views
    app.url_defaults(tenant_url_defaults)
    app.context_processor(_layout_context)
    init_languages(app)
    init_security_headers(app)
