"""The customer's own pages: login by phone code, my bookings with cancel and reschedule, points, credits and bans (decisions §52).

Each page calls the operation the API's endpoint calls and shows its refusals as messages on the
page. The personal pages are sent with ``Cache-Control: no-store``. A booking this browser may not
see (:func:`~yuyue.site.base.may_see_booking`) is a 404 page, exactly like one that does not exist.
Paying is in :mod:`yuyue.site.payment`, the waitlist in :mod:`yuyue.site.waitlist`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from yuyue.api.auth import request_now
from yuyue.api.customer_auth import deliver_login_code
from yuyue.api.limits import by_address, rate_limit
from yuyue.behaviour import CancellationTerms
from yuyue.bookings import operations as bookings
from yuyue.bookings.availability import slot_availability
from yuyue.bookings.models import Booking, BookingStatus
from yuyue.bookings.placement import booking_view, get_booking, plugins_of
from yuyue.credits import operations as credits
from yuyue.customers import login, sessions
from yuyue.customers.models import Customer, PointsEntry
from yuyue.customers.operations import points_balance
from yuyue.db import db
from yuyue.errors import DomainError, NotFound
from yuyue.events.channels import NotificationFailed
from yuyue.forms.registry import form_registry
from yuyue.payments.operations import payment_summary
from yuyue.payments.refunds import refund_amount
from yuyue.presenting.account import customer_bans
from yuyue.presenting.catalogs import locale_tag
from yuyue.presenting.language import localize
from yuyue.scheduling.registry import slot_rules
from yuyue.site import payment, waitlist  # noqa: F401 - their routes join the site blueprint
from yuyue.site.base import current_tenant, sign_in, sign_out, signed_in_customer, site
from yuyue.site.personal import MESSAGES, actor_for, customer_or_login, error_message, moment_from_form, personal_page, safe_next, visible_booking
from yuyue.site.rate_limits import by_form_phone

# A customer's bookings shown on one page, newest first before sorting: enough for years of visits.
MY_BOOKINGS_SHOWN = 100
POINTS_LINES_SHOWN = 50
# Days the reschedule page's date strip offers from today.
STRIP_DAYS = 14
MAX_PHONE_LENGTH = 32


# --- login ------------------------------------------------------------------------------------------


def _phone_from_form() -> str:
    return request.form.get("phone", "").strip()[:MAX_PHONE_LENGTH]


def _login_page(*, step: str = "phone", phone: str = "", message: str | None = None, status: int = 200) -> Response:
    """The phone form, or (``step="code"``) the form for the code just sent."""
    next_page = safe_next(request.values.get("next"))
    return personal_page("site/login.html", status=status, step=step, phone=phone, next_page=next_page, message=message)


@site.route("/login", methods=["GET", "POST"], endpoint="login")
@rate_limit("RATELIMIT_AUTH_LOGIN", by_address, methods=("POST",))
def login_page() -> Response | BaseResponse:
    """GET: the phone form. POST: log in with the phone and the code sent to it, then go back where the customer was."""
    if request.method == "GET":
        if signed_in_customer() is not None:
            return redirect(safe_next(request.args.get("next")))
        return _login_page()
    phone, code = _phone_from_form(), request.form.get("code", "").strip()[:16]
    try:
        customer = login.login_with_code(db.session, phone, code, secret=current_app.config["SECRET_KEY"], now=request_now())
        sessions.refuse_banned(db.session, customer, now=request_now())
    except (DomainError, sessions.AccountBanned) as error:
        status = 429 if isinstance(error, login.TooManyAttempts) else 403 if isinstance(error, sessions.AccountBanned) else 422
        return _login_page(step="code", phone=phone, message=error_message(error), status=status)
    # A new login gets a new CSRF token (the session cookie is signed afresh with the customer in it).
    session.pop("csrf_token", None)
    sign_in(customer)
    return redirect(safe_next(request.form.get("next")), code=303)


@site.post("/login/code")
@rate_limit("RATELIMIT_AUTH_CODE_PER_PHONE", by_form_phone)
@rate_limit("RATELIMIT_AUTH_CODE_PER_ADDRESS", by_address)
def login_code() -> Response:
    """Send a code to the phone (as ``POST …/auth/code`` does), then show the form to type it in."""
    phone = _phone_from_form()
    try:
        issued = deliver_login_code(phone)
    except login.CodeRecentlySent as error:
        message = _("A code was sent moments ago. You can ask for another in %(seconds)s seconds.", seconds=error.retry_after)
        page = _login_page(step="code", phone=phone, message=message, status=429)
        page.headers["Retry-After"] = str(error.retry_after)
        return page
    except NotificationFailed:
        return _login_page(step="phone", phone=phone, message=str(MESSAGES["notification_failed"]), status=502)
    except DomainError as error:
        return _login_page(step="phone", phone=phone, message=error_message(error), status=422)
    return _login_page(step="code", phone=issued.phone)


@site.post("/logout")
def logout() -> BaseResponse:
    sign_out()
    session.pop("csrf_token", None)
    return redirect(url_for("site.home"), code=303)


# --- my bookings ------------------------------------------------------------------------------------


def _type_name(booking: Booking) -> str:
    return localize(booking.booking_type.name, locale_tag())


@site.get("/me/bookings")
def my_bookings() -> Response | BaseResponse:
    """The customer's bookings: the coming ones soonest first, then the past ones latest first."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    now = request_now()
    listed = bookings.customer_bookings(db.session, current_tenant(), customer, limit=MY_BOOKINGS_SHOWN)
    coming = sorted((b for b in listed if b.ends_at > now), key=lambda b: b.starts_at)
    past = sorted((b for b in listed if b.ends_at <= now), key=lambda b: b.starts_at, reverse=True)
    return personal_page(
        "site/my_bookings.html",
        coming=[{"booking": b, "name": _type_name(b)} for b in coming],
        past=[{"booking": b, "name": _type_name(b)} for b in past],
    )


