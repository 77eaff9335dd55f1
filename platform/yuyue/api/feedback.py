"""Reviews and feedback: the customer's own (``/me/bookings/<id>/review``, ``/me/feedback``) and the merchant's inbox (``/admin/feedback…``).

Customers write with their access token; every staff role reads the inbox, managers and owners act
(reply, hide and unhide, handled) and alone see phones in full. The operations are in
:mod:`yuyue.bookings.reviews`, the JSON in :mod:`yuyue.presenting.reviews`, the bodies and descriptions in
:mod:`yuyue.api.schemas.customer.reviews` and :mod:`yuyue.api.schemas.merchant.feedback`.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from flask import Response, g, jsonify, request

from yuyue.api.auth import customer_required, request_now, staff_required
from yuyue.api.core import json_body
from yuyue.api.limits import feedback_limit
from yuyue.api.merchant import staff_actor
from yuyue.api.query import cursor_before, page_before
from yuyue.api.schemas.customer.reviews import DEFAULT_PAGE_SIZE as CUSTOMER_PAGE_SIZE
from yuyue.api.schemas.customer.reviews import FEEDBACK_SEND, REVIEW_WRITE
from yuyue.api.schemas.customer.reviews import MAX_PAGE_SIZE as CUSTOMER_MAX_PAGE_SIZE
from yuyue.api.schemas.merchant.feedback import FEEDBACK_QUERY, HANDLED, HIDE, REPLY
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.bookings import reviews
from yuyue.bookings.models import Feedback
from yuyue.bookings.placement import Actor
from yuyue.bookings.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from yuyue.db import db
from yuyue.presenting.catalogs import locale_tag
from yuyue.presenting.customers import sees_in_full
from yuyue.presenting.reviews import customer_feedback_json, feedback_names, staff_feedback_json
from yuyue.tenancy.models import StaffRole

# View functions of the customer's side are named customer_*: endpoint names share tenant_api with the merchant API.


def _zone() -> ZoneInfo:
    return ZoneInfo(current_tenant().time_zone)


def _customer_actor() -> Actor:
    return Actor("customer", g.customer.id)


def _customer_item(item: Feedback) -> dict:
    return customer_feedback_json(item, feedback_names(db.session, [item]), _zone(), locale_tag())


# --- the customer's own -------------------------------------------------------------


def _reviewed(public_id: str, write: Callable[..., Feedback]) -> dict:
    """The body's review of the caller's booking ``public_id``, written or changed by ``write``; as the customer reads it."""
    body = json_body(REVIEW_WRITE)
    review = write(
        db.session,
        current_tenant(),
        g.customer,
        public_id,
        rating=body["rating"],
        comment=body.get("comment"),
        resource=body.get("resource"),
        now=request_now(),
        actor=_customer_actor(),
    )
    return _customer_item(review)


@tenant_api.post("/me/bookings/<token:public_id>/review")
@customer_required
@feedback_limit
def customer_write_review(public_id: str) -> tuple[Response, int]:
    return jsonify(_reviewed(public_id, reviews.write_review)), 201


@tenant_api.put("/me/bookings/<token:public_id>/review")
@customer_required
@feedback_limit
def customer_edit_review(public_id: str) -> Response:
    return jsonify(_reviewed(public_id, reviews.edit_review))


@tenant_api.get("/me/feedback")
@customer_required
def customer_feedback() -> Response:
    before_id, limit = page_before(default=CUSTOMER_PAGE_SIZE, maximum=CUSTOMER_MAX_PAGE_SIZE)
    items = reviews.customer_feedback(db.session, current_tenant(), g.customer, before_id=before_id, limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    names, zone, locale = feedback_names(db.session, items), _zone(), locale_tag()
    return jsonify({"items": [customer_feedback_json(i, names, zone, locale) for i in items], "next_cursor": cursor_before(items[-1].id) if more else None})


@tenant_api.post("/me/feedback")
@customer_required
@feedback_limit
def customer_send_feedback() -> tuple[Response, int]:
    body = json_body(FEEDBACK_SEND)
    item = reviews.send_feedback(
        db.session, current_tenant(), g.customer, comment=body["comment"], category=body.get("category"), now=request_now(), actor=_customer_actor()
    )
    return jsonify(_customer_item(item)), 201


# --- the merchant's inbox -----------------------------------------------------------


def _staff_item(item: Feedback) -> Response:
    return jsonify(staff_feedback_json(item, feedback_names(db.session, [item]), _zone(), locale_tag(), full=sees_in_full(g.staff_token.role)))


@tenant_api.get("/admin/feedback")
@staff_required()
def list_feedback() -> Response:
    filters = reviews.feedback_filters_from_query(request.args, FEEDBACK_QUERY)
    before_id, limit = page_before(default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    page = reviews.search_feedback(db.session, current_tenant(), filters, before_id=before_id, limit=limit)
    names, zone, locale, full = feedback_names(db.session, page.items), _zone(), locale_tag(), sees_in_full(g.staff_token.role)
    items = [staff_feedback_json(i, names, zone, locale, full=full) for i in page.items]
    return jsonify({"items": items, "next_cursor": cursor_before(page.items[-1].id) if page.more else None})


@tenant_api.get("/admin/feedback/<row_id:feedback_id>")
@staff_required()
def get_feedback(feedback_id: int) -> Response:
    return _staff_item(reviews.get_feedback(db.session, current_tenant(), feedback_id))


@tenant_api.post("/admin/feedback/<row_id:feedback_id>/reply")
@staff_required(StaffRole.manager)
def reply_to_feedback(feedback_id: int) -> Response:
    body = json_body(REPLY)
    return _staff_item(reviews.reply_to_feedback(db.session, current_tenant(), feedback_id, reply=body["reply"], now=request_now(), actor=staff_actor()))


@tenant_api.post("/admin/feedback/<row_id:feedback_id>/hide")
@staff_required(StaffRole.manager)
def hide_feedback(feedback_id: int) -> Response:
    body = json_body(HIDE)
    return _staff_item(reviews.hide_feedback(db.session, current_tenant(), feedback_id, reason=body["reason"], now=request_now(), actor=staff_actor()))


@tenant_api.post("/admin/feedback/<row_id:feedback_id>/unhide")
@staff_required(StaffRole.manager)
def unhide_feedback(feedback_id: int) -> Response:
    return _staff_item(reviews.unhide_feedback(db.session, current_tenant(), feedback_id, now=request_now(), actor=staff_actor()))


@tenant_api.post("/admin/feedback/<row_id:feedback_id>/handled")
@staff_required(StaffRole.manager)
def mark_feedback_handled(feedback_id: int) -> Response:
    body = json_body(HANDLED)
    return _staff_item(reviews.mark_handled(db.session, current_tenant(), feedback_id, handled=body["handled"], now=request_now(), actor=staff_actor()))
