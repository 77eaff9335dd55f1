"""The operator console: tenants (create, suspend, reinstate, plan limits, plugins and their settings, staff), installed plugins, API tokens.

Only Flask-AppBuilder's ``Admin`` role reaches these pages (``OperatorView``). Every change goes
through :mod:`yuyue.provisioning.operations`, as the operator API and the CLI do, audited with
the signed-in operator as the actor.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from yuyue.admin.base import OperatorView
from yuyue.admin.schema_form import read_schema_form, render_schema_form
from yuyue.db import db
from yuyue.errors import Conflict, DomainError, NotFound, Refused
from yuyue.plugins import plugin_host
from yuyue.presenting.language import localize
from yuyue.provisioning import operations
from yuyue.tenancy.models import StaffRole, Tenant

__all__ = ["VIEWS"]

_DIGITS = re.compile(r"[0-9]{1,12}")
MAX_PASSWORD = 256
DEFAULT_TIME_ZONE = "Asia/Shanghai"
SETTINGS_PREFIX = "settings"
PLAN_LABELS = {
    "max_booking_types": _l("Booking types"),
    "max_resources": _l("Resources"),
    "max_staff": _l("Staff members"),
}
OPERATOR_MENU = (
    ("OperatorTenantsView.index", _l("Tenants")),
    ("OperatorPluginsView.index", _l("Installed plugins")),
    ("OperatorTokensView.index", _l("API tokens")),
)


def actor() -> str:
    return operations.console_actor(current_user.id)


def problems_at(error: DomainError, prefix: str = "") -> dict[str, list[str]]:
    """Messages by the first segment of each pointer under ``prefix`` (``form`` for the form as a whole)."""
    found: dict[str, list[str]] = defaultdict(list)
    for problem in error.errors:
        rest = problem.pointer.removeprefix(prefix) if problem.pointer.startswith(prefix) else problem.pointer
        found[rest.strip("/").split("/")[0] or "form"].append(problem.message)
    if not error.errors:
        found["form"].append(error.message)
    return dict(found)


def _status_of(error: DomainError) -> int:
    return 409 if isinstance(error, Conflict | Refused) else 422


def _tenant(slug: str) -> Tenant:
    try:
        return operations.get_tenant(db.session, slug)
    except NotFound:
        abort(404)


class ConsoleView(OperatorView):
    """What the console's pages share: their menu."""

    def render(self, template: str, **context: Any) -> str:
        return super().render(template, operator_menu=OPERATOR_MENU, **context)


class OperatorHomeView(ConsoleView):
    """``/admin/operator/``: the console starts at its tenants."""

    area = ""
    default_view = "home"

    @expose("/")
    def home(self) -> Any:
        return redirect(url_for("OperatorTenantsView.index"))


