"""Booking on the site (decisions §51): a booking type's days and slots, the form, placing the booking, and its voucher (QR code, ``.ics``).

Views are thin: the slots come from the availability the API serves, the booking is placed by the
same ``bookings.book_once`` the API calls, and the voucher shows what the API's booking JSON holds.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, redirect, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from yuyue.api.limits import by_address, by_customer_or_address, rate_limit
from yuyue.bookings import operations as bookings
from yuyue.bookings.consents import PrivacyConsent
from yuyue.bookings.models import Booking, BookingPerson, BookingStatus, ConsentChannel
from yuyue.bookings.placement import booking_type_by_slug, booking_type_with_form, find_slot, get_booking
from yuyue.catalog.models import BookingType
from yuyue.catalog.privacy_notices import current_notice
from yuyue.catalog.stops import route_stops
from yuyue.customers import operations as customers
from yuyue.customers.models import Customer
from yuyue.db import db
from yuyue.errors import DomainError, FieldProblem, InvalidInput, NotFound
from yuyue.forms.models import FormVersion
from yuyue.forms.registry import form_registry
from yuyue.forms.validation import InvalidAnswers
from yuyue.presenting import customer as present
from yuyue.presenting.form_html import read_form, render_form
from yuyue.presenting.language import localize, localize_all
from yuyue.presenting.reviews import public_rating_json
from yuyue.presenting.route import chosen_stops
from yuyue.presenting.vouchers import calendar_file, qr_svg
from yuyue.site.base import current_tenant, may_see_booking, remember_booking, render_page, signed_in_customer, site
from yuyue.site.booking_input import (
    KEY_PREFIX,
    PageProblems,
    asks_party_size,
    issue_form_key,
    issued_form_key,
    person_list,
    read_quantity,
    slot_start,
    sort_problems,
    with_companions,
)
from yuyue.site.feedback import posted_review, review_form, save_review
from yuyue.site.personal import customer_or_login
from yuyue.site.slots import DEFAULT_CHANNEL, channel_name, day_slots, reader_locale
from yuyue.types import utcnow

__all__ = ["DAYS_IN_STRIP", "DAYS_AHEAD"]

# The date strip: this many days a page, from today.
DAYS_IN_STRIP = 14
# The furthest day a booking type's page shows; further is a 404 page (no booking window opens a year ahead).
DAYS_AHEAD = 366
NO_STORE = {"Cache-Control": "no-store"}
# A notice version as the consent box posts it (an id column's digits).
VERSION = re.compile(r"[1-9][0-9]{0,8}")
# The field type whose answers are a route's stop codes (``yuyue.forms.fields``): the page offers the stops to choose from.
STOP_FIELD = "route_stop"


def _zone() -> ZoneInfo:
    return ZoneInfo(current_tenant().time_zone)


def _by_customer_or_address() -> str:
    """The signed-in customer (the API's bucket for them), else the address: the API's ``booking_limit`` for a form post."""
    customer = signed_in_customer()
    return f"customer:{customer.id}" if customer is not None else by_address()


# --- a booking type's days --------------------------------------------------------------------


def _chosen_day(today: date) -> date:
    """``?day=`` (a local date from today to :data:`DAYS_AHEAD` days on), else today; anything else is a 404 page."""
    text = request.args.get("day")
    if text is None:
        return today
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not today <= day <= today + timedelta(days=DAYS_AHEAD):
        raise NotFound(_("There are no slots to show for that day."), code="no_such_day")
    return day


def _strip(slug: str, today: date, day: date) -> dict[str, Any]:
    """The page of :data:`DAYS_IN_STRIP` days holding ``day``, with links to the pages before and after."""
    first = today + timedelta(days=(day - today).days // DAYS_IN_STRIP * DAYS_IN_STRIP)
    days = [first + timedelta(days=n) for n in range(DAYS_IN_STRIP)]

    def link(to: date) -> str | None:
        return url_for("site.booking_type", type_slug=slug, day=to.isoformat()) if today <= to <= today + timedelta(days=DAYS_AHEAD) else None

    return {
        "days": [{"day": d, "url": link(d), "current": d == day, "today": d == today} for d in days if link(d)],
        "earlier": link(first - timedelta(days=DAYS_IN_STRIP)) if first > today else None,
        "later": link(first + timedelta(days=DAYS_IN_STRIP)),
    }


@site.get("/book/<slug:type_slug>/")
def booking_type(type_slug: str) -> Response:
    tenant, now = current_tenant(), utcnow()
    chosen = booking_type_by_slug(db.session, type_slug)
    today = now.astimezone(_zone()).date()
    day = _chosen_day(today)
    return render_page(
        "site/booking_type.html",
        booking_type=chosen,
        name=localize(chosen.name, reader_locale()),
        description=localize(chosen.description, reader_locale()),
        day=day,
        strip=_strip(type_slug, today, day),
        slots=day_slots(db.session, tenant, chosen, day, day, now),
        ratings=public_rating_json(db.session, chosen, reader_locale()),
    )


# --- the form ---------------------------------------------------------------------------------


def _with_stop_choices(definition: dict[str, Any], ui: dict[str, Any], booking_type: BookingType, starts_at: datetime) -> tuple[dict, dict]:
    """The form with its route-stop fields offered as a choice of the route's stops, each with the time the trip reaches it."""
    fields = definition.get("properties") or {}
    stop_fields = [name for name, spec in fields.items() if isinstance(spec, dict) and spec.get("x-field") == STOP_FIELD]
    if not stop_fields:
        return definition, ui
    locale, zone = reader_locale(), _zone()
    stops = route_stops(db.session, booking_type.id)
    options = [
        {"value": stop.code, "label": f"{localize(stop.name, locale)} · {stop.reached_at(starts_at).astimezone(zone):%H:%M}", "kind": stop.kind}
        for stop in stops
    ]
    definition = {**definition, "properties": {**fields, **{name: {**fields[name], "x-options": options} for name in stop_fields}}}
    ui_fields = dict(ui.get("fields") or {})
    for name in stop_fields:
        ui_fields[name] = {**(ui_fields.get(name) or {}), "widget": "select"}
    return definition, {**ui, "fields": ui_fields}


class _Slot:
    """The slot and channel a form books, read from ``?at=&channel=`` (or the posted fields) and checked against the booking type."""

    def __init__(self, booking_type: BookingType, values: MultiDict) -> None:
        self.starts_at = slot_start(values.get("at"))
        slot = find_slot(booking_type, _zone(), self.starts_at)
        self.channel = values.get("channel") or DEFAULT_CHANNEL
        if self.channel not in slot.capacities:
            raise InvalidInput(_("Choose a time from the booking page."), code="unknown_channel")
        self.ends_at, self.label = slot.ends_at, localize(slot.label, reader_locale())
        self.channel_name = channel_name(self.channel)
        self.query = {"at": self.starts_at.astimezone(_zone()).isoformat(), **({"channel": self.channel} if self.channel != DEFAULT_CHANNEL else {})}


def _form_page(
    booking_type: BookingType,
    form_version: FormVersion,
    slot: _Slot,
    *,
    form_key: str,
    values: MultiDict | None = None,
    answers: dict[str, Any] | None = None,
    problems: PageProblems | None = None,
    status: int = 200,
) -> Response:
    locale, customer = reader_locale(), signed_in_customer()
    problems = problems or PageProblems()
    values = values if values is not None else MultiDict()
    asks_party = asks_party_size(form_version.definition, booking_type.ticket_types)
    notice = current_notice(db.session, booking_type)
    shown = {"party_size": asks_party, "phone": customer is None, "tickets": bool(booking_type.ticket_types), "privacy_consent": notice is not None}
    for place in [place for place in problems.page if not shown.get(place.partition(".")[0])]:
        # A problem with what the page does not ask (the party a form's own field counts): at the top, where it is read.
        problems.general.append(problems.page.pop(place))
    first_visit = not values
    definition, ui = _with_stop_choices(form_version.definition, localize_all(form_version.ui or {}, locale), booking_type, slot.starts_at)
    form_html = render_form(definition, ui, locale=locale, field_types=form_registry().field_types, values=answers, errors=problems.answers)
    ticket_types = [
        {
            **present.ticket_type_json(ticket_type, locale),
            "value": "1" if first_visit and index == 0 else values.get(f"tickets.{ticket_type['key']}", ""),
            "error": problems.page.get(f"tickets.{ticket_type['key']}"),
        }
        for index, ticket_type in enumerate(booking_type.ticket_types)
    ]
    saved_people = []
    if customer is not None and person_list(form_version.definition):
        picked = set(values.getlist("companion"))
        saved_people = [
            {"id": c.id, "name": c.name, "id_number": customers.mask_id_number(c.id_number) if c.id_number else None, "checked": str(c.id) in picked}
            for c in customers.companions(db.session, customer)
        ]
    priced = booking_type.price_amount > 0 or any(t["price_amount"] > 0 for t in booking_type.ticket_types)
    return render_page(
        "site/booking_form.html",
        status=status,
        headers=NO_STORE,
        booking_type=booking_type,
        name=localize(booking_type.name, locale),
        slot=slot,
        form_html=form_html,
        form_key=form_key,
        ticket_types=ticket_types,
        tickets_error=problems.page.get("tickets"),
        party_size={
            "value": "1" if first_visit else values.get("party_size", ""),
            "error": problems.page.get("party_size"),
            "most": booking_type.max_party_size,
        }
        if asks_party
        else None,
        phone={"value": values.get("phone", ""), "error": problems.page.get("phone")} if customer is None else None,
        login_url=url_for(
            "site.login", next=request.full_path if request.method == "GET" else url_for("site.booking_form", type_slug=booking_type.slug, **slot.query)
        ),
        saved_people=saved_people,
        priced=priced,
        problems=problems,
        privacy_notice={
            "version": notice.version,
            "text": localize(notice.text, locale),
            # Ticked again only for the version on the page: after the notice changed, the customer reads and agrees anew.
            "checked": values.get("privacy_consent") == str(notice.version),
            "error": problems.page.get("privacy_consent"),
        }
        if notice is not None
        else None,
        day_url=url_for("site.booking_type", type_slug=booking_type.slug, day=slot.starts_at.astimezone(_zone()).date().isoformat()),
    )


@site.get("/book/<slug:type_slug>/form")
def booking_form(type_slug: str) -> Response:
    booking_type, form_version = booking_type_with_form(db.session, type_slug)
    slot = _Slot(booking_type, request.args)
    return _form_page(booking_type, form_version, slot, form_key=issue_form_key())


def _privacy_consent(values: MultiDict) -> PrivacyConsent:
    """The notice version the ticked box carries (its value is the version the page showed); None when unticked."""
    agreed = values.get("privacy_consent", "")
    return PrivacyConsent(int(agreed) if VERSION.fullmatch(agreed) else None, ConsentChannel.site)


def _picked_companions(customer: Customer | None, values: MultiDict) -> list[Any]:
    wanted = {int(v) for v in values.getlist("companion") if v.isdecimal() and len(v) < 12}
    if customer is None or not wanted:
        return []
    return [c for c in customers.companions(db.session, customer) if c.id in wanted]


@site.post("/book/<slug:type_slug>/form", endpoint="place_booking")
@rate_limit("RATELIMIT_BOOKING", _by_customer_or_address)
def place_booking(type_slug: str) -> Response:
    """Place the booking the form describes; a refusal shows the form again with every value kept and each problem at its field."""
    tenant, customer, values = current_tenant(), signed_in_customer(), request.form
    booking_type, form_version = booking_type_with_form(db.session, type_slug)
    slot = _Slot(booking_type, values)
    field_types = form_registry().field_types
    answers = with_companions(
        form_version.definition, read_form(form_version.definition, values, field_types=field_types), _picked_companions(customer, values)
    )
    form_key = values.get("form_key", "")
    if not issued_form_key(form_key):
        # Not a form this browser was given (its session ended, or a forged post): a fresh form with the values kept, nothing booked.
        problems = PageProblems(general=[_("This form has expired. Check your details and send it again.")])
        return _form_page(booking_type, form_version, slot, form_key=issue_form_key(), values=values, answers=answers, problems=problems, status=409)
    found: list[FieldProblem] = []
    tickets = {t["key"]: q for t in booking_type.ticket_types if (q := read_quantity(values.get(f"tickets.{t['key']}"), f"/tickets/{t['key']}", found))}
    party_size = read_quantity(values.get("party_size"), "/party_size", found) if asks_party_size(form_version.definition, booking_type.ticket_types) else None
    phone = customer.phone if customer is not None else values.get("phone", "").strip()
    if not phone:
        found.append(FieldProblem("/phone", _("Enter your mobile number, or log in."), "required"))

    def again(problems: PageProblems, status: int) -> Response:
        return _form_page(booking_type, form_version, slot, form_key=form_key, values=values, answers=answers, problems=problems, status=status)

    if found:
        return again(sort_problems(found), 422)
    try:
        receipt = bookings.book_once(
            db.session,
            form_registry(),
            tenant,
            booking_type_slug=booking_type.slug,
            starts_at=slot.starts_at,
            phone=phone,
            answers=answers,
            channel=slot.channel,
            party_size=party_size,
            tickets=tickets or None,
            idempotency_key=KEY_PREFIX + form_key,
            may_replay=lambda booking: may_see_booking(booking) or issued_form_key(form_key),
            privacy_consent=_privacy_consent(values),
        )
    except InvalidAnswers as error:
        return again(sort_problems(error.errors, in_answers=True), 422)
    except InvalidInput as error:
        return again(sort_problems(error.errors) if error.errors else PageProblems(general=[error.message]), 422)
    except DomainError as error:
        return again(PageProblems(general=[error.message]), 409)
    booking = receipt.booking
    if customer is None:
        remember_booking(booking)
    if booking.status is BookingStatus.held:
        return redirect(url_for("site.pay_booking", public_id=booking.public_id), 303)
    return redirect(url_for("site.voucher", public_id=booking.public_id), 303)


# --- the voucher ------------------------------------------------------------------------------


def _visible_booking(public_id: str) -> Booking:
    """The booking if this browser may see it; otherwise exactly as absent as a booking that does not exist."""
    try:
        booking = get_booking(db.session, public_id)
    except NotFound:
        booking = None
    if booking is None or not may_see_booking(booking):
        raise NotFound(_("There is no such booking here."), code="booking_not_found")
    return booking


def _starts_in_future(booking: Booking) -> bool:
    return booking.starts_at > utcnow()


@site.get("/bookings/<token:public_id>")
def voucher(public_id: str) -> Response:
    return _voucher_page(_visible_booking(public_id))


def _voucher_page(booking: Booking, *, review_values: dict[str, str] | None = None, review_errors: dict[str, str] | None = None, status: int = 200) -> Response:
    """The booking's page; a review refused is shown again in its form with what was typed and ``review_errors``."""
    tenant, locale = current_tenant(), reader_locale()
    shown = present.booking_json(
        db.session, tenant, booking, secret_key=current_app.config["SECRET_KEY"], pay_url=url_for("site.pay_booking", public_id=booking.public_id)
    )
    people = db.session.scalars(
        select(BookingPerson).where(BookingPerson.booking_id == booking.id, BookingPerson.on_name_list.is_(False)).order_by(BookingPerson.id)
    ).all()
    active = booking.status in (BookingStatus.held, BookingStatus.confirmed) and _starts_in_future(booking)
    qr = qr_svg(shown["voucher"]["qr"], _("Voucher QR code")) if shown["voucher"] else None
    return render_page(
        "site/voucher.html",
        status=status,
        headers=NO_STORE,
        booking=booking,
        shown=shown,
        name=localize(booking.booking_type.name, locale),
        channel=channel_name(booking.channel),
        people=[{"name": p.name, "id_number": customers.mask_id_number(p.id_number) if p.id_number else None} for p in people],
        lines=[{**line, "label": localize(line.get("label"), locale)} for line in booking.price_lines],
        stops=[{**stop, "name": localize(stop["name"], locale), "at": datetime.fromisoformat(stop["at"])} for stop in shown["stops"]],
        qr=qr,
        review=shown["review"],
        review_form=review_form(booking, shown["review"], values=review_values, errors=review_errors),
        links={
            "pay": url_for("site.pay_booking", public_id=booking.public_id) if booking.status is BookingStatus.held else None,
            "cancel": url_for("site.cancel_booking", public_id=booking.public_id) if active else None,
            "reschedule": url_for("site.reschedule_booking", public_id=booking.public_id) if active and booking.status is BookingStatus.confirmed else None,
            "calendar": url_for("site.voucher_ics", public_id=booking.public_id),
        },
    )


@site.post("/bookings/<token:public_id>/review", endpoint="review_booking")
@rate_limit("RATELIMIT_FEEDBACK", by_customer_or_address)
def review_booking(public_id: str) -> Response | BaseResponse:
    """Write (or change) the signed-in customer's review of their booking, then back to its page."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    booking = _visible_booking(public_id)
    if booking.customer_id != customer.id:
        raise NotFound(_("There is no such booking here."), code="booking_not_found")
    values = posted_review()
    errors = save_review(customer, booking, values)
    if errors:
        return _voucher_page(booking, review_values=values, review_errors=errors, status=409 if "" in errors else 422)
    return redirect(url_for("site.voucher", public_id=booking.public_id) + "#review", code=303)


@site.get("/bookings/<token:public_id>/calendar.ics")
def voucher_ics(public_id: str) -> Response:
    tenant, locale = current_tenant(), reader_locale()
    booking = _visible_booking(public_id)
    name = localize(booking.booking_type.name, locale)
    zone = _zone()
    stops = chosen_stops(db.session, booking, zone)
    location = localize(stops[0]["name"], locale) if stops else tenant.name
    description = _("Voucher code: %(code)s", code=booking.voucher_code) if booking.voucher_code else None
    body = calendar_file(
        uid=booking.public_id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        zone=zone,
        summary=f"{name} · {tenant.name}",
        location=location,
        description=description,
        url=url_for("site.voucher", public_id=booking.public_id, _external=True),
        now=utcnow(),
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="booking-{booking.public_id}.ics"'},
    )
