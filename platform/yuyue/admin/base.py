"""The one base of every merchant and operator admin page: who is signed in, for which tenant, with which role.

A merchant page lives at ``/admin/t/<tenant>/<area>/…``. Before any view runs, the base
checks the Flask-AppBuilder session, finds the user's membership at that tenant (a user of
another tenant gets 404, as if the tenant did not exist), checks the view's least role, checks
the CSRF token of every write, and runs the request in the tenant's scope, so every query a
view or an operation makes is filtered to that tenant by the session (``yuyue.db``): lists,
detail pages, pickers and filters alike. Operator pages live at ``/admin/operator/…`` and need
Flask-AppBuilder's ``Admin`` role.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import wraps
from typing import Any, ClassVar, TypeVar

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_appbuilder import BaseView
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions
from wtforms import ValidationError

from yuyue.bookings.placement import Actor
from yuyue.db import all_tenants, db, tenant_scope
from yuyue.errors import DomainError
from yuyue.observability.logs import current_request_id
from yuyue.tenancy.models import ROLE_RANK, StaffMembership, StaffRole, Tenant, TenantStatus

__all__ = [
    "OPERATOR_ROLE",
    "AdminView",
    "NavEntry",
    "OperatorView",
    "StaffContext",
    "TenantAdminView",
    "current_staff",
    "is_operator",
    "login_redirect",
    "memberships_of",
    "requires",
]

log = logging.getLogger(__name__)

OPERATOR_ROLE = "Admin"
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class StaffContext:
    """The signed-in user at the tenant of the page: ``g.staff``."""

    user: Any
    tenant: Tenant
    role: StaffRole
    # Every tenant this user works for, with the role there: the tenant switcher.
    tenants: tuple[tuple[Tenant, StaffRole], ...]

    def allows(self, role: StaffRole) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def actor(self) -> Actor:
        """Who the audit log records: ``staff:<user id>``, as for a staff token of the same user."""
        return Actor("staff", self.user.id)


@dataclass(frozen=True)
class NavEntry:
    """A line of the admin's side menu: the view's default page, shown to ``min_role`` and above."""

    label: Any  # a lazy_gettext string
    endpoint: str
    min_role: StaffRole
    order: int
    icon: str


def current_staff() -> StaffContext:
    return g.staff


def memberships_of(user_id: int) -> tuple[tuple[Tenant, StaffRole], ...]:
    """Every active or suspended tenant where ``user_id`` has a role, by tenant name."""
    with all_tenants():
        rows = db.session.execute(
            select(Tenant, StaffMembership.role)
            .join(StaffMembership, StaffMembership.tenant_id == Tenant.id)
            .where(StaffMembership.user_id == user_id)
            .order_by(Tenant.name)
        ).all()
    return tuple((tenant, role) for tenant, role in rows)


def is_operator(user: Any) -> bool:
    return bool(user.is_authenticated) and any(role.name == OPERATOR_ROLE for role in user.roles)


def requires(role: StaffRole) -> Callable[[View], View]:
    """Only ``role`` and above may call this page of a :class:`TenantAdminView`; others get 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_staff().allows(role):
                abort(403)
            return view(*args, **kwargs)

        wrapper.yuyue_min_role = role  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def login_redirect() -> Any:
    return redirect(url_for(current_app.appbuilder.sm.auth_view.endpoint + ".login", next=request.full_path.rstrip("?")))


def _check_csrf() -> None:
    """Every admin write carries the session's CSRF token (form field ``csrf_token`` or header ``X-CSRFToken``)."""
    if request.method not in _WRITES or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken", "")
    try:
        validate_csrf(token)
    except ValidationError:  # a missing, expired or foreign token
        abort(400, _("the form is out of date: reload the page and send it again"))


