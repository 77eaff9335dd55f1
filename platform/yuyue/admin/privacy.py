"""The data requests page: who asked for their data or its erasure, when, and what became of it (managers and owners).

It reads what ``GET …/admin/data-requests`` reads (:func:`yuyue.privacy.operations.data_requests`), with the same
filters; pages go back by id (``?before=``). Nothing on it is personal: customers are named by their id.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import request
from flask_appbuilder import expose
from flask_babel import lazy_gettext as _l

from yuyue.admin.base import TenantAdminView, current_staff
from yuyue.db import db
from yuyue.privacy.models import DataRequestKind, DataRequestStatus
from yuyue.privacy.operations import data_requests
from yuyue.tenancy.models import StaffRole

__all__ = ["VIEWS"]

PAGE = 50


def _choice(name: str, kind: type) -> Any:
    """The filter ``name`` if it is one of ``kind``'s values; anything else shows every request."""
    value = request.args.get(name, "")
    return kind(value) if value in kind.__members__ else None


class DataRequestsView(TenantAdminView):
    area = "data-requests"
    default_view = "page"
    nav_label = _l("Data requests")
    nav_order = 90
    nav_icon = "privacy"
    min_role = StaffRole.manager

    @expose("/", methods=["GET"])
    def page(self) -> Any:
        before = request.args.get("before", "")
        before_id = int(before) if before.isdecimal() and len(before) < 10 else None
        kind, status = _choice("kind", DataRequestKind), _choice("status", DataRequestStatus)
        rows = data_requests(db.session, current_staff().tenant, kind=kind, status=status, before_id=before_id, limit=PAGE + 1)
        zone = ZoneInfo(current_staff().tenant.time_zone)
        return self.render(
            "admin/data_requests.html",
            rows=rows[:PAGE],
            next_before=rows[PAGE - 1].id if len(rows) > PAGE else None,
            kind=kind,
            status=status,
            kinds=list(DataRequestKind),
            statuses=list(DataRequestStatus),
            when=lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else "",
        )


VIEWS: tuple[type, ...] = (DataRequestsView,)
