"""The bookings desk: today's and upcoming bookings filtered and searched, a booking's page, its actions, a slot's waitlist, and exports.

Every figure and rule comes from the operations the merchant API calls: the search and its
filters (``bookings.queries``), a booking as staff read it (``presenting.staff``, ID numbers
masked), its answers labelled by the form version it used (as the export writes them), the
actions (``bookings.operations``, ``payments.operations``) and the files (``exports``).
Actions are confirmation pages that post; a refusal is shown on the page with what was typed.
Refunds need the manager role: money leaves the business. Everything else is for every staff role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.sqla.models import User
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from yuyue.admin.base import TenantAdminView, current_staff, requires
from yuyue.audit.operations import records_about
from yuyue.bookings import operations as booking_operations
from yuyue.bookings.availability import slot_availability
from yuyue.bookings.models import BookingStatus
from yuyue.bookings.queries import FILTER_NAMES, BookingFilters, booking_record, filters_as_query, filters_from_query, search_bookings
from yuyue.bookings.waitlist import entry_of_booking, slot_waitlist
from yuyue.catalog import operations as catalog
from yuyue.db import db
from yuyue.errors import DomainError, FieldProblem, InvalidInput, NotFound
from yuyue.exports.operations import CSV_MIMETYPE, XLSX_MIMETYPE, answer_lines, bookings_csv, bookings_xlsx
from yuyue.forms.operations import form_version
from yuyue.forms.registry import form_registry
from yuyue.payments import operations as payments
from yuyue.presenting.language import LOCALES, localize
from yuyue.presenting.staff import booking_json
from yuyue.scheduling.registry import current_registry
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

__all__ = ["VIEWS", "attachment", "local_moment", "page_helpers", "page_locale"]

PAGE_SIZE = 50
# How far from the booking's day the reschedule page lists slots, each way.
RESCHEDULE_DAYS = 92
MAX_NOTE = 200


def page_locale() -> str:
    """The page's language as a localized text's key (``zh-Hans``, ``zh-Hant``, ``en``)."""
    tag = str(get_locale() or "zh_Hans").replace("_", "-")
    return tag if tag in LOCALES else "zh-Hans"


def page_helpers(zone: ZoneInfo) -> dict[str, Callable[..., str]]:
    """What every desk and check-in template formats with: localized text, times in the tenant's zone, money."""
    locale = page_locale()

    def local_time(moment: datetime | str | None, pattern: str = "%H:%M:%S") -> str:
        if not moment:
            return ""
        moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        return moment.astimezone(zone).strftime(pattern)

    def money(amount: int | None, currency: str = "CNY") -> str:
        return "" if amount is None else f"{Decimal(amount).scaleb(-2):.2f} {currency}"

    return {
        "localized": lambda value: localize(value, locale) or "",
        "local_time": local_time,
        "local_iso": lambda moment: moment.astimezone(zone).isoformat(),
        "money": money,
    }


def _zone() -> ZoneInfo:
    return ZoneInfo(current_staff().tenant.time_zone)


def _today() -> date:
    return utcnow().astimezone(_zone()).date()


def _record_or_404(public_id: str) -> Any:
    try:
        return booking_record(db.session, current_staff().tenant, public_id)
    except NotFound:
        abort(404)


def _desk_filters() -> BookingFilters:
    """The desk's filters from the query string; with none given, today's and upcoming bookings."""
    args = {name: value for name, value in request.args.items() if name != "cursor"}
    if not args:
        return BookingFilters(date_from=_today())
    return filters_from_query(args, FILTER_NAMES)


@dataclass(frozen=True)
class ActionPage:
    """A confirmation page: what is asked, and the form's fields as typed."""

    action: str
    title: str
    question: str
    button: str
    danger: bool = False


