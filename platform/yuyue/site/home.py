"""The site's front page: what the merchant offers, each booking type with its vertical's card."""

from __future__ import annotations

from flask import Response, url_for

from yuyue.catalog.models import BookingTypeStatus
from yuyue.catalog.operations import list_booking_types
from yuyue.db import db
from yuyue.presenting.language import localize
from yuyue.site.base import current_tenant, render_page, site
from yuyue.site.cards import card_of
from yuyue.site.slots import reader_locale
from yuyue.types import utcnow


@site.get("/")
def home() -> Response:
    tenant, locale, now = current_tenant(), reader_locale(), utcnow()
    active = [t for t in list_booking_types(db.session, tenant) if t.status is BookingTypeStatus.active]
    entries = [
        {
            "booking_type": booking_type,
            "name": localize(booking_type.name, locale),
            "description": localize(booking_type.description, locale),
            "vertical": booking_type.vertical,
            "card": card_of(db.session, tenant, booking_type, now),
            "url": url_for("site.booking_type", type_slug=booking_type.slug),
        }
        for booking_type in active
    ]
    return render_page("site/home.html", entries=entries)
