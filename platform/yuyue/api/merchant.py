"""Merchant API: ``/api/v1/t/<tenant>/admin/…`` for a tenant's staff tokens.

Booking types, their route stops and resources (reading needs the staff
role, changing them manager), bookings (search, confirm, cancel with its terms read first, no-show, reschedule,
payment at the counter, a refund by a manager, a group's name list, a slot's waitlist), check-ins by voucher
code or QR payload and the day's log of them, exports, and the tenant's own login-provider settings
(its WeChat mini-program: the owner sets them, secrets are never shown).
Another tenant's ids, codes and slugs are simply not found: every lookup runs
inside the tenant of the URL.

The bodies validated here and each route's description are in
:mod:`yuyue.api.schemas.merchant`; what the answers hold, in :mod:`yuyue.presenting.staff`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, jsonify, request, stream_with_context, url_for
from flask_babel import lazy_gettext as _l

from yuyue.api.auth import staff_required
from yuyue.api.body import request_file
from yuyue.api.core import json_body
from yuyue.api.customer import aware_datetime
from yuyue.api.query import query_int, query_problem
from yuyue.api.schemas.merchant import OPENAPI_PATHS
from yuyue.api.schemas.merchant.booking_types import BOOKING_TYPE_CHANGE, BOOKING_TYPE_CREATE, FORM_DRAFT_CHANGE
from yuyue.api.schemas.merchant.bookings import BOOKING_CANCEL, BOOKING_QUERY, BOOKING_REFUND, BOOKING_RESCHEDULE
from yuyue.api.schemas.merchant.check_ins import CHECK_IN
from yuyue.api.schemas.merchant.exports import EXPORT_QUERY
from yuyue.api.schemas.merchant.login_providers import LOGIN_SETTINGS
from yuyue.api.schemas.merchant.resources import RESOURCE_CHANGE, RESOURCE_CREATE
from yuyue.api.schemas.merchant.route_stops import STOP_CHANGE, STOP_CREATE
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.bookings import name_lists, waitlist
from yuyue.bookings import operations as booking_operations
from yuyue.bookings.checkin import check_in, check_in_log
from yuyue.bookings.placement import Actor
from yuyue.bookings.placement import get_booking as booking_by_id
from yuyue.bookings.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, BookingFilters, booking_record, filters_from_query, search_bookings
from yuyue.catalog import operations as catalog
from yuyue.catalog import stops
from yuyue.customers import login_settings
from yuyue.customers.login_providers import LoginProviderRegistry
from yuyue.db import db
from yuyue.errors import NotFound
from yuyue.exports.operations import CSV_MIMETYPE, XLSX_MIMETYPE, bookings_csv, bookings_xlsx
from yuyue.forms.models import FormDraft
from yuyue.forms.operations import form_problems
from yuyue.forms.registry import form_registry
from yuyue.payments import operations as payments
from yuyue.plugins import plugin_host
from yuyue.presenting.staff import (
    booking_json,
    booking_type_json,
    cancellation_quote_json,
    check_in_log_json,
    login_settings_json,
    name_list_json,
    refunds_json,
    resource_json,
    stop_json,
    waitlist_json,
)
from yuyue.scheduling.registry import current_registry
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

__all__ = ["OPENAPI_PATHS", "download", "staff_actor"]


def staff_actor() -> Actor:
    token = g.staff_token
    return Actor("staff", token.user_id or f"token-{token.id}")


def _booking_filters(allowed: tuple[str, ...]) -> BookingFilters:
    return filters_from_query(request.args, allowed)


def _page_size() -> int:
    return query_int("limit", minimum=1, maximum=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)


def _booking_response(public_id: str) -> Response:
    return jsonify(booking_json(booking_record(db.session, current_tenant(), public_id), current_tenant(), with_answers=True))


# --- booking types --------------------------------------------------------------


@tenant_api.get("/admin/booking-types")
@staff_required()
def list_booking_types() -> Response:
    return jsonify({"booking_types": [booking_type_json(db.session, t) for t in catalog.list_booking_types(db.session, current_tenant())]})


@tenant_api.post("/admin/booking-types")
@staff_required(StaffRole.manager)
def create_booking_type() -> tuple[Response, int, dict[str, str]]:
    body = json_body(BOOKING_TYPE_CREATE)
    booking_type = catalog.create_booking_type(db.session, plugin_host(), form_registry(), current_registry(), current_tenant(), **body)
    location = url_for(".get_booking_type", tenant_slug=current_tenant().slug, slug=booking_type.slug)
    return jsonify(booking_type_json(db.session, booking_type, with_form=True)), 201, {"Location": location}


@tenant_api.get("/admin/booking-types/<slug:slug>")
@staff_required()
def get_booking_type(slug: str) -> Response:
    return jsonify(booking_type_json(db.session, catalog.get_booking_type(db.session, current_tenant(), slug), with_form=True))


@tenant_api.patch("/admin/booking-types/<slug:slug>")
@staff_required(StaffRole.manager)
def update_booking_type(slug: str) -> Response:
    body = json_body(BOOKING_TYPE_CHANGE)
    booking_type = catalog.update_booking_type(db.session, plugin_host(), form_registry(), current_registry(), current_tenant(), slug, **body)
    return jsonify(booking_type_json(db.session, booking_type, with_form=True))


def _draft_json(draft: FormDraft) -> dict[str, Any]:
    forms = form_registry()
    problems = form_problems(draft.definition, draft.ui, forms.field_types, formats=forms.formats)
    return {
        "based_on": draft.based_on,
        "form": draft.definition,
        "ui": draft.ui,
        "updated_at": draft.updated_at.isoformat(),
        "problems": [
            {
                "pointer": "/form" + p.pointer.removeprefix("/definition") if p.pointer.startswith("/definition") else p.pointer,
                "message": str(p.message),
                "code": p.code,
            }
            for p in problems
        ],
    }


@tenant_api.get("/admin/booking-types/<slug:slug>/form-draft")
@staff_required()
def get_form_draft(slug: str) -> Response:
    draft = catalog.form_draft(db.session, catalog.get_booking_type(db.session, current_tenant(), slug))
    if draft is None:
        raise NotFound(_l("booking type %(slug)r has no draft", slug=slug), code="draft_not_found")
    return jsonify(_draft_json(draft))


@tenant_api.put("/admin/booking-types/<slug:slug>/form-draft")
@staff_required(StaffRole.manager)
def put_form_draft(slug: str) -> Response:
    body = json_body(FORM_DRAFT_CHANGE)
    return jsonify(_draft_json(catalog.save_form_draft(db.session, current_tenant(), slug, body["form"], body["ui"])))


@tenant_api.delete("/admin/booking-types/<slug:slug>/form-draft")
@staff_required(StaffRole.manager)
def delete_form_draft(slug: str) -> tuple[str, int]:
    catalog.discard_form_draft(db.session, current_tenant(), slug)
    return "", 204


@tenant_api.post("/admin/booking-types/<slug:slug>/form-draft/publish")
@staff_required(StaffRole.manager)
def publish_form_draft(slug: str) -> Response:
    published = catalog.publish_form_draft(db.session, plugin_host(), form_registry(), current_registry(), current_tenant(), slug)
    booking_type = catalog.get_booking_type(db.session, current_tenant(), slug)
    return jsonify({"published": published is not None, "booking_type": booking_type_json(db.session, booking_type, with_form=True)})


# --- route stops ----------------------------------------------------------------


@tenant_api.get("/admin/booking-types/<slug:slug>/stops")
@staff_required()
def list_stops(slug: str) -> Response:
    return jsonify({"stops": [stop_json(s) for s in stops.list_stops(db.session, current_tenant(), slug)]})


@tenant_api.post("/admin/booking-types/<slug:slug>/stops")
@staff_required(StaffRole.manager)
def create_stop(slug: str) -> tuple[Response, int]:
    body = json_body(STOP_CREATE)
    return jsonify(stop_json(stops.create_stop(db.session, current_tenant(), slug, actor=str(staff_actor()), **body))), 201


@tenant_api.patch("/admin/booking-types/<slug:slug>/stops/<name:code>")
@staff_required(StaffRole.manager)
def update_stop(slug: str, code: str) -> Response:
    body = json_body(STOP_CHANGE)
    return jsonify(stop_json(stops.update_stop(db.session, current_tenant(), slug, code, actor=str(staff_actor()), **body)))


@tenant_api.delete("/admin/booking-types/<slug:slug>/stops/<name:code>")
@staff_required(StaffRole.manager)
def withdraw_stop(slug: str, code: str) -> Response:
    return jsonify(stop_json(stops.deactivate_stop(db.session, current_tenant(), slug, code, actor=str(staff_actor()))))


# --- resources ------------------------------------------------------------------


@tenant_api.get("/admin/resources")
@staff_required()
def list_resources() -> Response:
    return jsonify({"resources": [resource_json(r) for r in catalog.list_resources(db.session, current_tenant())]})


@tenant_api.post("/admin/resources")
@staff_required(StaffRole.manager)
def create_resource() -> tuple[Response, int]:
    body = json_body(RESOURCE_CREATE)
    return jsonify(resource_json(catalog.create_resource(db.session, current_tenant(), **body))), 201


@tenant_api.patch("/admin/resources/<name:code>")
@staff_required(StaffRole.manager)
def update_resource(code: str) -> Response:
    body = json_body(RESOURCE_CHANGE)
    return jsonify(resource_json(catalog.update_resource(db.session, current_tenant(), code, **body)))


# --- bookings -------------------------------------------------------------------


@tenant_api.get("/admin/bookings")
@staff_required()
def list_bookings() -> Response:
    filters, limit = _booking_filters(BOOKING_QUERY), _page_size()
    page = search_bookings(db.session, current_tenant(), filters, cursor=request.args.get("cursor") or None, limit=limit)
    return jsonify({"bookings": [booking_json(r, current_tenant()) for r in page.records], "next_cursor": page.next_cursor})


@tenant_api.get("/admin/bookings/<token:public_id>")
@staff_required()
def get_booking(public_id: str) -> Response:
    return _booking_response(public_id)


@tenant_api.post("/admin/bookings/<token:public_id>/confirm")
@staff_required()
def confirm_booking(public_id: str) -> Response:
    booking = booking_operations.confirm(db.session, current_tenant(), public_id, actor=staff_actor())
    return _booking_response(booking.public_id)


@tenant_api.post("/admin/bookings/<token:public_id>/cancel")
@staff_required()
def cancel_booking(public_id: str) -> Response:
    body = json_body(BOOKING_CANCEL, required=False)  # an action may be posted without a body
    booking = booking_operations.cancel(db.session, current_tenant(), public_id, actor=staff_actor(), reason=body.get("reason"), by_staff=True)
    return _booking_response(booking.public_id)


@tenant_api.post("/admin/bookings/<token:public_id>/no-show")
@staff_required()
def mark_no_show(public_id: str) -> Response:
    booking = booking_operations.mark_no_show(db.session, current_tenant(), public_id, actor=staff_actor())
    return _booking_response(booking.public_id)


@tenant_api.post("/admin/bookings/<token:public_id>/reschedule")
@staff_required()
def reschedule_booking(public_id: str) -> Response:
    starts_at = aware_datetime(json_body(BOOKING_RESCHEDULE)["starts_at"], "/starts_at")
    booking = booking_operations.reschedule(db.session, form_registry(), current_tenant(), public_id, starts_at=starts_at, actor=staff_actor())
    return _booking_response(booking.public_id)


@tenant_api.post("/admin/bookings/<token:public_id>/offline-payment")
@staff_required()
def record_offline_payment(public_id: str) -> Response:
    payments.record_offline_payment(db.session, current_tenant(), public_id, actor=staff_actor())
    return _booking_response(public_id)


@tenant_api.get("/admin/bookings/<token:public_id>/cancellation")
@staff_required()
def cancellation_quote(public_id: str) -> Response:
    return jsonify(cancellation_quote_json(payments.cancellation_quote(db.session, current_tenant(), public_id, by_staff=True)))


@tenant_api.post("/admin/bookings/<token:public_id>/refund")
@staff_required(StaffRole.manager)
def refund_booking(public_id: str) -> Response:
    body = json_body(BOOKING_REFUND)
    refunds = payments.refund_booking(db.session, current_tenant(), public_id, amount=body["amount"], note=body.get("note"), actor=staff_actor())
    return jsonify(refunds_json(refunds))


@tenant_api.get("/admin/booking-types/<slug:slug>/waitlist")
@staff_required()
def slot_waitlist(slug: str) -> Response:
    catalog.get_booking_type(db.session, current_tenant(), slug)  # another tenant's slug is not found, whatever the query
    start = request.args.get("start")
    if start is None:
        raise query_problem("start", _l("the slot's start is required"), "required")
    booking_type, lines = waitlist.slot_waitlist(db.session, current_tenant(), slug, aware_datetime(start, "/start"))
    return jsonify(waitlist_json(booking_type, lines, current_tenant()))


@tenant_api.get("/admin/bookings/<token:public_id>/name-list")
@staff_required()
def get_name_list(public_id: str) -> Response:
    return jsonify(name_list_json(*name_lists.name_list(db.session, current_tenant(), public_id)))


@tenant_api.put("/admin/bookings/<token:public_id>/name-list")
@staff_required()
def put_name_list(public_id: str) -> Response:
    """The file is read only once the booking is found in this tenant."""
    booking_by_id(db.session, public_id)
    listed = name_lists.read_name_list(*request_file((name_lists.XLSX_MEDIA_TYPE, name_lists.CSV_MEDIA_TYPE), name_lists.MAX_BYTES))
    return jsonify(name_list_json(*name_lists.replace_name_list(db.session, current_tenant(), public_id, listed, now=utcnow(), actor=staff_actor())))


@tenant_api.get("/admin/check-ins")
@staff_required()
def list_check_ins() -> Response:
    zone = ZoneInfo(current_tenant().time_zone)
    value = request.args.get("day")
    try:
        day = date.fromisoformat(value) if value else utcnow().astimezone(zone).date()
    except ValueError:
        raise query_problem("day", _l("a date as YYYY-MM-DD"), "invalid_date") from None
    return jsonify(check_in_log_json(day, check_in_log(db.session, current_tenant(), day), current_tenant()))


@tenant_api.post("/admin/check-ins")
@staff_required()
def create_check_in() -> Response:
    body = json_body(CHECK_IN)
    result = check_in(
        db.session,
        current_tenant(),
        secret_key=current_app.config["SECRET_KEY"],
        code=body.get("code"),
        qr=body.get("qr"),
        place=body.get("place"),
        staff_user_id=g.staff_token.user_id,
    )
    record = booking_record(db.session, current_tenant(), result.booking.public_id)
    return jsonify({"already_checked_in": result.already_checked_in, "booking": booking_json(record, current_tenant())})


# --- exports --------------------------------------------------------------------


def download(pieces: Iterator[Any], mimetype: str, extension: str, name: str = "bookings") -> Response:
    """A file streamed as it is written, named after what it holds, the tenant and the local time; never cached."""
    filename = f"{name}-{current_tenant().slug}-{utcnow().astimezone(ZoneInfo(current_tenant().time_zone)):%Y%m%d-%H%M}.{extension}"
    response = Response(stream_with_context(pieces), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@tenant_api.get("/admin/exports/bookings.xlsx")
@staff_required()
def export_bookings_xlsx() -> Response:
    return download(bookings_xlsx(db.session, current_tenant(), _booking_filters(EXPORT_QUERY)), XLSX_MIMETYPE, "xlsx")


@tenant_api.get("/admin/exports/bookings.csv")
@staff_required()
def export_bookings_csv() -> Response:
    return download(bookings_csv(db.session, current_tenant(), _booking_filters(EXPORT_QUERY)), f"{CSV_MIMETYPE}; charset=utf-8", "csv")


# --- login providers ------------------------------------------------------------


def _login_providers() -> LoginProviderRegistry:
    return current_app.extensions["yuyue.login_providers"]


@tenant_api.get("/admin/login-providers")
@staff_required(StaffRole.manager)
def list_login_providers() -> Response:
    registry = _login_providers()
    return jsonify({"login_providers": [login_settings_json(login_settings.login_settings_view(db.session, registry, key)) for key in registry.keys]})


@tenant_api.get("/admin/login-providers/<name:provider>")
@staff_required(StaffRole.manager)
def get_login_settings(provider: str) -> Response:
    return jsonify(login_settings_json(login_settings.login_settings_view(db.session, _login_providers(), provider)))


@tenant_api.put("/admin/login-providers/<name:provider>")
@staff_required(StaffRole.owner)
def set_login_settings(provider: str) -> Response:
    config = json_body(LOGIN_SETTINGS)
    view = login_settings.set_login_settings(db.session, _login_providers(), provider, config, actor=str(staff_actor()))
    return jsonify(login_settings_json(view))


@tenant_api.delete("/admin/login-providers/<name:provider>")
@staff_required(StaffRole.owner)
def delete_login_settings(provider: str) -> tuple[str, int]:
    login_settings.delete_login_settings(db.session, _login_providers(), provider, actor=str(staff_actor()))
    return "", 204
