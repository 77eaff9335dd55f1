"""The merchant's first page: today at a glance, and the statistics."""

from __future__ import annotations

from typing import Any

from flask_appbuilder import expose
from flask_babel import lazy_gettext as _l

from yuyue.admin.base import TenantAdminView, current_staff

__all__ = ["VIEWS"]


class DashboardView(TenantAdminView):
    area = ""
    default_view = "dashboard"
    nav_label = _l("Dashboard")
    nav_order = 10
    nav_icon = "home"

    @expose("/")
    def dashboard(self) -> Any:
        return self.render("admin/dashboard.html", tenant=current_staff().tenant)


VIEWS: tuple[type, ...] = (DashboardView,)
