"""Merchant API: ``/api/v1/t/<tenant>/admin/…`` for a tenant's staff tokens.

Booking types and resources (reading needs the staff role, changing them
manager), bookings (search, confirm, cancel, no-show), check-ins by voucher
code or QR payload, exports, and the tenant's own login-provider settings
(its WeChat mini-program: the owner sets them, secrets are never shown).
Another tenant's ids, codes and slugs are simply not found: every lookup runs
inside the tenant of the URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, jsonify, request, stream_with_context, url_for

from yuyue.api.auth import staff_required
from yuyue.api.converters import NameConverter, SlugConverter, TokenConverter, path_parameter
from yuyue.api.core import json_body
from yuyue.api.query import query_int
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.bookings import operations as booking_operations
from yuyue.bookings.checkin import check_in
from yuyue.bookings.models import BookingStatus
from yuyue.bookings.placement import Actor
from yuyue.bookings.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, BookingFilters, BookingRecord, booking_record, search_bookings
from yuyue.catalog import operations as catalog
from yuyue.catalog.models import BookingType, BookingTypeStatus, Resource
from yuyue.catalog.operations import current_form_version
from yuyue.customers import login_settings
from yuyue.customers.login_providers import LoginProviderRegistry
from yuyue.db import db
from yuyue.errors import FieldProblem, InvalidInput
from yuyue.exports.operations import CSV_MIMETYPE, XLSX_MIMETYPE, bookings_csv, bookings_xlsx
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.scheduling.registry import current_registry
from yuyue.tenancy.models import StaffRole
from yuyue.tenancy.operations import SLUG_PATTERN
from yuyue.types import bounded_integer, utcnow

# --- request bodies -------------------------------------------------------------
# Shapes only: the operations check rules, policies, forms and localized text
# against the shared schemas and point at the exact field that is wrong.

MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 4000


def localized_text(max_length: int, *, nullable: bool = False) -> dict[str, Any]:
    """One string, or a string per language; the localized-text schema checks the languages, this the length."""
    return {
        "type": ["string", "object", "null"] if nullable else ["string", "object"],
        "maxLength": max_length,
        "additionalProperties": {"type": "string", "maxLength": max_length},
        "description": f"one string, or a string per language (zh-Hans, zh-Hant, en); at most {max_length} characters each",
    }


LOCALIZED_TEXT = localized_text(MAX_NAME_LENGTH)
BOOKING_TYPE_SETTINGS: dict[str, Any] = {
    "name": LOCALIZED_TEXT,
    "description": localized_text(MAX_DESCRIPTION_LENGTH, nullable=True),
    "availability_rules": {"type": "array", "items": {"type": "object"}, "description": "slot rules, see the slot-rules schemas"},
    "policies": {"type": "object", "description": "see the policies schema"},
    "resource_requirements": {"type": "array", "items": {"type": "object"}},
    "price_amount": {"type": "integer", "minimum": 0, "maximum": catalog.MAX_INTEGER, "description": "in fen"},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "hold_minutes": {"type": "integer", "minimum": 0, "maximum": catalog.MAX_HOLD_MINUTES},
    "max_party_size": {"type": "integer", "minimum": 1, "maximum": 1000},
    "form": {"type": "object", "description": "the booking form in the form dialect; a new one publishes the next form version"},
    "ui": {"type": "object", "description": "the form's UI schema"},
}
BOOKING_TYPE_CREATE = {
    "type": "object",
    "required": ["vertical", "slug", "name"],
    "additionalProperties": False,
    "properties": {
        "vertical": {"type": "string", "minLength": 1, "maxLength": 40},
        "slug": {"type": "string", "pattern": SLUG_PATTERN.pattern},
        **BOOKING_TYPE_SETTINGS,
    },
}
BOOKING_TYPE_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {**BOOKING_TYPE_SETTINGS, "status": {"enum": [s.value for s in BookingTypeStatus]}},
}
SCHEDULE = {**catalog.SCHEDULE_SCHEMA, "type": ["object", "null"], "description": "weekday → working hours; null: always available"}
RESOURCE_CREATE = {
    "type": "object",
    "required": ["kind", "code", "name"],
    "additionalProperties": False,
    "properties": {
        "kind": {"type": "string", "minLength": 1, "maxLength": 40},
        "code": {"type": "string", "pattern": NameConverter.schema["pattern"]},
        "name": LOCALIZED_TEXT,
        "schedule": SCHEDULE,
    },
}
RESOURCE_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"name": LOCALIZED_TEXT, "schedule": SCHEDULE, "active": {"type": "boolean"}},
}
BOOKING_CANCEL = {"type": "object", "additionalProperties": False, "properties": {"reason": {"type": "string", "maxLength": 200}}}
CHECK_IN = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "minLength": 1, "maxLength": 40, "description": "the voucher code as typed; case, spaces and dashes do not matter"},
        "qr": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "the payload of the booking's QR code"},
        "place": {"type": "string", "maxLength": 100},
    },
}

LOGIN_SETTINGS = {
    "type": "object",
    "description": "the provider's settings, as its settings_schema (GET) describes; a writeOnly setting left out keeps its stored value",
}

BOOKING_QUERY = ("from", "to", "status", "booking_type", "q", "cursor", "limit")
EXPORT_QUERY = ("from", "to", "status", "booking_type", "q")


def _staff_actor() -> Actor:
    token = g.staff_token
    return Actor("staff", token.user_id or f"token-{token.id}")


def _booking_filters(allowed: tuple[str, ...]) -> BookingFilters:
    """The filters of the query string; every problem is reported at once, pointed at by parameter name."""
    args = request.args
    problems = [FieldProblem(f"/{name}", f"unknown query parameter; use {', '.join(allowed)}", "unknown_parameter") for name in args if name not in allowed]
    dates: dict[str, date | None] = {}
    for name in ("from", "to"):
        value = args.get(name)
        try:
            dates[name] = date.fromisoformat(value) if value else None
        except ValueError:
            dates[name] = None
            problems.append(FieldProblem(f"/{name}", "a date as YYYY-MM-DD", "invalid_date"))
    statuses = [s.strip() for s in args.get("status", "").split(",") if s.strip()]
    for status in statuses:
        if status not in BookingStatus.__members__:
            problems.append(FieldProblem("/status", f"{status!r} is not one of {', '.join(BookingStatus)}", "invalid_status"))
    text = args.get("q")
    if text is not None and len(text) > 100:
        problems.append(FieldProblem("/q", "at most 100 characters", "too_long"))
    if problems:
        raise InvalidInput("the query parameters are not valid", errors=problems)
    return BookingFilters(
        date_from=dates["from"],
        date_to=dates["to"],
        statuses=tuple(BookingStatus(s) for s in statuses),
        booking_type=args.get("booking_type") or None,
        text=text,
    )


def _page_size() -> int:
    return query_int("limit", minimum=1, maximum=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)


# --- rendering ------------------------------------------------------------------


def _iso(value: Any, zone: ZoneInfo) -> str | None:
    return value.astimezone(zone).isoformat() if value is not None else None


def booking_type_json(booking_type: BookingType, *, with_form: bool = False) -> dict[str, Any]:
    body = {
        "slug": booking_type.slug,
        "vertical": booking_type.vertical,
        "name": booking_type.name,
        "description": booking_type.description,
        "status": booking_type.status.value,
        "availability_rules": booking_type.availability_rules,
        "policies": booking_type.policies,
        "resource_requirements": booking_type.resource_requirements,
        "price_amount": booking_type.price_amount,
        "currency": booking_type.currency,
        "hold_minutes": booking_type.hold_minutes,
        "max_party_size": booking_type.max_party_size,
        "form_version": booking_type.form_version,
        "created_at": booking_type.created_at.isoformat(),
        "updated_at": booking_type.updated_at.isoformat(),
    }
    if with_form:
        form = current_form_version(db.session, booking_type)
        body["form"] = {"version": form.version, "definition": form.definition, "ui": form.ui}
    return body


def resource_json(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "code": resource.code,
        "kind": resource.kind,
        "name": resource.name,
        "schedule": resource.schedule,
        "active": resource.active,
        "created_at": resource.created_at.isoformat(),
    }


def _masked(id_number: str | None) -> str | None:
    # Enough to match the card in the visitor's hand; the full number stays in the database.
    return None if id_number is None else "*" * max(len(id_number) - 4, 0) + id_number[-4:]


def booking_json(record: BookingRecord, *, with_answers: bool = False) -> dict[str, Any]:
    booking, zone = record.booking, ZoneInfo(current_tenant().time_zone)
    body = {
        "id": booking.public_id,
        "booking_type": record.booking_type.slug,
        "status": booking.status.value,
        "starts_at": _iso(booking.starts_at, zone),
        "ends_at": _iso(booking.ends_at, zone),
        "local_date": booking.local_date.isoformat(),
        "time_zone": zone.key,
        "channel": booking.channel,
        "party_size": booking.party_size,
        "price_amount": booking.price_amount,
        "currency": booking.currency,
        "voucher_code": booking.voucher_code,
        "hold_expires_at": _iso(booking.hold_expires_at, zone),
        "cancel_reason": booking.cancel_reason,
        "created_at": _iso(booking.created_at, zone),
        "customer": {"phone": record.customer.phone, "name": record.customer.name},
        "people": [{"name": p.name, "phone": p.phone, "id_number": _masked(p.id_number), "is_minor": p.is_minor} for p in record.people],
        "check_in": ({"at": _iso(record.check_in.at, zone), "place": record.check_in.place, "method": record.check_in.method} if record.check_in else None),
    }
    if with_answers:
        body["form_version"] = booking.form_version
        body["answers"] = booking.answers
    return body


def _booking_response(public_id: str) -> Response:
    return jsonify(booking_json(booking_record(db.session, current_tenant(), public_id), with_answers=True))


# --- booking types --------------------------------------------------------------


@tenant_api.get("/admin/booking-types")
@staff_required()
def list_booking_types() -> Response:
    return jsonify({"booking_types": [booking_type_json(t) for t in catalog.list_booking_types(db.session, current_tenant())]})


@tenant_api.post("/admin/booking-types")
@staff_required(StaffRole.manager)
def create_booking_type() -> tuple[Response, int, dict[str, str]]:
    body = json_body(BOOKING_TYPE_CREATE)
    booking_type = catalog.create_booking_type(db.session, plugin_host(), form_registry(), current_registry(), current_tenant(), **body)
    location = url_for(".get_booking_type", tenant_slug=current_tenant().slug, slug=booking_type.slug)
    return jsonify(booking_type_json(booking_type, with_form=True)), 201, {"Location": location}


@tenant_api.get("/admin/booking-types/<slug:slug>")
@staff_required()
def get_booking_type(slug: str) -> Response:
    return jsonify(booking_type_json(catalog.get_booking_type(db.session, current_tenant(), slug), with_form=True))


@tenant_api.patch("/admin/booking-types/<slug:slug>")
@staff_required(StaffRole.manager)
def update_booking_type(slug: str) -> Response:
    body = json_body(BOOKING_TYPE_CHANGE)
    booking_type = catalog.update_booking_type(db.session, plugin_host(), form_registry(), current_registry(), current_tenant(), slug, **body)
    return jsonify(booking_type_json(booking_type, with_form=True))


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
    return jsonify({"bookings": [booking_json(r) for r in page.records], "next_cursor": page.next_cursor})


@tenant_api.get("/admin/bookings/<token:public_id>")
@staff_required()
def get_booking(public_id: str) -> Response:
    return _booking_response(public_id)


@tenant_api.post("/admin/bookings/<token:public_id>/confirm")
@staff_required()
def confirm_booking(public_id: str) -> Response:
    booking = booking_operations.confirm(db.session, current_tenant(), public_id, actor=_staff_actor())
    return _booking_response(booking.public_id)


@tenant_api.post("/admin/bookings/<token:public_id>/cancel")
@staff_required()
def cancel_booking(public_id: str) -> Response:
    body = json_body(BOOKING_CANCEL, required=False)  # an action may be posted without a body
    booking = booking_operations.cancel(db.session, current_tenant(), public_id, actor=_staff_actor(), reason=body.get("reason"), by_staff=True)
    return _booking_response(booking.public_id)


@tenant_api.post("/admin/bookings/<token:public_id>/no-show")
@staff_required()
def mark_no_show(public_id: str) -> Response:
    booking = booking_operations.mark_no_show(db.session, current_tenant(), public_id, actor=_staff_actor())
    return _booking_response(booking.public_id)


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
    return jsonify({"already_checked_in": result.already_checked_in, "booking": booking_json(record)})


# --- exports --------------------------------------------------------------------


def _download(pieces: Iterator[Any], mimetype: str, extension: str) -> Response:
    filename = f"bookings-{current_tenant().slug}-{utcnow().astimezone(ZoneInfo(current_tenant().time_zone)):%Y%m%d-%H%M}.{extension}"
    response = Response(stream_with_context(pieces), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@tenant_api.get("/admin/exports/bookings.xlsx")
@staff_required()
def export_bookings_xlsx() -> Response:
    return _download(bookings_xlsx(db.session, current_tenant(), _booking_filters(EXPORT_QUERY)), XLSX_MIMETYPE, "xlsx")


@tenant_api.get("/admin/exports/bookings.csv")
@staff_required()
def export_bookings_csv() -> Response:
    return _download(bookings_csv(db.session, current_tenant(), _booking_filters(EXPORT_QUERY)), f"{CSV_MIMETYPE}; charset=utf-8", "csv")


# --- login providers ------------------------------------------------------------


def _login_providers() -> LoginProviderRegistry:
    return current_app.extensions["yuyue.login_providers"]


def login_settings_json(view: login_settings.LoginSettingsView) -> dict[str, Any]:
    return {
        "provider": view.provider,
        "source": view.source,
        "settings": view.settings,
        "write_only_set": view.write_only_set,
        "settings_schema": view.settings_schema,
    }


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
    view = login_settings.set_login_settings(db.session, _login_providers(), provider, config, actor=str(_staff_actor()))
    return jsonify(login_settings_json(view))


@tenant_api.delete("/admin/login-providers/<name:provider>")
@staff_required(StaffRole.owner)
def delete_login_settings(provider: str) -> tuple[str, int]:
    login_settings.delete_login_settings(db.session, _login_providers(), provider, actor=str(_staff_actor()))
    return "", 204


# --- OpenAPI --------------------------------------------------------------------


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


ERRORS = {
    400: "malformed JSON",
    404: "not found in this tenant",
    409: "refused by the booking's state or rules (code names which)",
    422: "invalid input; errors point at each field or query parameter",
}


def _operation(
    summary: str,
    role: StaffRole,
    ok: int,
    ok_content: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    body_required: bool = True,
    parameters: list[dict[str, Any]] | None = None,
    errors: tuple[int, ...] = (),
) -> dict[str, Any]:
    responses: dict[str, Any] = {str(ok): {"description": "OK", **ok_content}}
    responses["401"] = _problem("missing, unknown or revoked token")
    responses["403"] = _problem(f"not a staff token of this tenant with the {role.value} role or higher, or the tenant is suspended")
    for status in errors:
        responses[str(status)] = _problem(ERRORS[status])
    operation: dict[str, Any] = {"summary": summary, "tags": ["merchant"], "security": [{"staffToken": []}], "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": body_required, **_json(body)}
    if parameters:
        operation["parameters"] = parameters
    return operation


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


TENANT_PARAMETER = path_parameter("tenant_slug", SlugConverter, "the tenant's slug")
FILTER_PARAMETERS = [
    _query("from", "first slot date, in the tenant's time zone (inclusive)", {"type": "string", "format": "date"}),
    _query("to", "last slot date, in the tenant's time zone (inclusive)", {"type": "string", "format": "date"}),
    _query("status", "one status or several separated by commas", {"type": "string"}),
    _query("booking_type", "a booking type's slug", {"type": "string"}),
    _query("q", "part of a customer's or listed person's phone or name, or a voucher code", {"type": "string", "maxLength": 100}),
]
PAGE_PARAMETERS = [
    _query("cursor", "next_cursor of the previous page", {"type": "string"}),
    _query("limit", "page size", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}),
]
NULLABLE_TEXT = {"type": ["string", "null"]}
BOOKING_TYPE_SCHEMA = {
    "type": "object",
    "properties": {
        "slug": {"type": "string"},
        "vertical": {"type": "string"},
        **{key: value for key, value in BOOKING_TYPE_SETTINGS.items() if key not in ("form", "ui")},
        "status": {"enum": [s.value for s in BookingTypeStatus]},
        "form_version": bounded_integer(1),
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "form": {
            "type": "object",
            "description": "the current form version (single booking type only)",
            "properties": {"version": bounded_integer(1), "definition": {"type": "object"}, "ui": {"type": "object"}},
        },
    },
}
RESOURCE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": bounded_integer(1, description="what resource_requirements[].resource_ids refer to"),
        "code": {"type": "string"},
        "kind": {"type": "string"},
        "name": LOCALIZED_TEXT,
        "schedule": SCHEDULE,
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}
BOOKING_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "booking_type": {"type": "string"},
        "status": {"enum": [s.value for s in BookingStatus]},
        "starts_at": {"type": "string", "format": "date-time", "description": "with the tenant's UTC offset"},
        "ends_at": {"type": "string", "format": "date-time"},
        "local_date": {"type": "string", "format": "date"},
        "time_zone": {"type": "string"},
        "channel": {"type": "string"},
        "party_size": bounded_integer(),
        "price_amount": bounded_integer(),
        "currency": {"type": "string"},
        "voucher_code": NULLABLE_TEXT,
        "hold_expires_at": {"type": ["string", "null"], "format": "date-time"},
        "cancel_reason": NULLABLE_TEXT,
        "created_at": {"type": "string", "format": "date-time"},
        "customer": {"type": "object", "properties": {"phone": {"type": "string"}, "name": NULLABLE_TEXT}},
        "people": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": NULLABLE_TEXT,
                    "phone": NULLABLE_TEXT,
                    "id_number": {"type": ["string", "null"], "description": "masked: only the last four characters"},
                    "is_minor": {"type": "boolean"},
                },
            },
        },
        "check_in": {
            "type": ["object", "null"],
            "properties": {"at": {"type": "string", "format": "date-time"}, "place": NULLABLE_TEXT, "method": {"enum": ["code", "qr"]}},
        },
        "form_version": bounded_integer(1, description="single booking only"),
        "answers": {"type": "object", "description": "the booking form's answers (single booking only)"},
    },
}
BOOKING_ID = path_parameter("public_id", TokenConverter, "the booking's id")
LOGIN_PROVIDER = path_parameter("provider", NameConverter, "a login provider's key, e.g. wechat")
LOGIN_SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "provider": {"type": "string"},
        "source": {
            "enum": ["tenant", "application", "none"],
            "description": "whose settings logins use: the tenant's own, the application's fallback, or none",
        },
        "settings": {"type": "object", "description": "the tenant's own settings, without writeOnly values"},
        "write_only_set": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the writeOnly settings the tenant has set; their values are never shown",
        },
        "settings_schema": {"type": "object", "description": "the JSON Schema of the provider's settings; writeOnly marks secrets"},
    },
}


def _action(summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "parameters": [TENANT_PARAMETER, BOOKING_ID],
        "post": _operation(
            summary, StaffRole.staff, 200, _json(BOOKING_SCHEMA), body=body, body_required=False, errors=(400, 404, 409, 422) if body else (404, 409)
        ),
    }


def _export(summary: str, mimetype: str) -> dict[str, Any]:
    download = {"content": {mimetype: {"schema": {"type": "string", "format": "binary"}}}}
    return {"parameters": [TENANT_PARAMETER], "get": _operation(summary, StaffRole.staff, 200, download, parameters=FILTER_PARAMETERS, errors=(422,))}


PREFIX = "/api/v1/t/{tenant_slug}/admin"
OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/booking-types": {
        "parameters": [TENANT_PARAMETER],
        "get": _operation(
            "List booking types, drafts and archived included",
            StaffRole.staff,
            200,
            _json({"type": "object", "properties": {"booking_types": {"type": "array", "items": BOOKING_TYPE_SCHEMA}}}),
        ),
        "post": _operation(
            "Create a booking type from a vertical; settings left out come from the vertical",
            StaffRole.manager,
            201,
            _json(BOOKING_TYPE_SCHEMA),
            body=BOOKING_TYPE_CREATE,
            errors=(400, 404, 409, 422),
        ),
    },
    f"{PREFIX}/booking-types/{{slug}}": {
        "parameters": [TENANT_PARAMETER, path_parameter("slug", SlugConverter, "the booking type's slug")],
        "get": _operation("Show a booking type with its current form", StaffRole.staff, 200, _json(BOOKING_TYPE_SCHEMA), errors=(404,)),
        "patch": _operation(
            "Change a booking type; a new form or UI schema publishes the next form version",
            StaffRole.manager,
            200,
            _json(BOOKING_TYPE_SCHEMA),
            body=BOOKING_TYPE_CHANGE,
            errors=(400, 404, 409, 422),
        ),
    },
    f"{PREFIX}/resources": {
        "parameters": [TENANT_PARAMETER],
        "get": _operation(
            "List resources (coaches, vehicles, rooms…)",
            StaffRole.staff,
            200,
            _json({"type": "object", "properties": {"resources": {"type": "array", "items": RESOURCE_SCHEMA}}}),
        ),
        "post": _operation("Add a resource", StaffRole.manager, 201, _json(RESOURCE_SCHEMA), body=RESOURCE_CREATE, errors=(400, 409, 422)),
    },
    f"{PREFIX}/resources/{{code}}": {
        "parameters": [TENANT_PARAMETER, path_parameter("code", NameConverter, "the resource's code")],
        "patch": _operation(
            "Rename a resource, change its working hours or (de)activate it",
            StaffRole.manager,
            200,
            _json(RESOURCE_SCHEMA),
            body=RESOURCE_CHANGE,
            errors=(400, 404, 422),
        ),
    },
    f"{PREFIX}/bookings": {
        "parameters": [TENANT_PARAMETER],
        "get": _operation(
            "Search bookings by slot date, status, booking type and text; pages ordered by slot start",
            StaffRole.staff,
            200,
            _json(
                {
                    "type": "object",
                    "properties": {"bookings": {"type": "array", "items": BOOKING_SCHEMA}, "next_cursor": NULLABLE_TEXT},
                }
            ),
            parameters=FILTER_PARAMETERS + PAGE_PARAMETERS,
            errors=(422,),
        ),
    },
    f"{PREFIX}/bookings/{{public_id}}": {
        "parameters": [TENANT_PARAMETER, BOOKING_ID],
        "get": _operation("Show a booking with its form answers", StaffRole.staff, 200, _json(BOOKING_SCHEMA), errors=(404,)),
    },
    f"{PREFIX}/bookings/{{public_id}}/confirm": _action("Confirm a held booking (paid on site)"),
    f"{PREFIX}/bookings/{{public_id}}/cancel": _action("Cancel a booking without a late-cancellation penalty", BOOKING_CANCEL),
    f"{PREFIX}/bookings/{{public_id}}/no-show": _action("Mark a booking whose slot has started as a no-show"),
    f"{PREFIX}/check-ins": {
        "parameters": [TENANT_PARAMETER],
        "post": _operation(
            "Check a booking in by voucher code or QR payload; a repeated scan answers with the first check-in",
            StaffRole.staff,
            200,
            _json({"type": "object", "properties": {"already_checked_in": {"type": "boolean"}, "booking": BOOKING_SCHEMA}}),
            body=CHECK_IN,
            errors=(400, 404, 409, 422),
        ),
    },
    f"{PREFIX}/exports/bookings.xlsx": _export("Export bookings as an Excel workbook, times in the tenant's zone", XLSX_MIMETYPE),
    f"{PREFIX}/exports/bookings.csv": _export("Export bookings as UTF-8 csv, times in the tenant's zone", CSV_MIMETYPE),
    f"{PREFIX}/login-providers": {
        "parameters": [TENANT_PARAMETER],
        "get": _operation(
            "The tenant's settings for every login provider, write-only values (secrets) left out",
            StaffRole.manager,
            200,
            _json({"type": "object", "properties": {"login_providers": {"type": "array", "items": LOGIN_SETTINGS_SCHEMA}}}),
        ),
    },
    f"{PREFIX}/login-providers/{{provider}}": {
        "parameters": [TENANT_PARAMETER, LOGIN_PROVIDER],
        "get": _operation(
            "The tenant's settings for one login provider, write-only values (secrets) left out",
            StaffRole.manager,
            200,
            _json(LOGIN_SETTINGS_SCHEMA),
            errors=(404,),
        ),
        "put": _operation(
            "Set the tenant's own settings for a login provider (its WeChat mini-program's AppID and AppSecret)",
            StaffRole.owner,
            200,
            _json(LOGIN_SETTINGS_SCHEMA),
            body=LOGIN_SETTINGS,
            errors=(400, 404, 422),
        ),
        "delete": _operation(
            "Forget the tenant's settings for a login provider; logins fall back to the application's", StaffRole.owner, 204, {}, errors=(404,)
        ),
    },
}