class OperatorTenantsView(ConsoleView):
    """Tenants: the list and a new one; each tenant's status, plan, plugins and staff."""

    area = "tenants"
    default_view = "index"

    @expose("/", methods=["GET", "POST"])
    def index(self) -> Any:
        form = {"slug": "", "name": "", "time_zone": DEFAULT_TIME_ZONE, "locales": list(operations.SUPPORTED_LOCALES)}
        if request.method == "GET":
            return self._list(form, {})
        form = {
            "slug": request.form.get("slug", "").strip(),
            "name": request.form.get("name", "").strip(),
            "time_zone": request.form.get("time_zone", "").strip(),
            "locales": request.form.getlist("locales"),
        }
        if not form["locales"]:
            return self._list(form, {"locales": [_("Choose at least one language.")]}), 422
        try:
            tenant = operations.create_tenant(
                db.session, plugin_host(), slug=form["slug"], name=form["name"], time_zone=form["time_zone"], locales=form["locales"], actor=actor()
            )
        except DomainError as error:
            return self._list(form, problems_at(error)), _status_of(error)
        flash(_("Tenant %(slug)s created.", slug=tenant.slug), "success")
        return redirect(url_for(".show", tenant=tenant.slug))

    def _list(self, form: dict[str, Any], errors: dict[str, list[str]]) -> str:
        tenants = operations.list_tenants(db.session)
        return self.render("admin/operator/tenants.html", tenants=tenants, form=form, errors=errors, supported_locales=operations.SUPPORTED_LOCALES)

    @expose("/<slug:tenant>/")
    def show(self, tenant: str) -> Any:
        return self._detail(_tenant(tenant))

    def _detail(self, tenant: Tenant, **forms: Any) -> str:
        host = plugin_host()
        enabled = operations.enabled_plugins(db.session, tenant)
        limits = tenant.plan_limits or {}
        return self.render(
            "admin/operator/tenant.html",
            tenant=tenant,
            plugins=host.info(),
            enabled=enabled,
            members=operations.list_staff(db.session, tenant.slug),
            roles=list(StaffRole),
            plan_labels=PLAN_LABELS,
            plan_form=forms.get("plan_form") or {key: "" if limits.get(key) is None else str(limits[key]) for key in operations.PLAN_LIMITS},
            plan_errors=forms.get("plan_errors", {}),
            staff_form=forms.get("staff_form") or {"username": "", "role": StaffRole.staff.value, "email": ""},
            staff_errors=forms.get("staff_errors", {}),
        )

    @expose("/<slug:tenant>/suspend", methods=["POST"])
    def suspend(self, tenant: str) -> Any:
        row = _tenant(tenant)
        operations.suspend_tenant(db.session, row.slug, actor=actor())
        flash(_("Tenant %(slug)s is suspended.", slug=row.slug), "success")
        return redirect(url_for(".show", tenant=row.slug))

    @expose("/<slug:tenant>/reinstate", methods=["POST"])
    def reinstate(self, tenant: str) -> Any:
        row = _tenant(tenant)
        operations.reinstate_tenant(db.session, row.slug, actor=actor())
        flash(_("Tenant %(slug)s is reinstated.", slug=row.slug), "success")
        return redirect(url_for(".show", tenant=row.slug))

    @expose("/<slug:tenant>/plan", methods=["POST"])
    def plan(self, tenant: str) -> Any:
        row = _tenant(tenant)
        typed = {key: request.form.get(key, "").strip() for key in operations.PLAN_LIMITS}
        # A number is sent as one; anything else is sent as typed, for the plan's schema to refuse next to its field.
        limits = {key: int(value) if _DIGITS.fullmatch(value) else value for key, value in typed.items() if value}
        try:
            operations.set_plan_limits(db.session, row.slug, limits, actor=actor())
        except DomainError as error:
            return self._detail(row, plan_form=typed, plan_errors=problems_at(error, "/limits")), _status_of(error)
        flash(_("The plan of %(slug)s is saved.", slug=row.slug), "success")
        return redirect(url_for(".show", tenant=row.slug))

    @expose("/<slug:tenant>/staff", methods=["POST"])
    def add_staff(self, tenant: str) -> Any:
        row = _tenant(tenant)
        typed = {key: request.form.get(key, "").strip() for key in ("username", "role", "email")}
        password = request.form.get("password", "")
        errors: dict[str, list[str]] = {}
        if not typed["username"] or len(typed["username"]) > operations.MAX_USERNAME:
            errors["username"] = [_("A user name of 1 to %(most)s characters.", most=operations.MAX_USERNAME)]
        if len(typed["email"]) > operations.MAX_EMAIL or len(password) > MAX_PASSWORD:
            errors["email"] = [_("An email of at most %(most)s characters.", most=operations.MAX_EMAIL)]
        if typed["role"] not in StaffRole.__members__:
            errors["role"] = [_("Choose a role.")]
        if errors:
            return self._detail(row, staff_form=typed, staff_errors=errors), 422
        try:
            operations.add_staff_member(
                db.session,
                current_app.appbuilder.sm,
                tenant_slug=row.slug,
                username=typed["username"],
                role=StaffRole(typed["role"]),
                email=typed["email"] or None,
                password=password or None,
                actor=actor(),
            )
        except DomainError as error:
            errors = problems_at(error)
            if isinstance(error, NotFound):
                errors = {"username": [error.message]}
            return self._detail(row, staff_form=typed, staff_errors=errors), _status_of(error)
        flash(_("%(username)s is %(role)s at %(slug)s.", username=typed["username"], role=typed["role"], slug=row.slug), "success")
        return redirect(url_for(".show", tenant=row.slug))

    @expose("/<slug:tenant>/plugins/<name:plugin>", methods=["GET", "POST"])
    def plugin_settings(self, tenant: str, plugin: str) -> Any:
        row = _tenant(tenant)
        host = plugin_host()
        if not host.is_installed(plugin):
            abort(404)
        schema = host.settings_schema(plugin)
        enabled = operations.enabled_plugins(db.session, row)
        if request.method == "GET":
            return self._plugin_page(row, plugin, schema, plugin in enabled, enabled.get(plugin, {}), {})
        wanted = request.form.get("enabled") == "on"
        value, problems = read_schema_form(schema, request.form, prefix=SETTINGS_PREFIX)
        if wanted and problems:
            return self._plugin_page(row, plugin, schema, wanted, value, problems), 422
        plugins = {name: config for name, config in enabled.items() if name != plugin}
        if wanted:
            plugins[plugin] = value
        try:
            operations.set_tenant_plugins(db.session, host, row.slug, plugins, actor=actor())
        except DomainError as error:
            prefix = f"/plugins/{plugin}"
            errors = {p.pointer.removeprefix(prefix): p.message for p in error.errors if p.pointer.startswith(prefix)} or {"": error.message}
            return self._plugin_page(row, plugin, schema, wanted, value, errors), _status_of(error)
        flash(_("The %(plugin)s plugin of %(slug)s is saved.", plugin=plugin, slug=row.slug), "success")
        return redirect(url_for(".show", tenant=row.slug))

    def _plugin_page(self, tenant: Tenant, plugin: str, schema: dict, enabled: bool, value: Any, errors: dict[str, str]) -> str:
        return self.render(
            "admin/operator/plugin.html",
            tenant=tenant,
            plugin=plugin,
            enabled=enabled,
            settings_form=render_schema_form(schema, value, prefix=SETTINGS_PREFIX, errors=errors),
        )


