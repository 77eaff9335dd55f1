"""The merchant's first page: today at a glance for everyone, and the statistics of a chosen period for managers and owners.

The figures, the period's validation and the csv/xlsx tables are :mod:`yuyue.stats`' — the
same the merchant API answers with — so the page only picks the period, draws and lays out.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from flask import Response, request
from flask_appbuilder import expose
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from yuyue.admin.base import TenantAdminView, current_staff, requires
from yuyue.catalog.models import BookingType
from yuyue.db import db
from yuyue.errors import InvalidInput
from yuyue.presenting.language import accepted_locale, localize
from yuyue.stats import charts, figures, ratings
from yuyue.stats.period import PERIOD_PARAMETERS, Period, period_from_query
from yuyue.stats.tables import TABLES, table_file
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

__all__ = ["VIEWS"]

# Who sees the statistics: as the merchant API's /admin/stats (revenue is among them).
STATS_ROLE = StaffRole.manager
_TABLE_NAMES = "any(" + ", ".join(f'"{name}"' for name in TABLES) + ")"


def _problem_text(code: str, message: str) -> str:
    """The period's problems in the admin's language; the API states them in English with the same codes."""
    texts = {
        "invalid_date": _("Enter a date as YYYY-MM-DD."),
        "out_of_range": _("Choose a date from 2000-01-01 to a year from today."),
        "before_from": _("The end must not be before the start."),
        "period_too_long": _("Choose at most 366 days."),
        "unknown_booking_type": _("There is no such booking type."),
    }
    return texts.get(code, message)


def _name_locale() -> str:
    """The admin's language as a localized-text key (zh-Hans, zh-Hant, en)."""
    return accepted_locale([str(get_locale() or "zh_Hans").replace("_", "-")])


def _zone() -> ZoneInfo:
    return ZoneInfo(current_staff().tenant.time_zone)


def _period() -> Period:
    zone = _zone()
    return period_from_query(db.session, request.args, zone, utcnow().astimezone(zone).date())


def _statistics(period: Period) -> dict[str, Any]:
    """Every figure of the period with its chart; the templates show each chart beside a table of the same numbers."""
    locale = _name_locale()
    name = lambda value: localize(value, locale) or ""  # noqa: E731 - one line, used for every merchant-entered name
    names = get_day_names("abbreviated", locale=get_locale() or "zh_Hans")  # keyed 0 = Monday, listed from Sunday
    weekdays = [names[day] for day in range(7)]
    slots = figures.slot_figures(db.session, period)
    summary = figures.summary(db.session, period, slots)
    cells = figures.heatmap(db.session, period)
    types = figures.by_booking_type(db.session, period)
    tickets = figures.ticket_figures(db.session, period)
    resources = figures.by_resource(db.session, period)
    busiest = figures.busiest_slots(slots)
    busiest_labels = [f"{name(s.name)} {s.local_start(period.zone):%m-%d %H:%M}" for s in busiest]
    return {
        "summary": summary,
        "cells": cells,
        "weekdays": weekdays,
        "types": types,
        "tickets": tickets,
        "resources": resources,
        "busiest": busiest,
        "busiest_labels": busiest_labels,
        "ratings": {
            "booking_types": ratings.ratings_by_booking_type(db.session, period),
            "resources": ratings.ratings_by_resource(db.session, period),
            "months": ratings.ratings_by_month(db.session, period),
        },
        "name": name,
        "heatmap_svg": charts.heatmap_svg(_("Bookings by hour of the week"), cells, weekdays, legend=_("Darker: more bookings starting in that local hour")),
        "types_svg": charts.bar_chart(_("Bookings by booking type"), [name(t.name) for t in types], [t.bookings for t in types]),
        "tickets_svg": charts.bar_chart(_("Places by ticket type"), [name(t.label) for t in tickets], [t.places for t in tickets]) if tickets else None,
        "resources_svg": charts.bar_chart(_("Bookings by resource"), [name(r.name) for r in resources], [r.bookings for r in resources]) if resources else None,
        "busiest_svg": charts.bar_chart(_("Busiest slots by utilisation"), busiest_labels, [s.utilisation or 0 for s in busiest], percent=True)
        if busiest
        else None,
    }


class DashboardView(TenantAdminView):
    area = ""
    default_view = "dashboard"
    nav_label = _l("Dashboard")
    nav_order = 10
    nav_icon = "home"

    @expose("/")
    def dashboard(self) -> Any:
        staff = current_staff()
        zone = _zone()
        today = figures.today_at_a_glance(db.session, zone, utcnow())
        context: dict[str, Any] = {"tenant": staff.tenant, "today": today, "zone": zone, "name": lambda value: localize(value, _name_locale()) or ""}
        if not staff.allows(STATS_ROLE):
            return self.render("admin/dashboard.html", **context)
        typed = {key: request.args.get(key, "") for key in PERIOD_PARAMETERS}
        context["booking_types"] = db.session.scalars(select(BookingType).order_by(BookingType.slug)).all()
        try:
            period = _period()
        except InvalidInput as error:
            problems = {problem.pointer.lstrip("/"): _problem_text(problem.code, problem.message) for problem in error.errors}
            return self.render("admin/dashboard.html", typed=typed, problems=problems, **context), 422
        typed.update({"from": period.first.isoformat(), "to": period.last.isoformat()})
        query = {"from": typed["from"], "to": typed["to"], **({"booking_type": period.booking_type.slug} if period.booking_type else {})}
        return self.render("admin/dashboard.html", typed=typed, problems={}, period=period, query=query, stats=_statistics(period), **context)

    @expose(f"/stats/<{_TABLE_NAMES}:table>.<any(csv, xlsx):extension>")
    @requires(STATS_ROLE)
    def download(self, table: str, extension: str) -> Any:
        """A figure's table of the period on the page, as the merchant API gives it."""
        try:
            period = _period()
        except InvalidInput as error:
            return Response("; ".join(f"{p.pointer.lstrip('/')}: {p.message}" for p in error.errors), status=422, mimetype="text/plain")
        locale = _name_locale()
        body, mimetype, filename = table_file(db.session, table, extension, period, lambda value: localize(value, locale) or "", current_staff().tenant.slug)
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        response.headers["Cache-Control"] = "no-store"
        return response


VIEWS: tuple[type, ...] = (DashboardView,)
