"""The site's front page: what the merchant offers."""

from __future__ import annotations

from flask import Response, url_for
from flask_babel import get_locale

from yuyue.catalog.models import BookingTypeStatus
from yuyue.catalog.operations import list_booking_types
from yuyue.db import db
from yuyue.presenting.language import localize
from yuyue.site.base import current_tenant, render_page, site


def locale() -> str:
    """The current locale as the booking engine names it (``zh-Hans``)."""
    return str(get_locale() or "zh_Hans").replace("_", "-")


@site.get("/")
def home() -> Response:
    tenant = current_tenant()
    active = [t for t in list_booking_types(db.session, tenant) if t.status is BookingTypeStatus.active]
    entries = [
        {
            "booking_type": booking_type,
            "name": localize(booking_type.name, locale()),
            "description": localize(booking_type.description, locale()),
            "vertical": booking_type.vertical,
            "card": {},
            "url": url_for("site.booking_type", type_slug=booking_type.slug),
        }
        for booking_type in active
    ]
    return render_page("site/home.html", entries=entries)