class OperatorPluginsView(ConsoleView):
    """The installed plugins, as ``yuyue plugins`` prints them: name, version, hooks, verticals."""

    area = "plugins"
    default_view = "index"

    @expose("/")
    def index(self) -> Any:
        host = plugin_host()
        verticals = {key: localize(vertical.name, "zh-Hans") for key, vertical in host.verticals.items()}
        return self.render("admin/operator/plugins.html", plugins=host.info(), verticals=verticals)


class OperatorTokensView(ConsoleView):
    """API tokens, live and revoked (secrets are not stored, so never shown); revoking one asks first."""

    area = "tokens"
    default_view = "index"

    @expose("/")
    def index(self) -> Any:
        slugs = {tenant.id: tenant.slug for tenant in operations.list_tenants(db.session)}
        return self.render("admin/operator/tokens.html", tokens=operations.list_tokens(db.session), slugs=slugs)

    @expose("/<row_id:token_id>/revoke", methods=["GET", "POST"])
    def revoke(self, token_id: int) -> Any:
        try:
            token = operations.get_token(db.session, token_id)
        except NotFound:
            abort(404)
        if request.method == "GET":
            tenant = db.session.get(Tenant, token.tenant_id) if token.tenant_id else None
            return self.render("admin/operator/token_revoke.html", token=token, tenant=tenant)
        operations.revoke_token(db.session, token.id, actor=actor())
        flash(_("Token %(id)s is revoked.", id=token.id), "success")
        return redirect(url_for(".index"))


VIEWS: tuple[type, ...] = (OperatorHomeView, OperatorTenantsView, OperatorPluginsView, OperatorTokensView)
