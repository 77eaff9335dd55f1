"""Merchant API statistics: ``/api/v1/t/<tenant>/admin/stats/…`` as JSON, and each table as ``….csv`` / ``….xlsx``.

Manager tokens and above (the figures include revenue). The period is read by
:func:`yuyue.stats.period.period_from_query`, the figures computed by :mod:`yuyue.stats.figures`,
the same ones the admin dashboard shows; descriptions in :mod:`yuyue.api.schemas.merchant.stats`.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, jsonify, request

from yuyue.api.auth import staff_required
from yuyue.api.schemas.merchant.stats import STATS_ROLE
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.db import db
from yuyue.presenting.catalogs import locale_tag
from yuyue.presenting.language import localize
from yuyue.stats import figures, ratings
from yuyue.stats.period import Period, period_from_query
from yuyue.stats.tables import TABLES, table_file
from yuyue.types import utcnow


def _period() -> Period:
    zone = ZoneInfo(current_tenant().time_zone)
    return period_from_query(db.session, request.args, zone, utcnow().astimezone(zone).date())


def _locale() -> str:
    """The API's locale (``?lang=``, ``Accept-Language``, the tenant's first locale), as its messages use it."""
    return locale_tag()


def _period_json(period: Period) -> dict[str, Any]:
    return {
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "time_zone": period.zone.key,
        "booking_type": period.booking_type.slug if period.booking_type else None,
    }


def _money(revenue: tuple[figures.Revenue, ...]) -> list[dict[str, Any]]:
    return [{"currency": r.currency, "collected": r.collected, "refunded": r.refunded, "net": r.net} for r in revenue]


def _slot_json(slot: figures.SlotFigures, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "booking_type": slot.booking_type,
        "starts_at": slot.local_start(zone).isoformat(),
        "capacity": slot.capacity,
        "taken": slot.taken,
        "utilisation": slot.utilisation,
        "closed": slot.closed,
    }


@tenant_api.get("/admin/stats/summary")
@staff_required(STATS_ROLE)
def stats_summary() -> Response:
    period = _period()
    found = figures.summary(db.session, period)
    utilisation = found.utilisation
    return jsonify(
        {
            "period": _period_json(period),
            "bookings": {
                "placed": found.placed,
                "kept": found.kept,
                "places": found.places,
                "cancelled": found.cancelled,
                "no_shows": found.no_shows,
                "attendance_settled": found.settled,
                "by_status": found.by_status,
            },
            "cancellation_rate": found.cancellation_rate,
            "no_show_rate": found.no_show_rate,
            "utilisation": {"slots": utilisation.slots, "capacity": utilisation.capacity, "taken": utilisation.taken, "rate": utilisation.rate},
            "revenue": _money(found.revenue),
        }
    )


@tenant_api.get("/admin/stats/heatmap")
@staff_required(STATS_ROLE)
def stats_heatmap() -> Response:
    period = _period()
    cells = figures.heatmap(db.session, period)
    return jsonify(
        {"period": _period_json(period), "cells": [{"weekday": c.weekday, "hour": c.hour, "bookings": c.bookings, "places": c.places} for c in cells]}
    )


@tenant_api.get("/admin/stats/by-booking-type")
@staff_required(STATS_ROLE)
def stats_by_booking_type() -> Response:
    period, locale = _period(), _locale()
    types = [
        {
            "slug": t.slug,
            "name": localize(t.name, locale),
            "bookings": t.bookings,
            "places": t.places,
            "cancelled": t.cancelled,
            "no_shows": t.no_shows,
            "revenue": _money(t.revenue),
        }
        for t in figures.by_booking_type(db.session, period)
    ]
    tickets = [
        {"booking_type": t.booking_type, "ticket_type": t.ticket, "name": localize(t.label, locale), "places": t.places}
        for t in figures.ticket_figures(db.session, period)
    ]
    return jsonify({"period": _period_json(period), "booking_types": types, "ticket_types": tickets})


@tenant_api.get("/admin/stats/by-resource")
@staff_required(STATS_ROLE)
def stats_by_resource() -> Response:
    period, locale = _period(), _locale()
    resources = [
        {"code": r.code, "kind": r.kind, "name": localize(r.name, locale), "bookings": r.bookings, "places": r.places}
        for r in figures.by_resource(db.session, period)
    ]
    return jsonify({"period": _period_json(period), "resources": resources})


@tenant_api.get("/admin/stats/slots")
@staff_required(STATS_ROLE)
def stats_slots() -> Response:
    period = _period()
    slots = figures.slot_figures(db.session, period)
    total = figures.Utilisation(len(slots), sum(s.capacity for s in slots), sum(s.taken for s in slots))
    return jsonify(
        {
            "period": _period_json(period),
            "utilisation": {"slots": total.slots, "capacity": total.capacity, "taken": total.taken, "rate": total.rate},
            "busiest": [_slot_json(s, period.zone) for s in figures.busiest_slots(slots)],
            "slots": [_slot_json(s, period.zone) for s in slots],
        }
    )


@tenant_api.get("/admin/stats/ratings")
@staff_required(STATS_ROLE)
def stats_ratings() -> Response:
    period, locale = _period(), _locale()

    def rows(found: list[ratings.RatingFigures], key: str) -> list[dict[str, Any]]:
        return [{key: r.key, "name": localize(r.name, locale), "reviews": r.reviews, "average": r.average} for r in found]

    months = [{"month": r.key, "reviews": r.reviews, "average": r.average} for r in ratings.ratings_by_month(db.session, period)]
    return jsonify(
        {
            "period": _period_json(period),
            "booking_types": rows(ratings.ratings_by_booking_type(db.session, period), "slug"),
            "resources": rows(ratings.ratings_by_resource(db.session, period), "code"),
            "months": months,
        }
    )


def stats_download(table: str, extension: str) -> Response:
    """The ``table`` of the requested period as a file named after the tenant, the figure and the period."""
    period, locale = _period(), _locale()
    body, mimetype, filename = table_file(db.session, table, extension, period, lambda name: localize(name, locale) or "", current_tenant().slug)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


for _table in TABLES:
    for _extension in ("csv", "xlsx"):
        tenant_api.add_url_rule(
            f"/admin/stats/{_table}.{_extension}",
            f"stats_{_table.replace('-', '_')}_{_extension}",
            staff_required(STATS_ROLE)(lambda table=_table, extension=_extension: stats_download(table, extension)),
        )
