"""The customers pages: the tenant's customers searched and exported, a customer's page, and what managers do about one.

The pages are the merchant API's customers (``api/customers.py``) drawn as HTML: the same search and
filters, the same JSON of a row and of a customer's page (:mod:`yuyue.presenting.customers`, which
masks phones and ID numbers for the plain staff role), the same files (:mod:`yuyue.exports.customers`)
and the same operations (:mod:`yuyue.bookings.customer_records`), which validate, audit and announce
each change. This module only turns form fields into the operations' arguments and their problems
back into messages next to the fields, with what was typed kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from yuyue.admin.base import TenantAdminView, current_staff, requires
from yuyue.admin.desk import attachment, local_moment, page_helpers
from yuyue.bookings import customer_records
from yuyue.bookings.customer_records import CUSTOMER_FILTER_NAMES, MAX_NOTE_LENGTH
from yuyue.credits.operations import credit_summary
from yuyue.db import db
from yuyue.errors import DomainError, FieldProblem, InvalidInput, NotFound
from yuyue.exports.customers import customers_csv, customers_xlsx
from yuyue.exports.operations import CSV_MIMETYPE, XLSX_MIMETYPE
from yuyue.merging.operations import merge_customers
from yuyue.presenting.credits import credits_json
from yuyue.presenting.customers import customer_json, customer_row_json, sees_in_full
from yuyue.privacy import operations as privacy
from yuyue.privacy.models import Requester
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

__all__ = ["VIEWS"]

PAGE_SIZE = 50
# What is kept of a typed field: enough for the longest valid value (the note) to be refused as too long, not stored cut.
MAX_TYPED = 2 * MAX_NOTE_LENGTH
# A whole number as typed; anything else goes to the operation as text, which refuses it with the API's problem.
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,9}")


@dataclass(frozen=True)
class Problem:
    """A refusal shown next to a field (or above a form, for ``""``): the operation's message and code."""

    message: str
    code: str


def _zone() -> ZoneInfo:
    return ZoneInfo(current_staff().tenant.time_zone)


def _full() -> bool:
    return sees_in_full(current_staff().role)


def _typed(name: str) -> str:
    """A posted field as typed: a browser sends a text area's line breaks as CRLF, whatever the person typed."""
    return (request.form.get(name) or "")[:MAX_TYPED].replace("\r\n", "\n")


def _whole_number(text: str) -> int | str | None:
    """``None`` for an empty field, the number typed, or the text itself for the operation to refuse."""
    text = text.strip()
    if not text:
        return None
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else text


def _tag_lines(text: str) -> list[str]:
    """The tags typed one a line (a tag cannot hold a line break); blank lines are no tags."""
    return [line for line in text.split("\n") if line.strip()]


def _problems(error: DomainError, tags: list[str] | None = None) -> dict[str, Problem]:
    """The error's problems by field name (``tags/2`` is the tags field, naming the tag); one without a field at ``""``."""
    shown: dict[str, Problem] = {}
    for problem in error.errors:
        field, _sep, index = problem.pointer.lstrip("/").partition("/")
        message = str(problem.message)
        if field == "tags" and index.isdecimal() and tags is not None and int(index) < len(tags):
            message = _("Tag “%(tag)s”: %(problem)s", tag=tags[int(index)], problem=message)
        shown.setdefault(field, Problem(message, problem.code))
    if not shown:
        shown[""] = Problem(error.message, error.code)
    return shown


