"""Where a signed-in user lands: ``/`` and ``/admin/`` lead to their merchant, a choice of merchants, or the operator console."""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_babel import gettext as _
from flask_login import current_user

from yuyue.admin.base import AdminView, is_operator, login_redirect, memberships_of

__all__ = ["AdminHomeView", "RootView", "VIEWS"]


class RootView(IndexView):
    """Flask-AppBuilder's index (``/``, where it sends a user after login): the admin."""

    @expose("/")
    def index(self) -> Any:
        return redirect("/admin/")


class AdminHomeView(AdminView):
    """``/admin/``: straight to the only merchant, else a choice; operators without a merchant go to their console."""

    route_base = "/admin"
    default_view = "home"

    def _enter(self) -> None:
        g.staff = None

    @expose("/")
    def home(self) -> Any:
        if not current_user.is_authenticated:
            return login_redirect()
        tenants = memberships_of(current_user.id)
        operator = is_operator(current_user)
        if len(tenants) == 1 and not operator:
            return redirect(url_for("DashboardView.dashboard", tenant_slug=tenants[0][0].slug))
        if not tenants and not operator:
            abort(403, _("this account works for no merchant yet: ask the merchant's owner or the operator to add it"))
        return self.render("admin/home.html", tenants=tenants, operator=operator)


VIEWS: tuple[type, ...] = (AdminHomeView,)
