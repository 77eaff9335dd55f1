"""The application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_appbuilder import AppBuilder
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager

from yuyue import json_input
from yuyue.admin.views import CheckedResetPasswordView
from yuyue.api.limit_storage import node_storage_uri
from yuyue.api.limits import init_limits, rate_limit_settings
from yuyue.config import settings_from_env
from yuyue.customers import login_settings
from yuyue.customers.login_providers import build_login_providers
from yuyue.db import configure_sqlite, db
from yuyue.events.channel_settings import add_settings_source
from yuyue.events.channels import build_channels
from yuyue.forms.registry import build_form_registry
from yuyue.observability.logs import init_request_ids, log_settings
from yuyue.observability.metrics import init_request_metrics
from yuyue.plugins import make_plugin_host
from yuyue.presenting.catalogs import compile_catalogs
from yuyue.scheduling.registry import build_slot_rules
from yuyue.sealing import init_sealing

# Flask-AppBuilder never creates tables or permissions at start-up: Alembic owns
# the schema and `yuyue init` syncs permissions, so gunicorn workers never race.
FAB_SETTINGS: dict[str, Any] = {
    "APP_NAME": "yuyue",
    "FAB_CREATE_DB": False,
    "FAB_UPDATE_PERMS": False,
    "FAB_ADD_SECURITY_API": False,
    # The admin renders its menu itself; the JSON menu is for React front ends.
    "FAB_ADD_MENU_API": False,
    "AUTH_ROLE_ADMIN": "Admin",
    # After login Flask-AppBuilder sends a user to its index: yuyue's admin at /admin/.
    "FAB_INDEX_VIEW": "yuyue.admin.home.RootView",
    "AUTH_ROLE_PUBLIC": "Public",
    "LANGUAGES": {
        "zh_Hans": {"flag": "cn", "name": "简体中文"},
        "zh_Hant": {"flag": "hk", "name": "繁體中文"},
        "en": {"flag": "gb", "name": "English"},
    },
    "BABEL_DEFAULT_LOCALE": "zh_Hans",
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    # Request bodies beyond this answer 413 (a booking form is a few kilobytes).
    "MAX_CONTENT_LENGTH": 1024 * 1024,
}


class AdminSecurityManager(SecurityManager):
    """Flask-AppBuilder's, without its JWT login API under /api/v1/security.

    Staff and operators call the API with yuyue's tokens; the admin signs in on
    its own pages. The FAB login API would be a second, undocumented and
    unthrottled password endpoint inside /api/v1.
    """

    security_api = type("NoSecurityApi", (SecurityApi,), {"include_route_methods": set()})
    resetpasswordview = CheckedResetPasswordView


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading through :func:`yuyue.json_input.loads`: whoever calls ``request.get_json()`` gets its depth limit.

    The API reads bodies through ``yuyue.api.body``; this keeps any other reader (a library, an admin view) from
    recursing on a hostile body all the same.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json_input.loads(s)


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _mini_program(settings: Mapping[str, Any]) -> dict[str, Any]:
    return {key: settings[key] for key in ("appid", "secret") if settings.get(key)}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a yuyue application; ``config`` overrides settings read from the environment."""
    settings = {**FAB_SETTINGS, **settings_from_env(), **rate_limit_settings(), **(config or {})}
    app = Flask("yuyue", instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    app.json = BoundedJSONProvider(app)
    # Before Flask-AppBuilder, whose own limiter reads the same key: without Redis, every worker of the node counts in one file.
    settings["RATELIMIT_STORAGE_URI"] = settings.get("RATELIMIT_STORAGE_URI") or node_storage_uri(settings["INSTANCE_PATH"])
    app.config.update(settings)
    # The log channel writes messages to the console only where a person reads it (text), never into JSON logs.
    app.config.setdefault("LOG_FORMAT", log_settings().format)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    init_sealing(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        engine_options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        engine_options.setdefault("connect_args", {"timeout": app.config["SQLITE_BUSY_TIMEOUT_SECONDS"]})

    host = make_plugin_host(app.config["PLUGINS"])
    app.extensions["yuyue.plugins"] = host
    app.extensions["yuyue.forms"] = build_form_registry(host)
    app.extensions["yuyue.slot_rules"] = build_slot_rules(host)
    app.extensions["yuyue.channels"] = build_channels(host, required=(app.config["NOTIFICATION_CHANNEL"],))
    app.extensions["yuyue.login_providers"] = build_login_providers(host, app.config)
    # Subscribe messages come from the mini-program customers log in with, unless the channel names its own (docs/channels.md).
    add_settings_source(
        app, "wechat", lambda session: _mini_program(login_settings.effective_login_settings(session, app.extensions["yuyue.login_providers"], "wechat"))
    )

    # Before Flask-AppBuilder's Babel manager, which adds its own catalogs ahead of these.
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compile_catalogs(Path(app.config["INSTANCE_PATH"]) / "translations", host.packages))
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
        AppBuilder(security_manager_class=AdminSecurityManager).init_app(app, db.session)

    from yuyue.admin import init_admin
    from yuyue.admin.base import AdminView
    from yuyue.admin.input_guard import init_input_guard
    from yuyue.api import init_api
    from yuyue.api.core import add_error_page
    from yuyue.site import init_site
    from yuyue.site.base import http_error_page

    init_request_metrics(app)
    init_input_guard(app)
    init_api(app)
    # After the API: the admin's and the site's routes use its URL converters (<slug:…>, <row_id:…>).
    init_admin(app)
    init_site(app)
    # A URL no route matches belongs to no blueprint: the admin's error page under /admin, the site's everywhere else but /api/.
    add_error_page(app, "/", http_error_page)
    add_error_page(app, "/admin", AdminView.error_page)
    # Last: the rate limits wrap every marked view of every blueprint.
    init_limits(app)
    host.hook.startup(app=app)
    # Outermost, after anything else that wraps the WSGI app: every response carries X-Request-ID.
    init_request_ids(app)
    return app