class CustomersView(TenantAdminView):
    area = "customers"
    default_view = "customers"
    nav_label = _l("Customers")
    nav_order = 25
    nav_icon = "customers"

    # --- the list and its files ---------------------------------------------------------

    @expose("/")
    def customers(self) -> Any:
        staff = current_staff()
        typed = {name: request.args.get(name, "") for name in CUSTOMER_FILTER_NAMES}
        rows, next_cursor, problems = [], None, {}
        try:
            filters = customer_records.customer_filters_from_query(request.args, (*CUSTOMER_FILTER_NAMES, "cursor"))
            page = customer_records.search_customers(
                db.session, staff.tenant, filters, masked=not _full(), now=utcnow(), cursor=request.args.get("cursor") or None, limit=PAGE_SIZE
            )
            rows = [customer_row_json(row, _zone(), full=_full()) for row in page.rows]
            next_cursor = page.next_cursor
        except InvalidInput as error:
            problems = _problems(error)
        query = {name: value for name, value in typed.items() if value and name not in problems}
        return self.render(
            "admin/customers/list.html",
            rows=rows,
            typed=typed,
            problems=problems,
            query=query,
            next_cursor=next_cursor,
            **page_helpers(_zone()),
        ), (422 if problems else 200)

    @expose("/export.xlsx")
    def export_xlsx(self) -> Response:
        return self._download(customers_xlsx, XLSX_MIMETYPE, "xlsx")

    @expose("/export.csv")
    def export_csv(self) -> Response:
        return self._download(customers_csv, f"{CSV_MIMETYPE}; charset=utf-8", "csv")

    def _download(self, export: Callable[..., Any], mimetype: str, extension: str) -> Response:
        def write() -> Any:
            filters = customer_records.customer_filters_from_query(request.args, CUSTOMER_FILTER_NAMES)
            return export(db.session, current_staff().tenant, filters, full=_full(), now=utcnow())

        return attachment(write, mimetype, "customers", extension)

    # --- a customer's page ----------------------------------------------------------------

    @expose("/<row_id:customer>")
    def customer(self, customer: int) -> Any:
        return self._page(customer)

    def _page(
        self, customer_id: int, *, form: str = "", typed: dict[str, str] | None = None, problems: dict[str, Problem] | None = None, status: int = 200
    ) -> tuple[str, int]:
        """The customer's page; after a refused action, ``form``'s fields as ``typed`` with ``problems`` beside them."""
        tenant, now = current_staff().tenant, utcnow()
        try:
            record = customer_records.customer_record(db.session, tenant, customer_id)
        except NotFound:
            abort(404)
        credits = credits_json(credit_summary(db.session, tenant, record.customer, now=now), _zone())
        shown = customer_json(record, credits, _zone(), now, full=_full())
        forms = {
            "points": {"delta": "", "reason": ""},
            "ban": {"days": "", "until": "", "reason": ""},
            "lift": {"reason": ""},
            "notes": {"tags": "\n".join(record.customer.tags), "note": record.customer.note or ""},
            "merge": {"from": "", "reason": ""},
            "erase": {"reason": ""},
        }
        if form:
            forms[form] = typed or {}
        return self.render(
            "admin/customers/customer.html",
            customer=shown,
            type_names={r.booking_type.slug: r.booking_type.name for r in (*record.bookings, *record.no_shows)},
            unended={ban.id for ban in record.bans if ban.ends_at > now},
            can_act=current_staff().allows(StaffRole.manager),
            can_erase=current_staff().allows(StaffRole.owner) and record.customer.erased_at is None,
            forms=forms,
            form=form,
            problems=problems or {},
            **page_helpers(_zone()),
        ), status

    def _act(self, customer_id: int, form: str, typed: dict[str, str], act: Callable[[], Any], done: str, tags: list[str] | None = None) -> Any:
        """Run ``act``; back to the customer's page with ``done`` flashed, or the page again with the refusal beside the fields."""
        try:
            act()
        except InvalidInput as error:
            return self._page(customer_id, form=form, typed=typed, problems=_problems(error, tags), status=422)
        except NotFound:
            abort(404)
        except DomainError as error:  # a refusal of the whole action; what blocks it (an erasure's bookings) listed after it
            message = "; ".join([str(error.message), *(f"{p.pointer.lstrip('/')}: {p.message}" for p in error.errors)])
            return self._page(customer_id, form=form, typed=typed, problems={"": Problem(message, error.code)}, status=409)
        flash(done, "success")
        return redirect(url_for("CustomersView.customer", customer=customer_id, _anchor=form))

    # --- actions (managers and owners) ----------------------------------------------------

    @expose("/<row_id:customer>/points", methods=["POST"])
    @requires(StaffRole.manager)
    def adjust_points(self, customer: int) -> Any:
        typed = {"delta": _typed("delta"), "reason": _typed("reason")}
        staff = current_staff()

        def act() -> Any:
            delta = _whole_number(typed["delta"])
            return customer_records.adjust_points(db.session, staff.tenant, customer, delta=delta, reason=typed["reason"], actor=staff.actor)

        return self._act(customer, "points", typed, act, _("The points are adjusted."))

    @expose("/<row_id:customer>/bans", methods=["POST"])
    @requires(StaffRole.manager)
    def impose_ban(self, customer: int) -> Any:
        typed = {"days": _typed("days"), "until": _typed("until"), "reason": _typed("reason")}
        staff = current_staff()

        def act() -> Any:
            until = None
            if typed["until"].strip():
                until = local_moment(typed["until"].strip(), _zone())
                if until is None:
                    raise InvalidInput(
                        _("the date and time are not valid"),
                        errors=[FieldProblem("/until", _("a date and time, e.g. 2026-12-09 09:00"), "invalid_datetime")],
                    )
            days = _whole_number(typed["days"])
            return customer_records.impose_ban(
                db.session, staff.tenant, customer, reason=typed["reason"], now=utcnow(), until=until, days=days, actor=staff.actor
            )

        return self._act(customer, "ban", typed, act, _("The customer is banned."))

    @expose("/<row_id:customer>/bans/<row_id:ban>/lift", methods=["POST"])
    @requires(StaffRole.manager)
    def lift_ban(self, customer: int, ban: int) -> Any:
        typed = {"ban": str(ban), "reason": _typed("reason")}
        staff = current_staff()

        def act() -> Any:
            return customer_records.lift_ban(db.session, staff.tenant, customer, ban, reason=typed["reason"], now=utcnow(), actor=staff.actor)

        return self._act(customer, "lift", typed, act, _("The ban is lifted."))

    @expose("/<row_id:customer>/notes", methods=["POST"])
    @requires(StaffRole.manager)
    def annotate(self, customer: int) -> Any:
        typed = {"tags": _typed("tags"), "note": _typed("note")}
        tags = _tag_lines(typed["tags"])
        staff = current_staff()

        def act() -> Any:
            return customer_records.annotate_customer(db.session, staff.tenant, customer, actor=staff.actor, tags=tags, note=typed["note"])

        return self._act(customer, "notes", typed, act, _("The tags and note are saved."), tags)

    @expose("/<row_id:customer>/merge", methods=["POST"])
    @requires(StaffRole.manager)
    def merge(self, customer: int) -> Any:
        """Merge the record numbered in ``from`` into this one, as ``POST …/admin/customers/<id>/merge`` does."""
        typed = {"from": _typed("from"), "reason": _typed("reason")}
        staff = current_staff()

        def act() -> Any:
            other = _whole_number(typed["from"])
            if not isinstance(other, int) or other < 1:
                raise InvalidInput(_("the customer number is not valid"), errors=[FieldProblem("/from", _("a customer's number, e.g. 42"), "invalid_customer")])
            return merge_customers(db.session, staff.tenant, customer, other_id=other, reason=typed["reason"], actor=staff.actor)

        return self._act(customer, "merge", typed, act, _("The two records are merged into this one."))

    @expose("/<row_id:customer>/erase", methods=["POST"])
    @requires(StaffRole.owner)
    def erase(self, customer: int) -> Any:
        """Erase the customer's personal data (owners), as ``POST …/admin/customers/<id>/erase`` does."""
        typed = {"reason": _typed("reason")}
        staff = current_staff()

        def act() -> Any:
            reason = typed["reason"].strip()
            if not 1 <= len(reason) <= privacy.REASON_LENGTH:
                raise InvalidInput(
                    _("the reason is not valid"),
                    errors=[FieldProblem("/reason", _("1 to %(max)s characters", max=privacy.REASON_LENGTH), "invalid_reason")],
                )
            found = customer_records.customer_record(db.session, staff.tenant, customer).customer
            return privacy.erase_customer(db.session, staff.tenant, found, requested_by=Requester.staff, actor=str(staff.actor), reason=reason, now=utcnow())

        return self._act(customer, "erase", typed, act, _("The customer's personal data is erased."))


VIEWS: tuple[type, ...] = (CustomersView,)