class DeskView(TenantAdminView):
    area = "bookings"
    default_view = "desk"
    nav_label = _l("Bookings")
    nav_order = 20
    nav_icon = "calendar"

    # --- the list ---------------------------------------------------------------------

    @expose("/")
    def desk(self) -> Any:
        staff = current_staff()
        typed = {name: request.args.get(name, "") for name in FILTER_NAMES}
        problems: dict[str, str] = {}
        rows, next_cursor, filters = [], None, None
        try:
            filters = _desk_filters()
            page = search_bookings(db.session, staff.tenant, filters, cursor=request.args.get("cursor") or None, limit=PAGE_SIZE)
            rows = [booking_json(record, staff.tenant) | {"type_name": record.booking_type.name} for record in page.records]
            next_cursor = page.next_cursor
        except InvalidInput as error:
            problems = {problem.pointer.lstrip("/"): problem.message for problem in error.errors}
        query = filters_as_query(filters) if filters is not None else {}
        if filters is not None and not request.args:
            typed["from"] = query.get("from", "")
        return self.render(
            "admin/desk/list.html",
            rows=rows,
            typed=typed,
            problems=problems,
            query=query,
            next_cursor=next_cursor,
            today=_today().isoformat(),
            booking_types=catalog.list_booking_types(db.session, staff.tenant),
            resources=catalog.list_resources(db.session, staff.tenant),
            statuses=list(BookingStatus),
            **page_helpers(_zone()),
        ), (422 if problems else 200)

    # --- exports ----------------------------------------------------------------------

    @expose("/export.xlsx")
    def export_xlsx(self) -> Response:
        return self._download(bookings_xlsx, XLSX_MIMETYPE, "xlsx")

    @expose("/export.csv")
    def export_csv(self) -> Response:
        return self._download(bookings_csv, f"{CSV_MIMETYPE}; charset=utf-8", "csv")

    def _download(self, export: Callable[..., Iterator[Any]], mimetype: str, extension: str) -> Response:
        return attachment(lambda: export(db.session, current_staff().tenant, _desk_filters()), mimetype, "bookings", extension)

    # --- a slot's waitlist ------------------------------------------------------------

    @expose("/waitlist")
    def waitlist(self) -> Any:
        """A slot's waitlist; without a slot named (``start`` with its offset, or ``at`` in the tenant's local time), the form that names one."""
        slug = request.args.get("booking_type", "")
        start = _aware(request.args.get("start", "")) or local_moment(request.args.get("at", ""), _zone())
        helpers = page_helpers(_zone())
        if not request.args:
            return self.render("admin/desk/waitlist.html", booking_types=catalog.list_booking_types(db.session, current_staff().tenant), **helpers)
        if not slug or len(slug) > 40 or start is None:
            problem = _("Name a booking type and a slot start (ISO 8601 with its UTC offset).")
            types = catalog.list_booking_types(db.session, current_staff().tenant)
            return self.render("admin/desk/waitlist.html", booking_types=types, problem=problem, **helpers), 422
        try:
            booking_type, lines = slot_waitlist(db.session, current_staff().tenant, slug, start)
        except NotFound:
            abort(404)
        return self.render("admin/desk/waitlist.html", booking_type=booking_type, start=start, lines=lines, **helpers)

    # --- one booking ------------------------------------------------------------------

    @expose("/<token:booking>")
    def booking(self, booking: str) -> Any:
        return self.render("admin/desk/booking.html", **self._booking_context(booking))

    def _booking_context(self, public_id: str) -> dict[str, Any]:
        staff = current_staff()
        tenant = staff.tenant
        record = _record_or_404(public_id)
        shown = booking_json(record, tenant, with_answers=True)
        locales = (page_locale(), *(tenant.locales or ()))
        version = form_version(db.session, record.booking.booking_type_id, record.booking.form_version)
        money = payments.booking_money(db.session, tenant, public_id)
        references = [("booking", public_id)] + [("payment", payment.reference) for payment in money.payments]
        trail = records_about(db.session, references)
        status = record.booking.status
        return {
            "record": record,
            "booking": shown,
            "answers": answer_lines(version, shown["answers"], locales),
            "funds": money,
            "waitlist_entry": entry_of_booking(db.session, tenant, record.booking),
            "trail": trail,
            "actors": _actor_names(trail),
            "can": {
                "confirm": status is BookingStatus.held,
                "cancel": status in (BookingStatus.held, BookingStatus.confirmed),
                "no_show": status is BookingStatus.confirmed and utcnow() >= record.booking.starts_at,
                "reschedule": status in (BookingStatus.held, BookingStatus.confirmed),
                "refund": money.refundable > 0 and staff.allows(StaffRole.manager),
                "offline_payment": status in (BookingStatus.held, BookingStatus.confirmed)
                and any(p.provider == "offline" and p.status.value == "pending" for p in money.payments),
            },
            **page_helpers(_zone()),
        }

    # --- actions ----------------------------------------------------------------------

    @expose("/<token:booking>/confirm", methods=["GET", "POST"])
    def confirm(self, booking: str) -> Any:
        page = ActionPage("confirm", _("Confirm this booking"), _("Confirm the booking as paid or accepted? The customer gets a voucher."), _("Confirm"))
        return self._act(booking, page, lambda: booking_operations.confirm(db.session, current_staff().tenant, booking, actor=current_staff().actor))

    @expose("/<token:booking>/no-show", methods=["GET", "POST"])
    def no_show(self, booking: str) -> Any:
        page = ActionPage(
            "no-show", _("Mark as no-show"), _("Mark this booking as a no-show? Repeated no-shows may ban the customer."), _("Mark no-show"), True
        )
        return self._act(booking, page, lambda: booking_operations.mark_no_show(db.session, current_staff().tenant, booking, actor=current_staff().actor))

    @expose("/<token:booking>/offline-payment", methods=["GET", "POST"])
    def offline_payment(self, booking: str) -> Any:
        page = ActionPage(
            "offline-payment", _("Record payment at the counter"), _("Record that the customer paid the full price at the counter?"), _("Record payment")
        )
        staff = current_staff()
        return self._act(booking, page, lambda: payments.record_offline_payment(db.session, staff.tenant, booking, actor=staff.actor))

    @expose("/<token:booking>/cancel", methods=["GET", "POST"])
    def cancel(self, booking: str) -> Any:
        staff = current_staff()
        page = ActionPage("cancel", _("Cancel this booking"), _("Cancel the booking under these terms?"), _("Cancel the booking"), True)
        fields = {"reason": (request.form.get("reason") or "")[: MAX_NOTE * 2]}

        def extra() -> dict[str, Any]:
            return {"quote": payments.cancellation_quote(db.session, staff.tenant, booking, by_staff=True)}

        def act() -> Any:
            reason = fields["reason"].strip() or None
            if reason is not None and len(reason) > MAX_NOTE:
                raise InvalidInput(
                    _("The reason is not valid."), errors=[FieldProblem("/reason", _("At most %(count)s characters.", count=MAX_NOTE), "too_long")]
                )
            return booking_operations.cancel_with_terms(db.session, staff.tenant, booking, actor=staff.actor, reason=reason, by_staff=True)

        return self._act(booking, page, act, fields=fields, extra=extra)

    @expose("/<token:booking>/reschedule", methods=["GET", "POST"])
    def reschedule(self, booking: str) -> Any:
        staff = current_staff()
        page = ActionPage("reschedule", _("Reschedule this booking"), _("Move the booking to the chosen slot of the same booking type?"), _("Reschedule"))
        fields = {"starts_at": (request.form.get("starts_at") or "")[:64]}

        def extra() -> dict[str, Any]:
            record = _record_or_404(booking)
            day = _day_argument(record.booking.local_date)
            slots = slot_availability(db.session, record.booking_type, _zone(), day, day, utcnow(), registry=current_registry())
            open_slots = [s for s in slots if s.channel == record.booking.channel and s.starts_at != record.booking.starts_at]
            return {"day": day, "slots": open_slots, "previous_day": day - timedelta(days=1), "next_day": day + timedelta(days=1)}

        def act() -> Any:
            starts_at = _aware(fields["starts_at"])
            if starts_at is None:
                raise InvalidInput(_("Choose a slot."), errors=[FieldProblem("/starts_at", _("Choose one of the slots listed."), "required")])
            return booking_operations.reschedule(db.session, form_registry(), staff.tenant, booking, starts_at=starts_at, actor=staff.actor)

        return self._act(booking, page, act, fields=fields, extra=extra)

    @expose("/<token:booking>/refund", methods=["GET", "POST"])
    @requires(StaffRole.manager)
    def refund(self, booking: str) -> Any:
        staff = current_staff()
        page = ActionPage("refund", _("Refund"), _("Give this amount back to the customer? The booking itself stays as it is."), _("Refund"), True)
        fields = {"amount": (request.form.get("amount") or "")[:20], "note": (request.form.get("note") or "")[: MAX_NOTE * 2]}

        def extra() -> dict[str, Any]:
            return {"refundable": payments.booking_money(db.session, staff.tenant, booking).refundable}

        def act() -> Any:
            amount = _minor_units(fields["amount"])
            note = fields["note"].strip() or None
            if note is not None and len(note) > MAX_NOTE:
                raise InvalidInput(_("The note is not valid."), errors=[FieldProblem("/note", _("At most %(count)s characters.", count=MAX_NOTE), "too_long")])
            return payments.refund_booking(db.session, staff.tenant, booking, amount=amount, actor=staff.actor, note=note)

        return self._act(booking, page, act, fields=fields, extra=extra)

    def _act(
        self,
        public_id: str,
        page: ActionPage,
        act: Callable[[], Any],
        *,
        fields: dict[str, str] | None = None,
        extra: Callable[[], dict[str, Any]] | None = None,
    ) -> Any:
        """GET: the confirmation page. POST: the operation, then back to the booking; a refusal re-renders the page with its reason and the input."""
        record = _record_or_404(public_id)
        fields = fields or {}
        problems: dict[str, str] = {}
        refusal = None
        status = 200
        if request.method == "POST":
            try:
                act()
            except InvalidInput as error:
                problems = {problem.pointer.lstrip("/"): problem.message for problem in error.errors}
                refusal, status = (None if problems else error.message), 422
            except DomainError as error:
                refusal, status = error.message, 409
            else:
                flash(_("Done."), "success")
                return redirect(url_for("DeskView.booking", booking=public_id))
        try:
            context = extra() if extra else {}
        except DomainError as error:
            context, refusal, status = {}, refusal or error.message, status if status != 200 else 409
        return self.render(
            "admin/desk/action.html",
            page=page,
            record=record,
            booking=booking_json(record, current_staff().tenant),
            fields=fields,
            problems=problems,
            refusal=refusal,
            **context,
            **page_helpers(_zone()),
        ), status


