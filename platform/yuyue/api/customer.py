"""Customer API: booking types and their availability, bookings and group name lists, the waitlist, and the customer's own records.

Served under ``/api/v1/t/<tenant>/`` to the H5 site, the WeChat mini-program and
integrators. Guests book with a phone number and get a per-booking token;
logged-in customers use their access token. A booking that is not the caller's
answers 404, exactly like one that does not exist, so ids cannot be probed.
Datetimes go out in the tenant's time zone with their offset. Reading never
writes: a held booking's payment is opened by ``POST …/bookings/<id>/pay``
(or when the booking is placed), and only shown by the GETs.

The bodies validated here and each route's description are in
:mod:`yuyue.api.schemas.customer`; what the answers hold, in :mod:`yuyue.presenting.customer`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, jsonify, request, url_for
from flask_babel import lazy_gettext as _l

from yuyue.api.auth import booking_token, customer_optional, customer_required, may_access_booking
from yuyue.api.body import request_file
from yuyue.api.core import json_body
from yuyue.api.limits import booking_limit
from yuyue.api.problems import ApiProblem
from yuyue.api.query import cursor_before, page_before
from yuyue.api.schemas.customer import OPENAPI_PATHS, OPENAPI_SECURITY_SCHEMES
from yuyue.api.schemas.customer.bookings import BOOKING_CANCEL, BOOKING_CREATE, BOOKING_RESCHEDULE, MAX_IDEMPOTENCY_KEY
from yuyue.api.schemas.customer.catalog import MAX_AVAILABILITY_DAYS
from yuyue.api.schemas.customer.common import FIRST_YEAR, LAST_YEAR, YEARS
from yuyue.api.schemas.customer.me import COMPANION_CREATE, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from yuyue.api.schemas.customer.waitlist import WAITLIST_JOIN
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.bookings import customer_account, name_lists, waitlist
from yuyue.bookings import operations as bookings
from yuyue.bookings.availability import slot_availability
from yuyue.bookings.consents import PrivacyConsent
from yuyue.bookings.models import Booking, BookingStatus
from yuyue.bookings.placement import Actor, booking_type_by_slug, booking_type_with_form, get_booking
from yuyue.bookings.sessions import minimum_of
from yuyue.catalog.models import BookingTypeStatus
from yuyue.catalog.operations import list_booking_types
from yuyue.catalog.privacy_notices import current_notice
from yuyue.catalog.stops import route_stops
from yuyue.customers import operations as customers
from yuyue.customers.models import Customer
from yuyue.db import db
from yuyue.errors import FieldProblem, InvalidInput, NotFound
from yuyue.forms.registry import form_registry
from yuyue.forms.validation import InvalidAnswers
from yuyue.payments.operations import payment_instructions
from yuyue.presenting import customer as present
from yuyue.presenting.catalogs import locale_tag
from yuyue.presenting.language import LOCALES
from yuyue.presenting.reviews import BookingReviews, public_rating_json
from yuyue.presenting.route import session_rules_json, stop_times
from yuyue.scheduling.registry import slot_rules
from yuyue.types import utcnow

__all__ = ["OPENAPI_PATHS", "OPENAPI_SECURITY_SCHEMES"]

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# View functions are named customer_*: endpoint names share tenant_api with the merchant API.

# --- input --------------------------------------------------------------------------


def request_locale() -> str:
    """The locale of the API's messages (``?lang=``, ``Accept-Language``, the tenant's first locale), for its texts too; an unknown ``?lang=`` is a 422."""
    asked = request.args.get("lang")
    if asked is not None and asked not in LOCALES:
        raise InvalidInput(
            _l("the language is not supported"), errors=[FieldProblem("/lang", _l("one of %(names)s", names=", ".join(LOCALES)), "unsupported_language")]
        )
    return locale_tag()


def aware_datetime(value: str, at: str) -> datetime:
    """An ISO 8601 date and time with a UTC offset; anything else is a 422 at ``at``."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput(
            _l("the date and time are not valid"),
            errors=[FieldProblem(at, _l("an ISO 8601 date and time, e.g. 2026-12-09T09:00:00+08:00"), "invalid_datetime")],
        )
    if parsed.tzinfo is None:
        raise InvalidInput(_l("the date and time need a UTC offset"), errors=[FieldProblem(at, _l("include a UTC offset, e.g. +08:00"), "naive_datetime")])
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise InvalidInput(_l("the date and time are out of range"), errors=[FieldProblem(at, YEARS, "out_of_range")])
    return parsed