# --- cancel ----------------------------------------------------------------------------------------


def _paid(booking: Booking) -> int:
    """What was paid for the booking and not yet given back (read before cancelling: the cancellation requests refunds)."""
    summary = payment_summary(db.session, booking)
    return summary["paid"] - summary["refunded"]


def _refund(booking: Booking, paid: int, terms: CancellationTerms) -> dict[str, Any]:
    """What goes back of ``paid`` under the terms: all of it, less the late fee; nothing if cancelling is not allowed."""
    return {"paid": paid, "amount": refund_amount(paid, terms.fee_percent) if terms.allowed else 0, "currency": booking.currency}


@site.route("/bookings/<token:public_id>/cancel", methods=["GET", "POST"])
def cancel_booking(public_id: str) -> Response:
    """GET: the terms a cancellation now would have (refund, points, lateness). POST: cancel under them (``cancel_with_terms``)."""
    booking = visible_booking(public_id)
    tenant = current_tenant()
    paid = _paid(booking)
    if request.method == "POST":
        try:
            cancellation = bookings.cancel_with_terms(db.session, tenant, booking.public_id, actor=actor_for(booking), now=request_now())
        except DomainError as error:
            return personal_page("site/cancel.html", status=409, booking=booking, name=_type_name(booking), terms=None, message=error_message(error))
        terms = cancellation.terms
        return personal_page(
            "site/cancel.html", booking=cancellation.booking, name=_type_name(booking), terms=terms, refund=_refund(booking, paid, terms), done=True
        )
    try:
        terms = bookings.cancellation_outlook(db.session, tenant, booking.public_id, now=request_now()).customer_terms
    except DomainError as error:
        return personal_page("site/cancel.html", status=409, booking=booking, name=_type_name(booking), terms=None, message=error_message(error))
    message = None if terms.allowed else error_message(NotFound("", code=terms.code or "cancellation_closed"))
    return personal_page("site/cancel.html", booking=booking, name=_type_name(booking), terms=terms, refund=_refund(booking, paid, terms), message=message)


