"""The waitlist on the site: join it from a sold-out slot, see one's entries and offers, accept an offer (decisions §52).

The same operations as ``POST …/waitlist`` and ``POST …/waitlist/<id>/accept``; like the API,
only a signed-in customer may wait (an offer must reach someone who can log in to accept it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from yuyue.api.auth import request_now
from yuyue.bookings import waitlist
from yuyue.bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from yuyue.bookings.placement import booking_type_with_form, find_slot
from yuyue.catalog.models import BookingType
from yuyue.customers.models import Customer
from yuyue.db import db
from yuyue.errors import DomainError, FieldProblem, InvalidInput
from yuyue.forms.registry import form_registry
from yuyue.forms.validation import InvalidAnswers
from yuyue.presenting.catalogs import locale_tag
from yuyue.presenting.form_html import read_form, render_form
from yuyue.presenting.language import localize
from yuyue.site.base import current_tenant, site
from yuyue.site.personal import customer_or_login, error_message, personal_page

# A customer's entries shown, newest first.
ENTRIES_SHOWN = 50


def _slot_start(value: str) -> datetime:
    """``?at=`` / the form's ``at``: a slot's start with its offset; anything else is a 422 page."""
    try:
        moment = datetime.fromisoformat(value) if 10 <= len(value) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not 2000 <= moment.year <= 2999:
        raise InvalidInput(_l("the time is not valid"), errors=[FieldProblem("/at", _l("a slot's start, e.g. 2026-12-09T09:00:00+08:00"), "invalid_datetime")])
    return moment


def _join_page(
    type_slug: str,
    starts_at: datetime,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    booking_type, form_version = booking_type_with_form(db.session, type_slug)
    slot = find_slot(booking_type, ZoneInfo(current_tenant().time_zone), starts_at)
    form = render_form(form_version.definition, form_version.ui, locale=locale_tag(), field_types=form_registry().field_types, values=values, errors=errors)
    return personal_page(
        "site/waitlist_join.html",
        status=status,
        booking_type=booking_type,
        name=localize(booking_type.name, locale_tag()),
        slot=slot,
        at=slot.starts_at.astimezone(ZoneInfo(current_tenant().time_zone)).isoformat(),
        form=form,
        party_size=(values or {}).get("_party_size", 1),
        message=message,
    )


def _party_size() -> int | None:
    value = request.form.get("party_size", "")
    return int(value) if value.isdecimal() and len(value) <= 4 else None


@site.route("/book/<slug:type_slug>/waitlist", methods=["GET", "POST"])
def join_waitlist(type_slug: str) -> Response | BaseResponse:
    """GET: the slot and the booking form. POST: wait for a place with those answers (``waitlist.join``)."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    if request.method == "GET":
        return _join_page(type_slug, _slot_start(request.args.get("at", "")))
    starts_at = _slot_start(request.form.get("at", ""))
    _, form_version = booking_type_with_form(db.session, type_slug)
    answers = read_form(form_version.definition, request.form, field_types=form_registry().field_types)
    party_size = _party_size()
    try:
        waitlist.join(
            db.session,
            form_registry(),
            current_tenant(),
            booking_type_slug=type_slug,
            starts_at=starts_at,
            phone=customer.phone,
            answers=answers,
            party_size=party_size,
            auto_confirm=request.form.get("auto_confirm") == "1",
            now=request_now(),
        )
    except InvalidAnswers as error:
        problems = {p.pointer: p.message for p in error.errors}
        return _join_page(type_slug, starts_at, values={**answers, "_party_size": party_size or 1}, errors=problems, message=error_message(error), status=422)
    except DomainError as error:
        return _join_page(type_slug, starts_at, values={**answers, "_party_size": party_size or 1}, message=error_message(error), status=409)
    return redirect(url_for("site.my_waitlist"), code=303)


def _entries(customer: Customer) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.customer_id == customer.id).order_by(WaitlistEntry.id.desc()).limit(ENTRIES_SHOWN))
    now, shown = request_now(), []
    for entry in rows:
        booking_type = db.session.get(BookingType, entry.booking_type_id)
        shown.append(
            {
                "entry": entry,
                "name": localize(booking_type.name, locale_tag()),
                "offer_open": entry.status is WaitlistStatus.offered and entry.offer_expires_at is not None and entry.offer_expires_at > now,
                "booking": db.session.get(Booking, entry.booking_id) if entry.booking_id else None,
            }
        )
    return shown


def _my_waitlist(customer: Customer, *, message: str | None = None, status: int = 200) -> Response:
    return personal_page("site/waitlist.html", status=status, entries=_entries(customer), message=message)


@site.get("/me/waitlist")
def my_waitlist() -> Response | BaseResponse:
    """The customer's entries, each offer with the time it must be accepted by."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    return _my_waitlist(customer)


@site.post("/me/waitlist/<row_id:entry_id>/accept")
def accept_offer(entry_id: int) -> Response | BaseResponse:
    """Book the place an offer holds; a booking still to be paid goes on to paying, a free one to its voucher."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    try:
        booking = waitlist.accept_offer(db.session, current_tenant(), entry_id, customer=customer, now=request_now())
    except DomainError as error:
        return _my_waitlist(customer, message=error_message(error), status=404 if error.code.endswith("not_found") else 409)
    target = "site.pay_booking" if booking.status is BookingStatus.held else "site.voucher"
    return redirect(url_for(target, public_id=booking.public_id), code=303)