def _query_date(name: str, problems: list[FieldProblem]) -> date | None:
    value = request.args.get(name)
    if value is None:
        problems.append(FieldProblem(f"/{name}", _l("this field is required"), "required"))
        return None
    try:
        parsed = date.fromisoformat(value) if ISO_DATE.match(value) else None
    except ValueError:
        parsed = None
    if parsed is None:
        problems.append(FieldProblem(f"/{name}", _l("a date as YYYY-MM-DD"), "invalid_date"))
    elif not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        problems.append(FieldProblem(f"/{name}", YEARS, "out_of_range"))
        parsed = None
    return parsed


def availability_range() -> tuple[date, date]:
    """``?from=&to=`` (local dates, inclusive), at most :data:`MAX_AVAILABILITY_DAYS` days."""
    problems: list[FieldProblem] = []
    first, last = _query_date("from", problems), _query_date("to", problems)
    if first and last and last < first:
        problems.append(FieldProblem("/to", _l("must not be before 'from'"), "invalid_range"))
    elif first and last and (last - first).days + 1 > MAX_AVAILABILITY_DAYS:
        problems.append(
            FieldProblem("/to", _l("at most %(max_availability_days)s days from 'from'", max_availability_days=MAX_AVAILABILITY_DAYS), "range_too_long")
        )
    if problems:
        raise InvalidInput(_l("the date range is not valid"), errors=problems)
    return first, last


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not key.isprintable() or not key.isascii():
        raise ApiProblem(
            400,
            "invalid_idempotency_key",
            _l("Idempotency-Key must be 1-%(max_idempotency_key)s printable ASCII characters", max_idempotency_key=MAX_IDEMPOTENCY_KEY),
        )
    return key


def _privacy_consent(body: dict[str, Any]) -> PrivacyConsent | None:
    """The notice version a booking request agrees to (``privacy_consent.version``), given through the API."""
    agreed = body.get("privacy_consent")
    return None if agreed is None else PrivacyConsent(agreed["version"])


def _answers_problem(error: InvalidAnswers) -> InvalidInput:
    """Form problems point into the answers; in the request body they sit under ``/answers``."""
    return InvalidInput(error.lazy_message, code=error.code, errors=[FieldProblem("/answers" + p.pointer, p.message, p.code) for p in error.errors])


# --- output -------------------------------------------------------------------------


def _localized(payload: Any, locale: str, status: int = 200) -> tuple[Response, int, dict[str, str]]:
    return jsonify(payload), status, {"Content-Language": locale, "Vary": "Accept-Language"}


def _booking_json(booking: Booking, reviews: BookingReviews | None = None) -> dict[str, Any]:
    pay_url = url_for(".customer_pay_booking", tenant_slug=current_tenant().slug, public_id=booking.public_id)
    return present.booking_json(db.session, current_tenant(), booking, secret_key=current_app.config["SECRET_KEY"], pay_url=pay_url, reviews=reviews)


def _booking_location(booking: Booking) -> dict[str, str]:
    return {"Location": url_for(".customer_get_booking", tenant_slug=current_tenant().slug, public_id=booking.public_id)}


# --- who may act on a booking -------------------------------------------------------


def _callers_booking(public_id: str) -> Booking:
    """The booking if the caller is its customer or holds its booking token; otherwise as absent as a missing one."""
    booking = get_booking(db.session, public_id)
    if not may_access_booking(booking):
        raise NotFound(_l("no booking %(public_id)r", public_id=public_id), code="booking_not_found")
    return booking


def _actor(booking: Booking) -> Actor:
    customer = g.customer or db.session.get(Customer, booking.customer_id)
    return Actor("customer", customer.id)


# --- booking types ------------------------------------------------------------------


@tenant_api.get("/booking-types")
def customer_booking_types() -> tuple[Response, int, dict[str, str]]:
    locale = request_locale()
    active = [t for t in list_booking_types(db.session, current_tenant()) if t.status is BookingTypeStatus.active]
    return _localized({"booking_types": [present.booking_type_summary(t, locale) for t in active]}, locale)


