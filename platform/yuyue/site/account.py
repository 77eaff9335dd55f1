"""The customer's own pages: login by phone code, my bookings (cancel, reschedule), paying, the waitlist, points and credits."""

from __future__ import annotations

from flask import Response

from yuyue.site.base import render_page, site


# Placeholders of the contract, so that every page can link to every other; the account area replaces them.
def _not_built(**_values: str) -> Response:
    return render_page("site/error.html", status=501, title="501", message="not built yet", code="501")


for _rule, _endpoint, _methods in (
    ("/login", "login", ["GET", "POST"]),
    ("/login/code", "login_code", ["POST"]),
    ("/logout", "logout", ["POST"]),
    ("/me/bookings", "my_bookings", ["GET"]),
    ("/bookings/<token:public_id>/cancel", "cancel_booking", ["GET", "POST"]),
    ("/bookings/<token:public_id>/reschedule", "reschedule_booking", ["GET", "POST"]),
    ("/bookings/<token:public_id>/pay", "pay_booking", ["GET", "POST"]),
    ("/pay/sandbox/<token:reference>", "sandbox_checkout", ["GET", "POST"]),
    ("/book/<slug:type_slug>/waitlist", "join_waitlist", ["GET", "POST"]),
    ("/me/waitlist", "my_waitlist", ["GET"]),
    ("/me/waitlist/<row_id:entry_id>/accept", "accept_offer", ["POST"]),
    ("/me/points", "my_points", ["GET"]),
):
    site.add_url_rule(_rule, _endpoint, _not_built, methods=_methods)
