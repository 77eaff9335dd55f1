"""A booking type's privacy notice for its staff: ``/api/v1/t/<tenant>/admin/booking-types/<slug>/privacy-notice…``.

Every staff role reads the notice, its versions and the consents given to it; managers and owners publish
a new version or withdraw it. The bodies and route descriptions are in
:mod:`yuyue.api.schemas.merchant.privacy_notices`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, jsonify, request
from flask_babel import lazy_gettext as _l

from yuyue.api.auth import staff_required
from yuyue.api.core import json_body
from yuyue.api.merchant import staff_actor
from yuyue.api.query import cursor_before, page_before, query_int, query_problem
from yuyue.api.schemas.merchant.privacy_notices import CONSENT_QUERY, PRIVACY_NOTICE_CHANGE
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.bookings.consents import consents_page
from yuyue.bookings.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from yuyue.catalog import privacy_notices
from yuyue.catalog.models import BookingType
from yuyue.catalog.operations import get_booking_type
from yuyue.db import db
from yuyue.presenting.staff import consent_row_json, privacy_notice_json
from yuyue.tenancy.models import StaffRole
from yuyue.types import MAX_INTEGER


def _zone() -> ZoneInfo:
    return ZoneInfo(current_tenant().time_zone)


def _notice_response(booking_type: BookingType) -> Response:
    versions, count = privacy_notices.notice_versions(db.session, booking_type)
    return jsonify(privacy_notice_json(booking_type, versions, count, _zone()))


@tenant_api.get("/admin/booking-types/<slug:slug>/privacy-notice")
@staff_required()
def get_privacy_notice(slug: str) -> Response:
    return _notice_response(get_booking_type(db.session, current_tenant(), slug))


@tenant_api.put("/admin/booking-types/<slug:slug>/privacy-notice")
@staff_required(StaffRole.manager)
def put_privacy_notice(slug: str) -> Response:
    text = json_body(PRIVACY_NOTICE_CHANGE)["text"]
    return _notice_response(privacy_notices.set_privacy_notice(db.session, current_tenant(), slug, text, actor=str(staff_actor())))


@tenant_api.delete("/admin/booking-types/<slug:slug>/privacy-notice")
@staff_required(StaffRole.manager)
def delete_privacy_notice(slug: str) -> tuple[str, int]:
    privacy_notices.withdraw_privacy_notice(db.session, current_tenant(), slug, actor=str(staff_actor()))
    return "", 204


@tenant_api.get("/admin/booking-types/<slug:slug>/privacy-notice/consents")
@staff_required()
def list_privacy_consents(slug: str) -> Response:
    booking_type = get_booking_type(db.session, current_tenant(), slug)
    unknown = [name for name in request.args if name not in CONSENT_QUERY]
    if unknown:
        raise query_problem(unknown[0], _l("unknown query parameter; use %(names)s", names=", ".join(CONSENT_QUERY)), "unknown_parameter")
    version = query_int("version", minimum=1, maximum=MAX_INTEGER)
    before_id, limit = page_before(default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    rows = consents_page(db.session, booking_type, version=version, before_id=before_id, limit=limit + 1)
    page = rows[:limit]
    return jsonify(
        {
            "consents": [consent_row_json(consent, public_id, _zone()) for consent, public_id in page],
            "next_cursor": cursor_before(page[-1][0].id) if len(rows) > limit else None,
        }
    )