@tenant_api.get("/booking-types/<slug:slug>")
def customer_booking_type(slug: str) -> tuple[Response, int, dict[str, str]]:
    locale = request_locale()
    booking_type, form_version = booking_type_with_form(db.session, slug)
    detail = present.booking_type_detail(booking_type, form_version, locale, current_tenant(), current_notice(db.session, booking_type))
    minimum = minimum_of(db.session, current_tenant(), booking_type)
    ratings = public_rating_json(db.session, booking_type, locale)
    return _localized({**detail, **ratings, **session_rules_json(route_stops(db.session, booking_type.id), minimum, locale)}, locale)


@tenant_api.get("/booking-types/<slug:slug>/availability")
def customer_availability(slug: str) -> tuple[Response, int, dict[str, str]]:
    locale = request_locale()
    first, last = availability_range()
    booking_type, zone = booking_type_by_slug(db.session, slug), ZoneInfo(current_tenant().time_zone)
    slots = slot_availability(db.session, booking_type, zone, first, last, utcnow(), registry=slot_rules())
    stops = route_stops(db.session, booking_type.id)
    listed = [present.slot_json(s, locale, zone) | ({"stops": stop_times(stops, s.starts_at, zone)} if stops else {}) for s in slots]
    return _localized({"time_zone": current_tenant().time_zone, "slots": listed}, locale)


# --- bookings -----------------------------------------------------------------------


@tenant_api.post("/bookings")
@customer_optional
@booking_limit
def customer_create_booking() -> tuple[Response, int, dict[str, str]]:
    body = json_body(BOOKING_CREATE)
    starts_at = aware_datetime(body["starts_at"], "/starts_at")
    customer: Customer | None = g.customer
    if customer is None and "phone" not in body:
        raise InvalidInput(_l("a guest booking needs a phone number"), errors=[FieldProblem("/phone", _l("required unless you log in"), "required")])
    try:
        receipt = bookings.book_once(
            db.session,
            form_registry(),
            current_tenant(),
            booking_type_slug=body["booking_type"],
            starts_at=starts_at,
            phone=customer.phone if customer else body["phone"],
            answers=body["answers"],
            channel=body.get("channel", "default"),
            party_size=body.get("party_size"),
            tickets=body.get("tickets"),
            idempotency_key=_idempotency_key(),
            may_replay=may_access_booking,
            privacy_consent=_privacy_consent(body),
        )
    except InvalidAnswers as error:
        raise _answers_problem(error) from None
    payload = _booking_json(receipt.booking)
    if customer is None:
        # A replay goes only to the holder of the booking's token (may_access_booking): they get it back, not a new one.
        payload["booking_token"] = request.headers["X-Booking-Token"] if receipt.replayed else booking_token(receipt.booking)
    return jsonify(payload), 200 if receipt.replayed else 201, _booking_location(receipt.booking)


@tenant_api.get("/bookings/<token:public_id>")
@customer_optional
def customer_get_booking(public_id: str) -> Response:
    return jsonify(_booking_json(_callers_booking(public_id)))


@tenant_api.post("/bookings/<token:public_id>/cancel")
@customer_optional
def customer_cancel_booking(public_id: str) -> Response:
    body = json_body(BOOKING_CANCEL, required=False)
    booking = _callers_booking(public_id)
    cancellation = bookings.cancel_with_terms(db.session, current_tenant(), booking.public_id, actor=_actor(booking), reason=body.get("reason"))
    return jsonify({**_booking_json(cancellation.booking), "cancellation": present.cancellation_json(cancellation.terms)})


@tenant_api.post("/bookings/<token:public_id>/reschedule")
@customer_optional
def customer_reschedule_booking(public_id: str) -> Response:
    body = json_body(BOOKING_RESCHEDULE)
    starts_at = aware_datetime(body["starts_at"], "/starts_at")
    booking = _callers_booking(public_id)
    moved = bookings.reschedule(db.session, form_registry(), current_tenant(), booking.public_id, starts_at=starts_at, actor=_actor(booking))
    return jsonify(_booking_json(moved))


