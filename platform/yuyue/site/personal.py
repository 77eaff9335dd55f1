"""What the customer's own pages share: who they are (or a detour to log in), a booking they may see, refusals as messages, and pages never cached."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from yuyue.bookings.models import Booking
from yuyue.bookings.placement import Actor, get_booking
from yuyue.customers.models import Customer
from yuyue.db import db
from yuyue.errors import DomainError, NotFound
from yuyue.site.base import may_see_booking, render_page, signed_in_customer

__all__ = ["MESSAGES", "NO_STORE", "actor_for", "customer_or_login", "error_message", "moment_from_form", "personal_page", "safe_next", "visible_booking"]

NO_STORE = {"Cache-Control": "no-store"}

# What the site says for a refusal it knows by code; any other shows the operation's own message.
MESSAGES = {
    "invalid_phone": _l("Please enter a mobile number, e.g. 13800138000."),
    "invalid_code": _l("The code is not right, or it has expired. Please check it or ask for a new one."),
    "too_many_attempts": _l("Too many wrong codes. Please ask for a new one."),
    "notification_failed": _l("The code could not be sent. Please try again in a moment."),
    "banned": _l("This account is suspended and cannot log in at the moment."),
    "illegal_transition": _l("This booking can no longer be changed."),
    "cancellation_closed": _l("This booking can no longer be cancelled."),
    "cancellation_limit": _l("You have cancelled too many bookings recently, so this one cannot be cancelled online."),
    "reschedule_closed": _l("This booking can no longer be rescheduled."),
    "reschedule_limit": _l("This booking has been rescheduled as many times as allowed."),
    "slot_full": _l("That time is full. Please pick another."),
    "slot_not_found": _l("That time is not offered. Please pick another."),
    "invalid_datetime": _l("Please pick a time from the list."),
}


def error_message(error: DomainError) -> str:
    known = MESSAGES.get(error.code)
    return str(known) if known is not None else str(error.message)


def personal_page(template: str, *, status: int = 200, **context: Any) -> Response:
    """A page about one customer: never kept by a browser's or a proxy's cache."""
    return render_page(template, status=status, headers=NO_STORE, **context)


def safe_next(target: str | None) -> str:
    """``target`` if it is a page of this tenant's site, else the customer's bookings: a login never sends anyone to another site."""
    prefix = url_for("site.home")
    if not target or len(target) > 2000 or any(c < " " or c == "\\" for c in target):
        return url_for("site.my_bookings")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(prefix) or "/../" in parts.path or target.startswith("//"):
        return url_for("site.my_bookings")
    return target


def customer_or_login() -> Customer | BaseResponse:
    """The signed-in customer, or a redirect to the login page that comes back to this page (a form sent comes back to the customer's bookings)."""
    customer = signed_in_customer()
    if customer is None:
        back = request.full_path.rstrip("?") if request.method == "GET" else url_for("site.my_bookings")
        return redirect(url_for("site.login", next=back))
    return customer


def visible_booking(public_id: str) -> Booking:
    """The booking if this browser may see it (its signed-in owner, or the guest who placed it here); else as absent as a missing one."""
    try:
        booking = get_booking(db.session, public_id)
    except NotFound:
        booking = None
    if booking is None or not may_see_booking(booking):
        abort(404)  # the site's own "no such page", in the reader's language
    return booking


def actor_for(booking: Booking) -> Actor:
    """Who acts, for the booking's log: the customer, signed in or a guest on the browser that placed it."""
    customer = signed_in_customer() or db.session.get(Customer, booking.customer_id)
    return Actor("customer", customer.id)


def moment_from_form(name: str) -> datetime | None:
    """An ISO date and time with its offset from the form (a slot's start, as the pages write it), or None."""
    value = request.form.get(name, "")
    try:
        moment = datetime.fromisoformat(value) if 10 <= len(value) <= 40 else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None and 2000 <= moment.year <= 2999 else None