class AdminView(BaseView):
    """What merchant and operator pages share: their blueprint's checks and the admin layout."""

    # A side-menu line for the view's ``default_view`` (None: not in the menu).
    nav_label: ClassVar[Any] = None
    nav_order: ClassVar[int] = 100
    nav_icon: ClassVar[str] = ""
    min_role: ClassVar[StaffRole] = StaffRole.staff

    def create_blueprint(self, appbuilder: Any, endpoint: str | None = None, static_folder: str | None = None) -> Blueprint:
        blueprint = super().create_blueprint(appbuilder, endpoint, static_folder)
        blueprint.url_value_preprocessor(self._take_url_values)
        blueprint.before_request(self._enter)
        blueprint.teardown_request(self._leave)
        blueprint.register_error_handler(HTTPException, self.error_page)
        blueprint.register_error_handler(DomainError, self._domain_error_page)
        blueprint.register_error_handler(Exception, self._unexpected_error_page)
        return blueprint

    @staticmethod
    def error_page(error: HTTPException) -> tuple[str, int]:
        """Refusals inside the admin as admin pages (the menu stays, the reason is said), with the request's id as the reference an operator finds in the logs."""
        return render_template("admin/error.html", error=error, request_id=current_request_id()), error.code or 500

    @classmethod
    def _domain_error_page(cls, error: DomainError) -> tuple[str, int]:
        """A refusal no view caught: the admin's page for its status, saying why."""
        return cls.error_page(default_exceptions[error.http_status](description=str(error.message)))

    @classmethod
    def _unexpected_error_page(cls, error: Exception) -> tuple[str, int]:
        """A bug or an outage: logged with its traceback (the record carries the id the page shows), then the admin's error page.

        The session is rolled back first: a failed statement leaves it unusable (PostgreSQL), and the layout reads the tenant.
        """
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return cls.error_page(InternalServerError())

    def _take_url_values(self, endpoint: str | None, values: dict[str, Any] | None) -> None:
        return None

    def _enter(self) -> Any:
        raise NotImplementedError

    @staticmethod
    def _leave(error: BaseException | None) -> None:
        scope: ExitStack | None = g.pop("admin_scope", None)
        if scope is not None:
            scope.close()

    def render(self, template: str, **context: Any) -> str:
        """Render ``template`` (which extends ``admin/layout.html``) with the menu and the signed-in user."""
        return render_template(template, **context)


class TenantAdminView(AdminView):
    """A merchant admin page at ``/admin/t/<tenant>/<area>``; ``area`` is set by each subclass ('' for the dashboard)."""

    area: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.route_base = f"/admin/t/<slug:tenant_slug>/{cls.area}".rstrip("/")

    def _take_url_values(self, endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.admin_tenant_slug = (values or {}).pop("tenant_slug", "")

    def _enter(self) -> Any:
        if not current_user.is_authenticated:
            return login_redirect()
        tenants = memberships_of(current_user.id)
        here = next(((tenant, role) for tenant, role in tenants if tenant.slug == g.admin_tenant_slug), None)
        if here is None:
            abort(404)
        tenant, role = here
        g.staff = StaffContext(user=current_user, tenant=tenant, role=role, tenants=tenants)
        if tenant.status is not TenantStatus.active:
            abort(403, _("this merchant is suspended"))
        if not g.staff.allows(self.min_role):
            abort(403)
        _check_csrf()
        g.admin_scope = ExitStack()
        g.admin_scope.enter_context(tenant_scope(tenant.id))
        return None


class OperatorView(AdminView):
    """An operator console page at ``/admin/operator/<area>``: only Flask-AppBuilder's ``Admin`` role."""

    area: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.route_base = f"/admin/operator/{cls.area}".rstrip("/")

    def _enter(self) -> Any:
        if not current_user.is_authenticated:
            return login_redirect()
        if not is_operator(current_user):
            abort(403)
        g.operator = current_user
        g.staff = None
        _check_csrf()
        g.admin_scope = ExitStack()
        g.admin_scope.enter_context(all_tenants())
        return None


def tenant_url_defaults(endpoint: str, values: dict[str, Any]) -> None:
    """``url_for`` of a merchant page fills in the tenant of the current page."""
    staff = g.get("staff")
    if staff is not None and "tenant_slug" not in values and current_app.url_map.is_endpoint_expecting(endpoint, "tenant_slug"):
        values["tenant_slug"] = staff.tenant.slug


def nav_entries(views: list[Any]) -> list[NavEntry]:
    """The side menu from the registered views' ``nav_label``s, in ``nav_order``."""
    entries = [
        NavEntry(view.nav_label, f"{view.endpoint}.{view.default_view}", view.min_role, view.nav_order, view.nav_icon)
        for view in views
        if isinstance(view, TenantAdminView) and view.nav_label is not None
    ]
    return sorted(entries, key=lambda entry: entry.order)