# --- reschedule -------------------------------------------------------------------------------------


def _day_asked(zone: ZoneInfo, first: date) -> date:
    """``?day=`` within the strip, else its first day."""
    try:
        day = date.fromisoformat(request.args.get("day", "")[:10])
    except ValueError:
        return first
    return day if first <= day < first + timedelta(days=STRIP_DAYS) else first


def _reschedule_page(booking: Booking, *, message: str | None = None, status: int = 200) -> Response:
    """The terms of moving the booking now, a date strip and the day's free slots of the booking's channel."""
    tenant, now = current_tenant(), request_now()
    zone = ZoneInfo(tenant.time_zone)
    terms = plugins_of(db.session, tenant).first("reschedule_terms", booking=booking_view(db.session, booking), now=now)
    movable = booking.status in (BookingStatus.held, BookingStatus.confirmed) and terms.allowed
    today = now.astimezone(zone).date()
    day = _day_asked(zone, today)
    slots = []
    if movable:
        found = slot_availability(db.session, booking.booking_type, zone, day, day, now, registry=slot_rules())
        # Each with the value its radio button posts: the start in the tenant's zone, as the customer reads it.
        slots = [
            {"slot": s, "value": s.starts_at.astimezone(zone).isoformat()} for s in found if s.channel == booking.channel and s.starts_at != booking.starts_at
        ]
    strip = [today + timedelta(days=n) for n in range(STRIP_DAYS)]
    if message is None and not movable:
        message = str(MESSAGES.get(terms.code) or terms.message) if not terms.allowed else str(MESSAGES["illegal_transition"])
    return personal_page(
        "site/reschedule.html",
        status=status,
        booking=booking,
        name=_type_name(booking),
        terms=terms,
        movable=movable,
        day=day,
        strip=strip,
        slots=slots,
        message=message,
    )


@site.route("/bookings/<token:public_id>/reschedule", methods=["GET", "POST"])
def reschedule_booking(public_id: str) -> Response | BaseResponse:
    """GET: whether and until when the booking may move, and the free slots. POST: move it (``bookings.reschedule``)."""
    booking = visible_booking(public_id)
    if request.method == "GET":
        return _reschedule_page(booking)
    starts_at = moment_from_form("starts_at")
    if starts_at is None:
        return _reschedule_page(booking, message=str(MESSAGES["invalid_datetime"]), status=422)
    try:
        bookings.reschedule(db.session, form_registry(), current_tenant(), booking.public_id, starts_at=starts_at, actor=actor_for(booking), now=request_now())
    except DomainError as error:
        db.session.rollback()
        return _reschedule_page(get_booking(db.session, public_id), message=error_message(error), status=409)
    return redirect(url_for("site.voucher", public_id=booking.public_id), code=303)


# --- points and credits -----------------------------------------------------------------------------


@site.get("/me/points")
def my_points() -> Response | BaseResponse:
    """The points balance and its newest lines, the course credits (what ``GET /me/credits`` answers) and the bans ahead (``GET /me/bans``)."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    lines = db.session.scalars(select(PointsEntry).where(PointsEntry.customer_id == customer.id).order_by(PointsEntry.id.desc()).limit(POINTS_LINES_SHOWN))
    summary = credits.credit_summary(db.session, current_tenant(), customer)
    packages = [
        {"lot": lot, "name": localize(lot.package.name, locale_tag()) if lot.package else None, "expired": lot.expired(summary.now)} for lot in summary.lots
    ]
    now = request_now()
    bans = customer_bans(db.session, customer, ending_after=now)
    return personal_page(
        "site/points.html", balance=points_balance(db.session, customer), lines=list(lines), credits=summary, packages=packages, bans=bans, now=now
    )