def attachment(write: Callable[[], Iterator[Any]], mimetype: str, name: str, extension: str) -> Response:
    """The file ``write`` makes, streamed as it is written and named after what it holds, the tenant and the local time;
    never cached. A query that does not say what to export is a 422 page naming each parameter at fault."""
    tenant = current_staff().tenant
    try:
        pieces = write()
    except InvalidInput as error:
        abort(422, "; ".join(f"{problem.pointer.lstrip('/')}: {problem.message}" for problem in error.errors) or error.message)
    filename = f"{name}-{tenant.slug}-{utcnow().astimezone(_zone()):%Y%m%d-%H%M}.{extension}"
    response = Response(stream_with_context(pieces), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _aware(text: str) -> datetime | None:
    """An ISO 8601 date and time with its UTC offset, else None."""
    try:
        moment = datetime.fromisoformat(text) if text and len(text) <= 64 else None
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None or not 2000 <= moment.year <= 2999:
        return None
    return moment


def local_moment(text: str, zone: ZoneInfo) -> datetime | None:
    """A ``datetime-local`` input's value (``2026-12-07T09:00``) in the tenant's zone, else None."""
    try:
        moment = datetime.fromisoformat(text) if text and len(text) <= 32 else None
    except ValueError:
        return None
    if moment is None or moment.tzinfo is not None or not 2000 <= moment.year <= 2999:
        return None
    return moment.replace(tzinfo=zone)


def _day_argument(default: date) -> date:
    """``?day=`` within :data:`RESCHEDULE_DAYS` of ``default``; anything else is ``default``."""
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return default
    return day if abs((day - default).days) <= RESCHEDULE_DAYS else default


def _minor_units(text: str) -> int:
    """An amount typed in yuan (``12.5``) as fen; anything else is a problem at ``/amount``."""
    try:
        amount = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount != amount.quantize(Decimal("0.01")) or not 0 < amount < 10**8:
        raise InvalidInput(_("The amount is not valid."), errors=[FieldProblem("/amount", _("An amount such as 12.50."), "invalid_amount")])
    return int(amount.scaleb(2))


def _actor_names(trail: list[Any]) -> dict[str, str]:
    """Login names of the staff in a trail (``staff:7`` → ``li.wei``); customers and the system are shown as recorded."""
    ids = {int(key) for record in trail for kind, _sep, key in [record.actor.partition(":")] if kind == "staff" and key.isdecimal() and len(key) < 10}
    if not ids:
        return {}
    return {f"staff:{user_id}": username for user_id, username in db.session.execute(select(User.id, User.username).where(User.id.in_(ids)))}


VIEWS: tuple[type, ...] = (DeskView,)
