"""Customer API: booking types and their availability, bookings, the waitlist, and the customer's own records.

Served under ``/api/v1/t/<tenant>/`` to the H5 site, the WeChat mini-program and
integrators. Guests book with a phone number and get a per-booking token;
logged-in customers use their access token. A booking that is not the caller's
answers 404, exactly like one that does not exist, so ids cannot be probed.
Datetimes go out in the tenant's time zone with their offset.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, jsonify, request, url_for

from yuyue.api.auth import booking_token, customer_optional, customer_required, may_access_booking
from yuyue.api.converters import RowIdConverter, SlugConverter, TokenConverter, path_parameter
from yuyue.api.core import json_body
from yuyue.api.limits import booking_limit
from yuyue.api.problems import ApiProblem
from yuyue.api.query import query_int
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.bookings import operations as bookings
from yuyue.bookings import waitlist
from yuyue.bookings.checkin import voucher_qr
from yuyue.bookings.models import Booking, BookingStatus, WaitlistEntry
from yuyue.bookings.placement import Actor, booking_type_by_slug, booking_type_with_form, get_booking
from yuyue.catalog.models import BookingType, BookingTypeStatus
from yuyue.catalog.operations import list_booking_types
from yuyue.customers import operations as customers
from yuyue.customers.models import Companion, Customer
from yuyue.db import db
from yuyue.errors import FieldProblem, InvalidInput, NotFound
from yuyue.forms.models import FormVersion
from yuyue.forms.registry import form_registry
from yuyue.forms.validation import InvalidAnswers
from yuyue.payments.operations import payment_instructions
from yuyue.scheduling.availability import SlotAvailability, list_availability
from yuyue.scheduling.registry import slot_rules
from yuyue.types import MAX_INTEGER, bounded_integer, utcnow

LOCALES = ("zh-Hans", "zh-Hant", "en")
DEFAULT_LOCALE = "zh-Hans"
# Accept-Language tags (lower case, most specific first) and the locale each means.
LANGUAGE_TAGS = (
    ("zh-hant", "zh-Hant"),
    ("zh-tw", "zh-Hant"),
    ("zh-hk", "zh-Hant"),
    ("zh-mo", "zh-Hant"),
    ("zh", "zh-Hans"),
    ("en", "en"),
)
MAX_AVAILABILITY_DAYS = 62
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_IDEMPOTENCY_KEY = 100
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The years a date or time sent to the API may fall in: any booking fits, and the ends of Python's calendar
# (year 1 or 9999 moved across a UTC offset overflows) and the local mean time of old dates (+08:05:43) stay out.
FIRST_YEAR, LAST_YEAR = 2000, 2999

# View functions are named customer_*: endpoint names share tenant_api with the merchant API.

# --- request bodies -----------------------------------------------------------------

STARTS_AT = {
    "type": "string",
    "format": "date-time",
    "maxLength": 64,
    "description": f"the slot's start, ISO 8601 with a UTC offset, in the years {FIRST_YEAR} to {LAST_YEAR}",
}
BOOKING_REQUEST_FIELDS = {
    "booking_type": {"type": "string", "minLength": 1, "maxLength": 60, "description": "the booking type's slug"},
    "starts_at": STARTS_AT,
    "channel": {"type": "string", "minLength": 1, "maxLength": 40, "default": "default"},
    "party_size": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "people on a booking whose form names nobody; default 1"},
    "answers": {"type": "object", "description": "the booking form's answers, validated against the booking type's form schema"},
}
BOOKING_CREATE = {
    "type": "object",
    "required": ["booking_type", "starts_at", "answers"],
    "additionalProperties": False,
    "properties": {
        **BOOKING_REQUEST_FIELDS,
        "phone": {"type": "string", "minLength": 1, "maxLength": 30, "description": "required for a guest; a logged-in customer books as themself"},
    },
}
BOOKING_CANCEL = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"reason": {"type": "string", "maxLength": 200}},
}
BOOKING_RESCHEDULE = {
    "type": "object",
    "required": ["starts_at"],
    "additionalProperties": False,
    "properties": {"starts_at": STARTS_AT},
}
WAITLIST_JOIN = {
    "type": "object",
    "required": ["booking_type", "starts_at", "answers"],
    "additionalProperties": False,
    "properties": {
        **BOOKING_REQUEST_FIELDS,
        "auto_confirm": {"type": "boolean", "default": False, "description": "book at once when a place frees, instead of being offered it"},
    },
}
COMPANION_CREATE = {
    "type": "object",
    "required": ["name", "id_number"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "id_number": {
            "type": "string",
            "minLength": 1,
            "maxLength": 32,
            "description": "mainland resident ID number; a companion with the same one is updated",
        },
        "phone": {"type": "string", "minLength": 1, "maxLength": 30},
        "relation": {"type": "string", "minLength": 1, "maxLength": 40},
    },
}


# --- language -----------------------------------------------------------------------


def localize(value: Any, locale: str) -> Any:
    """The ``locale`` text of a localized value (``{"zh-Hans": …, "en": …}``), falling back to the others; other values as they are."""
    if not is_localized(value):
        return value
    for candidate in (locale, DEFAULT_LOCALE, *LOCALES):
        if value.get(candidate):
            return value[candidate]
    return None


def is_localized(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and value.keys() <= set(LOCALES) and all(isinstance(v, str) for v in value.values())


def localize_all(value: Any, locale: str) -> Any:
    """``value`` with every localized text inside it (a UI schema's labels, placeholders, help) in ``locale``."""
    if is_localized(value):
        return localize(value, locale)
    if isinstance(value, Mapping):
        return {key: localize_all(item, locale) for key, item in value.items()}
    if isinstance(value, list):
        return [localize_all(item, locale) for item in value]
    return value


def request_locale() -> str:
    """``?lang=`` if given, else the best of ``Accept-Language``, else zh-Hans."""
    asked = request.args.get("lang")
    if asked is not None:
        if asked not in LOCALES:
            raise InvalidInput("the language is not supported", errors=[FieldProblem("/lang", f"one of {', '.join(LOCALES)}", "unsupported_language")])
        return asked
    for tag, _quality in request.accept_languages:
        tag = tag.lower()
        for prefix, locale in LANGUAGE_TAGS:
            if tag == prefix or tag.startswith(prefix + "-"):
                return locale
    return DEFAULT_LOCALE


def _localized(payload: Any, locale: str, status: int = 200) -> tuple[Response, int, dict[str, str]]:
    return jsonify(payload), status, {"Content-Language": locale, "Vary": "Accept-Language"}


# --- input --------------------------------------------------------------------------


_YEARS = f"a date from {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31"


def aware_datetime(value: str, at: str) -> datetime:
    """An ISO 8601 date and time with a UTC offset; anything else is a 422 at ``at``."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput(
            "the date and time are not valid", errors=[FieldProblem(at, "an ISO 8601 date and time, e.g. 2026-12-09T09:00:00+08:00", "invalid_datetime")]
        )
    if parsed.tzinfo is None:
        raise InvalidInput("the date and time need a UTC offset", errors=[FieldProblem(at, "include a UTC offset, e.g. +08:00", "naive_datetime")])
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise InvalidInput("the date and time are out of range", errors=[FieldProblem(at, _YEARS, "out_of_range")])
    return parsed


def _query_date(name: str, problems: list[FieldProblem]) -> date | None:
    value = request.args.get(name)
    if value is None:
        problems.append(FieldProblem(f"/{name}", "this field is required", "required"))
        return None
    try:
        parsed = date.fromisoformat(value) if ISO_DATE.match(value) else None
    except ValueError:
        parsed = None
    if parsed is None:
        problems.append(FieldProblem(f"/{name}", "a date as YYYY-MM-DD", "invalid_date"))
    elif not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        problems.append(FieldProblem(f"/{name}", _YEARS, "out_of_range"))
        parsed = None
    return parsed


def availability_range() -> tuple[date, date]:
    """``?from=&to=`` (local dates, inclusive), at most :data:`MAX_AVAILABILITY_DAYS` days."""
    problems: list[FieldProblem] = []
    first, last = _query_date("from", problems), _query_date("to", problems)
    if first and last and last < first:
        problems.append(FieldProblem("/to", "must not be before 'from'", "invalid_range"))
    elif first and last and (last - first).days + 1 > MAX_AVAILABILITY_DAYS:
        problems.append(FieldProblem("/to", f"at most {MAX_AVAILABILITY_DAYS} days from 'from'", "range_too_long"))
    if problems:
        raise InvalidInput("the date range is not valid", errors=problems)
    return first, last


def _page() -> tuple[int | None, int]:
    """``?cursor=&limit=``: the id to continue before, and the page size."""
    problems: list[FieldProblem] = []
    try:
        limit = query_int("limit", minimum=1, maximum=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)
    except InvalidInput as error:
        limit, problems = DEFAULT_PAGE_SIZE, error.errors
    cursor = request.args.get("cursor")
    before_id = _decode_cursor(cursor) if cursor else None
    if cursor and before_id is None:
        problems.append(FieldProblem("/cursor", "pass back a next_cursor exactly as received", "invalid_cursor"))
    if problems:
        raise InvalidInput("the page is not valid", errors=problems)
    return before_id, limit


def _encode_cursor(booking: Booking) -> str:
    return base64.urlsafe_b64encode(f"b{booking.id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(text[1:]) if text[:1] == "b" and text[1:].isdigit() and len(text) < 20 else None


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not key.isprintable() or not key.isascii():
        raise ApiProblem(400, "invalid_idempotency_key", f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} printable ASCII characters")
    return key


def _answers_problem(error: InvalidAnswers) -> InvalidInput:
    """Form problems point into the answers; in the request body they sit under ``/answers``."""
    return InvalidInput(error.message, code=error.code, errors=[FieldProblem("/answers" + p.pointer, p.message, p.code) for p in error.errors])


# --- output -------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(current_tenant().time_zone)


def _local(moment: datetime | None) -> str | None:
    return moment.astimezone(_zone()).isoformat() if moment is not None else None


def _booking_type_slug(booking_type_id: int) -> str:
    return db.session.get(BookingType, booking_type_id).slug


def booking_type_summary(booking_type: BookingType, locale: str) -> dict[str, Any]:
    return {
        "slug": booking_type.slug,
        "vertical": booking_type.vertical,
        "name": localize(booking_type.name, locale),
        "description": localize(booking_type.description, locale),
        "price_amount": booking_type.price_amount,
        "currency": booking_type.currency,
        "max_party_size": booking_type.max_party_size,
    }


def booking_type_detail(booking_type: BookingType, form_version: FormVersion, locale: str) -> dict[str, Any]:
    return {
        **booking_type_summary(booking_type, locale),
        "form_version": form_version.version,
        "form_schema": form_registry().compiled(form_version.definition),
        "ui_schema": localize_all(form_version.ui, locale),
        "availability_rules": booking_type.availability_rules,
        "policies": booking_type.policies,
        "hold_minutes": booking_type.hold_minutes if booking_type.price_amount > 0 else 0,
        "time_zone": current_tenant().time_zone,
    }


def slot_json(slot: SlotAvailability, locale: str) -> dict[str, Any]:
    return {
        "starts_at": _local(slot.starts_at),
        "ends_at": _local(slot.ends_at),
        "local_date": slot.local_date.isoformat(),
        "channel": slot.channel,
        "capacity": slot.capacity,
        "remaining": slot.remaining,
        "bookable": slot.bookable,
        "reason": slot.reason,
        "label": localize(slot.label, locale),
    }


def booking_json(booking: Booking) -> dict[str, Any]:
    voucher = None
    if booking.status is BookingStatus.confirmed and booking.voucher_code:
        voucher = {"code": booking.voucher_code, "qr": voucher_qr(current_app.config["SECRET_KEY"], current_tenant(), booking)}
    return {
        "id": booking.public_id,
        "booking_type": booking.booking_type.slug,
        "status": booking.status.value,
        "starts_at": _local(booking.starts_at),
        "ends_at": _local(booking.ends_at),
        "local_date": booking.local_date.isoformat(),
        "channel": booking.channel,
        "party_size": booking.party_size,
        "price_amount": booking.price_amount,
        "currency": booking.currency,
        "hold_expires_at": _local(booking.hold_expires_at),
        "form_version": booking.form_version,
        "answers": booking.answers,
        "voucher": voucher,
        # What to do to pay, while the booking is held awaiting payment.
        "payment": payment_instructions(db.session, booking) if booking.status is BookingStatus.held else None,
        "reschedule_count": booking.reschedule_count,
        "created_at": _local(booking.created_at),
    }


def waitlist_json(entry: WaitlistEntry) -> dict[str, Any]:
    booking_id = None
    if entry.booking_id is not None:
        booking_id = db.session.get(Booking, entry.booking_id).public_id
    return {
        "id": entry.id,
        "booking_type": _booking_type_slug(entry.booking_type_id),
        "starts_at": _local(entry.starts_at),
        "channel": entry.channel,
        "party_size": entry.party_size,
        "auto_confirm": entry.auto_confirm,
        "status": entry.status.value,
        "offer_expires_at": _local(entry.offer_expires_at),
        "booking": booking_id,
        "created_at": _local(entry.created_at),
    }


def companion_json(companion: Companion) -> dict[str, Any]:
    return {
        "id": companion.id,
        "name": companion.name,
        "id_number": companion.id_number,
        "phone": companion.phone,
        "relation": companion.relation,
        "birth_date": companion.birth_date.isoformat() if companion.birth_date else None,
    }


def _booking_location(booking: Booking) -> dict[str, str]:
    return {"Location": url_for(".customer_get_booking", tenant_slug=current_tenant().slug, public_id=booking.public_id)}


# --- who may act on a booking -------------------------------------------------------


def _callers_booking(public_id: str) -> Booking:
    """The booking if the caller is its customer or holds its booking token; otherwise as absent as a missing one."""
    booking = get_booking(db.session, public_id)
    if not may_access_booking(booking):
        raise NotFound(f"no booking {public_id!r}", code="booking_not_found")
    return booking


def _actor(booking: Booking) -> Actor:
    customer = g.customer or db.session.get(Customer, booking.customer_id)
    return Actor("customer", customer.phone)


# --- booking types ------------------------------------------------------------------


@tenant_api.get("/booking-types")
def customer_booking_types() -> tuple[Response, int, dict[str, str]]:
    locale = request_locale()
    active = [t for t in list_booking_types(db.session, current_tenant()) if t.status is BookingTypeStatus.active]
    return _localized({"booking_types": [booking_type_summary(t, locale) for t in active]}, locale)


@tenant_api.get("/booking-types/<slug:slug>")
def customer_booking_type(slug: str) -> tuple[Response, int, dict[str, str]]:
    locale = request_locale()
    return _localized(booking_type_detail(*booking_type_with_form(db.session, slug), locale), locale)


@tenant_api.get("/booking-types/<slug:slug>/availability")
def customer_availability(slug: str) -> tuple[Response, int, dict[str, str]]:
    locale = request_locale()
    first, last = availability_range()
    booking_type = booking_type_by_slug(db.session, slug)
    slots = list_availability(db.session, booking_type, _zone(), first, last, utcnow(), registry=slot_rules())
    return _localized({"time_zone": current_tenant().time_zone, "slots": [slot_json(s, locale) for s in slots]}, locale)


# --- bookings -----------------------------------------------------------------------


@tenant_api.post("/bookings")
@customer_optional
@booking_limit
def customer_create_booking() -> tuple[Response, int, dict[str, str]]:
    body = json_body(BOOKING_CREATE)
    starts_at = aware_datetime(body["starts_at"], "/starts_at")
    customer: Customer | None = g.customer
    if customer is None and "phone" not in body:
        raise InvalidInput("a guest booking needs a phone number", errors=[FieldProblem("/phone", "required unless you log in", "required")])
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
            idempotency_key=_idempotency_key(),
            may_replay=may_access_booking,
        )
    except InvalidAnswers as error:
        raise _answers_problem(error) from None
    payload = booking_json(receipt.booking)
    if customer is None:
        # A replay goes only to the holder of the booking's token (may_access_booking): they get it back, not a new one.
        payload["booking_token"] = request.headers["X-Booking-Token"] if receipt.replayed else booking_token(receipt.booking)
    return jsonify(payload), 200 if receipt.replayed else 201, _booking_location(receipt.booking)


@tenant_api.get("/bookings/<token:public_id>")
@customer_optional
def customer_get_booking(public_id: str) -> Response:
    return jsonify(booking_json(_callers_booking(public_id)))


@tenant_api.post("/bookings/<token:public_id>/cancel")
@customer_optional
def customer_cancel_booking(public_id: str) -> Response:
    body = json_body(BOOKING_CANCEL, required=False)
    booking = _callers_booking(public_id)
    cancellation = bookings.cancel_with_terms(db.session, current_tenant(), booking.public_id, actor=_actor(booking), reason=body.get("reason"))
    terms = cancellation.terms
    return jsonify(
        {
            **booking_json(cancellation.booking),
            "cancellation": {
                "terms": terms.code,
                "late": terms.late,
                "points_deducted": terms.points,
                "fee_percent": terms.fee_percent,
                "counts_as_no_show": terms.counts_as_no_show,
            },
        }
    )


@tenant_api.post("/bookings/<token:public_id>/reschedule")
@customer_optional
def customer_reschedule_booking(public_id: str) -> Response:
    body = json_body(BOOKING_RESCHEDULE)
    starts_at = aware_datetime(body["starts_at"], "/starts_at")
    booking = _callers_booking(public_id)
    moved = bookings.reschedule(db.session, form_registry(), current_tenant(), booking.public_id, starts_at=starts_at, actor=_actor(booking))
    return jsonify(booking_json(moved))


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
            auto_confirm=body.get("auto_confirm", False),
        )
    except InvalidAnswers as error:
        raise _answers_problem(error) from None
    return jsonify(waitlist_json(entry)), 201


@tenant_api.post("/waitlist/<row_id:entry_id>/accept")
@customer_required
def customer_accept_offer(entry_id: int) -> tuple[Response, int, dict[str, str]]:
    booking = waitlist.accept_offer(db.session, current_tenant(), entry_id, customer=g.customer)
    return jsonify(booking_json(booking)), 201, _booking_location(booking)


@tenant_api.delete("/waitlist/<row_id:entry_id>")
@customer_required
def customer_leave_waitlist(entry_id: int) -> Response:
    return jsonify(waitlist_json(waitlist.leave(db.session, current_tenant(), entry_id, customer=g.customer)))


# --- the customer's own records -----------------------------------------------------


@tenant_api.get("/me/bookings")
@customer_required
def customer_my_bookings() -> Response:
    before_id, limit = _page()
    page = bookings.customer_bookings(db.session, current_tenant(), g.customer, before_id=before_id, limit=limit + 1)
    more = len(page) > limit
    page = page[:limit]
    return jsonify({"bookings": [booking_json(b) for b in page], "next_cursor": _encode_cursor(page[-1]) if more else None})


@tenant_api.get("/me/companions")
@customer_required
def customer_companions() -> Response:
    return jsonify({"companions": [companion_json(c) for c in customers.companions(db.session, g.customer)]})


@tenant_api.post("/me/companions")
@customer_required
def customer_add_companion() -> tuple[Response, int]:
    body = json_body(COMPANION_CREATE)
    companion = customers.save_companion(db.session, g.customer, actor=str(Actor("customer", g.customer.phone)), **body)
    return jsonify(companion_json(companion)), 201


@tenant_api.delete("/me/companions/<row_id:companion_id>")
@customer_required
def customer_remove_companion(companion_id: int) -> tuple[str, int]:
    customers.delete_companion(db.session, g.customer, companion_id, actor=str(Actor("customer", g.customer.phone)))
    return "", 204


# --- OpenAPI ------------------------------------------------------------------------

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 in the tenant's time zone, with its offset"}
_LANG = {"name": "lang", "in": "query", "required": False, "schema": {"enum": list(LOCALES)}, "description": "overrides Accept-Language"}
_ACCEPT_LANGUAGE = {"name": "Accept-Language", "in": "header", "required": False, "schema": {"type": "string"}, "description": "zh-Hans (default), zh-Hant, en"}
_TENANT = path_parameter("tenant_slug", SlugConverter, "the tenant's slug")
_PUBLIC_ID = path_parameter("public_id", TokenConverter, "the booking's id")
_SLUG = path_parameter("slug", SlugConverter, "the booking type's slug")
_ENTRY_ID = path_parameter("entry_id", RowIdConverter, "the waitlist entry's id")
_COMPANION_ID = path_parameter("companion_id", RowIdConverter, "the companion's id")
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
    "description": (
        "sending the same request again with the same key takes no second place and answers 200 with the first booking, but only to "
        "the logged-in customer who made it or a guest sending its X-Booking-Token; anyone else (a guest without the token too) "
        "gets 409 idempotency_key_reused with nothing of the booking, and a guest who lost the first answer logs in with a code "
        "sent to the phone to see it"
    ),
}
_BOOKING_TOKEN = {
    "name": "X-Booking-Token",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "a guest's booking token, from the response that created the booking",
}
_ERRORS = {
    400: "malformed JSON or header",
    401: "missing, invalid or expired access token",
    403: "the tenant is suspended (tenant_suspended)",
    404: "no such tenant, booking type, booking or entry, or not the caller's",
    409: "a booking rule refuses: code names it (slot_full, quota_exceeded, banned, cancellation_closed, …)",
    422: "invalid input; errors point at each field",
    429: "too many bookings; retry after Retry-After seconds",
}

BOOKING_TYPE_SUMMARY = {
    "type": "object",
    "properties": {
        "slug": {"type": "string"},
        "vertical": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "description": {"type": ["string", "null"]},
        "price_amount": bounded_integer(description="per person, in minor units (fen)"),
        "currency": {"type": "string"},
        "max_party_size": bounded_integer(),
    },
}
BOOKING_TYPE_DETAIL = {
    "type": "object",
    "properties": {
        **BOOKING_TYPE_SUMMARY["properties"],
        "form_version": bounded_integer(1),
        "form_schema": {"type": "object", "description": "JSON Schema (2020-12) of the answers a booking must give"},
        "ui_schema": {"type": "object", "description": "field order, widgets, labels, placeholders and help, in the request's language"},
        "availability_rules": {"type": "array", "items": {"type": "object"}},
        "policies": {"type": "object", "description": "quotas, minors, cancellation, reschedule, no-show and waitlist rules"},
        "hold_minutes": bounded_integer(description="how long an unpaid booking keeps its place (0: confirmed at once)"),
        "time_zone": {"type": "string"},
    },
}
SLOT = {
    "type": "object",
    "properties": {
        "starts_at": _TIME,
        "ends_at": _TIME,
        "local_date": {"type": "string", "format": "date"},
        "channel": {"type": "string"},
        "capacity": bounded_integer(),
        "remaining": bounded_integer(-MAX_INTEGER),
        "bookable": {"type": "boolean"},
        "reason": {"type": ["string", "null"], "description": "why not bookable: slot_full, booking_not_open, booking_closed, …"},
        "label": {"description": "the slot's label, if the rules give one"},
    },
}
BOOKING = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "booking_type": {"type": "string"},
        "status": {"enum": [s.value for s in BookingStatus]},
        "starts_at": _TIME,
        "ends_at": _TIME,
        "local_date": {"type": "string", "format": "date"},
        "channel": {"type": "string"},
        "party_size": bounded_integer(),
        "price_amount": bounded_integer(description="in minor units (fen)"),
        "currency": {"type": "string"},
        "hold_expires_at": _NULLABLE_TIME,
        "form_version": bounded_integer(1),
        "answers": {"type": "object"},
        "voucher": {
            "type": ["object", "null"],
            "description": "when confirmed: the code to show at the gate and the signed payload of its QR code",
            "properties": {"code": {"type": "string"}, "qr": {"type": "string"}},
        },
        "payment": {
            "type": ["object", "null"],
            "description": "while held awaiting payment: the provider, reference, amount, pay-by time and what to do (pay_url and params for online providers)",
            "properties": {
                "provider": {"type": "string"},
                "reference": {"type": "string"},
                "status": {"type": "string"},
                "amount": bounded_integer(),
                "currency": {"type": "string"},
                "pay_by": {"type": ["string", "null"]},
            },
        },
        "reschedule_count": bounded_integer(),
        "created_at": _TIME,
        "booking_token": {"type": "string", "description": "guests only, on creation: send it as X-Booking-Token to read or change this booking"},
    },
}
CANCELLED_BOOKING = {
    "type": "object",
    "properties": {
        **BOOKING["properties"],
        "cancellation": {
            "type": "object",
            "properties": {
                "terms": {"type": "string", "description": "on_time, late_deduct_points, late_fee, late_no_show"},
                "late": {"type": "boolean"},
                "points_deducted": bounded_integer(),
                "fee_percent": bounded_integer(),
                "counts_as_no_show": {"type": "boolean"},
            },
        },
    },
}
WAITLIST_ENTRY = {
    "type": "object",
    "properties": {
        "id": bounded_integer(1),
        "booking_type": {"type": "string"},
        "starts_at": _TIME,
        "channel": {"type": "string"},
        "party_size": bounded_integer(),
        "auto_confirm": {"type": "boolean"},
        "status": {"enum": ["waiting", "offered", "accepted", "expired", "cancelled"]},
        "offer_expires_at": _NULLABLE_TIME,
        "booking": {"type": ["string", "null"], "description": "the booking's id once accepted"},
        "created_at": _TIME,
    },
}
COMPANION = {
    "type": "object",
    "properties": {
        "id": bounded_integer(1),
        "name": {"type": "string"},
        "id_number": {"type": ["string", "null"]},
        "phone": {"type": ["string", "null"]},
        "relation": {"type": ["string", "null"]},
        "birth_date": {"type": ["string", "null"], "format": "date"},
    },
}


def _operation(
    summary: str,
    ok: int,
    ok_schema: dict[str, Any] | None,
    *,
    auth: str = "none",
    body: dict[str, Any] | None = None,
    body_required: bool = True,
    parameters: list[dict[str, Any]] = (),
    errors: tuple[int, ...] = (),
    described: dict[int, str] | None = None,
) -> dict[str, Any]:
    ok_response: dict[str, Any] = {"description": "OK"}
    if ok_schema is not None:
        ok_response["content"] = {"application/json": {"schema": ok_schema}}
    responses: dict[str, Any] = {str(ok): ok_response}
    for status in sorted({403, 404, *errors}):
        description = (described or {}).get(status, _ERRORS[status])
        responses[str(status)] = {"description": description, "content": {"application/problem+json": {"schema": _PROBLEM_REF}}}
    security = {"none": [], "customer": [{"customerToken": []}], "optional": [{"customerToken": []}, {"bookingToken": []}, {}]}[auth]
    operation: dict[str, Any] = {"summary": summary, "tags": ["customer"], "security": security, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": body}}}
    if parameters:
        operation["parameters"] = list(parameters)
    return operation


PREFIX = "/api/v1/t/{tenant_slug}"
OPENAPI_SECURITY_SCHEMES: dict[str, Any] = {
    "customerToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "a customer's access token, from the auth endpoints"},
    "bookingToken": {"type": "apiKey", "in": "header", "name": "X-Booking-Token", "description": "a guest's token for one booking"},
}
OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/booking-types": {
        "parameters": [_TENANT],
        "get": _operation(
            "List the booking types open for booking, in the request's language",
            200,
            {"type": "object", "properties": {"booking_types": {"type": "array", "items": BOOKING_TYPE_SUMMARY}}},
            parameters=[_LANG, _ACCEPT_LANGUAGE],
            errors=(422,),
        ),
    },
    f"{PREFIX}/booking-types/{{slug}}": {
        "parameters": [_TENANT, _SLUG],
        "get": _operation(
            "A booking type with its current form, UI schema, rules and policies", 200, BOOKING_TYPE_DETAIL, parameters=[_LANG, _ACCEPT_LANGUAGE], errors=(422,)
        ),
    },
    f"{PREFIX}/booking-types/{{slug}}/availability": {
        "parameters": [_TENANT, _SLUG],
        "get": _operation(
            f"Slots of local days from … to (inclusive, at most {MAX_AVAILABILITY_DAYS}) with capacity and places remaining",
            200,
            {"type": "object", "properties": {"time_zone": {"type": "string"}, "slots": {"type": "array", "items": SLOT}}},
            parameters=[
                {"name": "from", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}, "description": _YEARS},
                {"name": "to", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}, "description": _YEARS},
                _LANG,
                _ACCEPT_LANGUAGE,
            ],
            errors=(422,),
        ),
    },
    f"{PREFIX}/bookings": {
        "parameters": [_TENANT],
        "post": _operation(
            "Book a slot, as a logged-in customer or as a guest with a phone number; 200 when the caller's same request was made before with this Idempotency-Key",
            201,
            BOOKING,
            auth="optional",
            body=BOOKING_CREATE,
            parameters=[_IDEMPOTENCY_KEY, _BOOKING_TOKEN],
            errors=(400, 401, 409, 422, 429),
            described={
                409: "slot_full, a booking rule's code, or idempotency_key_reused: the key was used before, by another request or "
                "for a booking the caller neither made logged in nor holds the token of; the answer holds nothing of that booking"
            },
        ),
    },
    f"{PREFIX}/bookings/{{public_id}}": {
        "parameters": [_TENANT, _PUBLIC_ID],
        "get": _operation("One of the caller's bookings", 200, BOOKING, auth="optional", parameters=[_BOOKING_TOKEN], errors=(401,)),
    },
    f"{PREFIX}/bookings/{{public_id}}/cancel": {
        "parameters": [_TENANT, _PUBLIC_ID],
        "post": _operation(
            "Cancel one of the caller's bookings under its booking type's terms, which the answer shows",
            200,
            CANCELLED_BOOKING,
            auth="optional",
            body=BOOKING_CANCEL,
            body_required=False,
            parameters=[_BOOKING_TOKEN],
            errors=(400, 401, 409, 422),
        ),
    },
    f"{PREFIX}/bookings/{{public_id}}/reschedule": {
        "parameters": [_TENANT, _PUBLIC_ID],
        "post": _operation(
            "Move one of the caller's bookings to another slot of its type",
            200,
            BOOKING,
            auth="optional",
            body=BOOKING_RESCHEDULE,
            parameters=[_BOOKING_TOKEN],
            errors=(400, 401, 409, 422),
        ),
    },
    f"{PREFIX}/waitlist": {
        "parameters": [_TENANT],
        "post": _operation("Queue for a full slot", 201, WAITLIST_ENTRY, auth="customer", body=WAITLIST_JOIN, errors=(400, 401, 409, 422)),
    },
    f"{PREFIX}/waitlist/{{entry_id}}/accept": {
        "parameters": [_TENANT, _ENTRY_ID],
        "post": _operation("Accept a waitlist offer: book the place it holds", 201, BOOKING, auth="customer", errors=(401, 409)),
    },
    f"{PREFIX}/waitlist/{{entry_id}}": {
        "parameters": [_TENANT, _ENTRY_ID],
        "delete": _operation("Leave the waitlist; an offered place goes to the next in line", 200, WAITLIST_ENTRY, auth="customer", errors=(401, 409)),
    },
    f"{PREFIX}/me/bookings": {
        "parameters": [_TENANT],
        "get": _operation(
            "The customer's bookings, newest first, in pages",
            200,
            {"type": "object", "properties": {"bookings": {"type": "array", "items": BOOKING}, "next_cursor": {"type": ["string", "null"]}}},
            auth="customer",
            parameters=[
                {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}, "description": "next_cursor of the previous page"},
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
                },
            ],
            errors=(401, 422),
        ),
    },
    f"{PREFIX}/me/companions": {
        "parameters": [_TENANT],
        "get": _operation(
            "The customer's companions",
            200,
            {"type": "object", "properties": {"companions": {"type": "array", "items": COMPANION}}},
            auth="customer",
            errors=(401,),
        ),
        "post": _operation(
            "Add a companion, or update the one with the same ID number", 201, COMPANION, auth="customer", body=COMPANION_CREATE, errors=(400, 401, 422)
        ),
    },
    f"{PREFIX}/me/companions/{{companion_id}}": {
        "parameters": [_TENANT, _COMPANION_ID],
        "delete": _operation("Remove a companion", 204, None, auth="customer", errors=(401,)),
    },
}

__all__ = ["OPENAPI_PATHS", "OPENAPI_SECURITY_SCHEMES", "localize"]
