"""Booking on the site: a booking type's days and slots, the form, placing the booking, and its voucher (QR code, ``.ics``)."""

from __future__ import annotations

from flask import Response

from yuyue.site.base import render_page, site


# Placeholders of the contract, so that every page can link to every other; the booking area replaces them.
def _not_built(**_values: str) -> Response:
    return render_page("site/error.html", status=501, title="501", message="not built yet", code="501")


for _rule, _endpoint, _methods in (
    ("/book/<slug:type_slug>/", "booking_type", ["GET"]),
    ("/book/<slug:type_slug>/form", "booking_form", ["GET", "POST"]),
    ("/bookings/<token:public_id>", "voucher", ["GET"]),
    ("/bookings/<token:public_id>/calendar.ics", "voucher_ics", ["GET"]),
):
    site.add_url_rule(_rule, _endpoint, _not_built, methods=_methods)