@tenant_api.post("/bookings/<token:public_id>/pay")
@customer_optional
def customer_pay_booking(public_id: str) -> Response:
    """Opens the held booking's payment with its provider, or answers with the one already open."""
    booking = _callers_booking(public_id)
    if booking.status is not BookingStatus.held:
        raise ApiProblem(409, "booking_not_held", _l("the booking is %(status)s: only a held booking awaits payment", status=booking.status.value))
    instructions = payment_instructions(db.session, booking)
    if instructions is None:  # its hold ended meanwhile, or its payment was settled
        raise ApiProblem(409, "nothing_to_pay", _l("the booking awaits no payment"))
    return jsonify(instructions)


@tenant_api.get("/bookings/<token:public_id>/name-list")
@customer_optional
def customer_get_name_list(public_id: str) -> Response:
    booking = _callers_booking(public_id)
    return jsonify(present.name_list_json(*name_lists.name_list(db.session, current_tenant(), booking.public_id)))


@tenant_api.put("/bookings/<token:public_id>/name-list")
@customer_optional
def customer_put_name_list(public_id: str) -> Response:
    """The file is read only once the booking is found to be the caller's."""
    booking = _callers_booking(public_id)
    listed = name_lists.read_name_list(*request_file((name_lists.XLSX_MEDIA_TYPE, name_lists.CSV_MEDIA_TYPE), name_lists.MAX_BYTES))
    return jsonify(
        present.name_list_json(*name_lists.replace_name_list(db.session, current_tenant(), booking.public_id, listed, now=utcnow(), actor=_actor(booking)))
    )


# --- waitlist -----------------------------------------------------------------------


@tenant_api.post("/waitlist")
@customer_required
def customer_join_waitlist() -> tuple[Response, int]:
    body = json_body(WAITLIST_JOIN)
    starts_at = aware_datetime(body["starts_at"], "/starts_at")
    try:
        entry = waitlist.join(
            db.session,
            form_registry(),
            current_tenant(),
            booking_type_slug=body["booking_type"],
            starts_at=starts_at,
            phone=g.customer.phone,
            answers=body["answers"],
            channel=body.get("channel", "default"),
            party_size=body.get("party_size"),
            tickets=body.get("tickets"),
            auto_confirm=body.get("auto_confirm", False),
            privacy_consent=_privacy_consent(body),
        )
    except InvalidAnswers as error:
        raise _answers_problem(error) from None
    return jsonify(present.waitlist_json(db.session, current_tenant(), entry)), 201


@tenant_api.post("/waitlist/<row_id:entry_id>/accept")
@customer_required
def customer_accept_offer(entry_id: int) -> tuple[Response, int, dict[str, str]]:
    booking = waitlist.accept_offer(db.session, current_tenant(), entry_id, customer=g.customer)
    return jsonify(_booking_json(booking)), 201, _booking_location(booking)


@tenant_api.delete("/waitlist/<row_id:entry_id>")
@customer_required
def customer_leave_waitlist(entry_id: int) -> Response:
    entry = waitlist.leave(db.session, current_tenant(), entry_id, customer=g.customer)
    return jsonify(present.waitlist_json(db.session, current_tenant(), entry))


# --- the customer's own records -----------------------------------------------------


@tenant_api.get("/me/bookings")
@customer_required
def customer_my_bookings() -> Response:
    before_id, limit = page_before(default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    page = bookings.customer_bookings(db.session, current_tenant(), g.customer, before_id=before_id, limit=limit + 1)
    more = len(page) > limit
    page = page[:limit]
    reviews = BookingReviews(db.session, page)
    return jsonify({"bookings": [_booking_json(b, reviews) for b in page], "next_cursor": cursor_before(page[-1].id) if more else None})


@tenant_api.get("/me/companions")
@customer_required
def customer_companions() -> Response:
    return jsonify({"companions": [present.companion_json(c) for c in customers.companions(db.session, g.customer)]})


@tenant_api.post("/me/companions")
@customer_required
def customer_add_companion() -> tuple[Response, int]:
    body = json_body(COMPANION_CREATE)
    companion = customer_account.save_companion(db.session, g.customer, actor=str(Actor("customer", g.customer.id)), **body)
    return jsonify(present.companion_json(companion)), 201


@tenant_api.delete("/me/companions/<row_id:companion_id>")
@customer_required
def customer_remove_companion(companion_id: int) -> tuple[str, int]:
    customer_account.delete_companion(db.session, g.customer, companion_id, actor=str(Actor("customer", g.customer.id)))
    return "", 204
