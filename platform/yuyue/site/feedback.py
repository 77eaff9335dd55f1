"""Reviews and feedback on the site: the review form of a finished booking's page, and the customer's feedback page (issue 15).

The same operations as ``POST``/``PUT …/me/bookings/<id>/review`` and ``…/me/feedback``. A review is written by
the signed-in customer whose booking it is, once the visit is over; it can be changed until the merchant replies,
and the reply shows beneath it (the booking's page is :func:`yuyue.site.booking.voucher`, which posts here through
:func:`save_review`). What the server refuses is shown next to its field with what was typed kept. Pages work
without JavaScript; texts are shown escaped (Jinja's autoescape).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from yuyue.api.auth import request_now
from yuyue.api.limits import by_customer_or_address, rate_limit
from yuyue.bookings import reviews
from yuyue.bookings.models import Booking
from yuyue.bookings.placement import Actor
from yuyue.customers.models import Customer
from yuyue.db import db
from yuyue.errors import Conflict, InvalidInput
from yuyue.presenting.catalogs import locale_tag
from yuyue.presenting.language import localize
from yuyue.presenting.reviews import customer_feedback_json, feedback_names
from yuyue.site.base import current_tenant, signed_in_customer, site
from yuyue.site.personal import customer_or_login, personal_page

__all__ = ["REVIEW_FIELDS", "posted_review", "review_form", "save_review"]

# The most of a posted text kept to show again: one past every limit, so the operation judges the length.
LONGEST_INPUT = reviews.MAX_COMMENT_LENGTH + 1
FEEDBACK_SHOWN = 50
REVIEW_FIELDS = ("rating", "comment", "resource")


def _posted(name: str) -> str:
    return request.form.get(name, "")[:LONGEST_INPUT]


def _field_errors(error: InvalidInput | Conflict) -> dict[str, str]:
    """Each problem by the field it points at; a refusal of the whole (a 409) under ``""``."""
    return {p.pointer.lstrip("/").split("/")[0]: str(p.message) for p in error.errors} or {"": str(error.message)}


def review_form(booking: Booking, review: dict[str, Any] | None, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> dict | None:
    """What the booking's page needs to rate it, or None when this reader may not (not their booking, not over, replied to)."""
    customer = signed_in_customer()
    if customer is None or customer.id != booking.customer_id or not reviews.is_over(booking, request_now()):
        return None
    if review is not None and not review["editable"]:
        return None
    if values is None:
        resource = (review or {}).get("resource") or {}
        values = {"rating": str(review["rating"]) if review else "", "comment": (review or {}).get("comment") or "", "resource": resource.get("code", "")}
    locale = locale_tag()
    return {
        "action": url_for("site.review_booking", public_id=booking.public_id),
        "resources": [{"code": r.code, "name": localize(r.name, locale)} for r in reviews.serving_resources(db.session, booking)],
        "values": values,
        "errors": errors or {},
        "editing": review is not None,
    }


def posted_review() -> dict[str, str]:
    return {name: _posted(name) for name in REVIEW_FIELDS}


def save_review(customer: Customer, booking: Booking, values: dict[str, str]) -> dict[str, str]:
    """Write the customer's review of ``booking`` from the posted ``values``, or change the one they wrote; the problems by field, if refused."""
    rating: Any = int(values["rating"]) if values["rating"] in {"1", "2", "3", "4", "5"} else values["rating"]
    write = reviews.edit_review if reviews.reviews_of_bookings(db.session, [booking]) else reviews.write_review
    try:
        write(
            db.session,
            current_tenant(),
            customer,
            booking.public_id,
            rating=rating,
            comment=values["comment"] or None,
            resource=values["resource"] or None,
            now=request_now(),
            actor=Actor("customer", customer.id),
        )
    except (InvalidInput, Conflict) as error:
        return _field_errors(error)
    return {}


def _feedback_page(
    customer: Customer, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None, sent: bool = False, status: int = 200
) -> Response:
    items = reviews.customer_feedback(db.session, current_tenant(), customer, limit=FEEDBACK_SHOWN)
    names, zone, locale = feedback_names(db.session, items), ZoneInfo(current_tenant().time_zone), locale_tag()
    return personal_page(
        "site/feedback.html",
        status=status,
        items=[{**customer_feedback_json(item, names, zone, locale), "written_at": item.created_at} for item in items],
        categories=reviews.CATEGORIES,
        values=values or {"comment": "", "category": ""},
        errors=errors or {},
        sent=sent,
    )


@site.route("/me/feedback", methods=["GET", "POST"], endpoint="my_feedback")
@rate_limit("RATELIMIT_FEEDBACK", by_customer_or_address, methods=("POST",))
def my_feedback() -> Response | BaseResponse:
    """GET: the customer's reviews and feedback with the merchant's replies, and a form for feedback. POST: send it."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    if request.method == "GET":
        return _feedback_page(customer, sent=request.args.get("sent") == "1")
    values = {"comment": _posted("comment"), "category": _posted("category")}
    try:
        reviews.send_feedback(
            db.session,
            current_tenant(),
            customer,
            comment=values["comment"],
            category=values["category"] or None,
            now=request_now(),
            actor=Actor("customer", customer.id),
        )
    except InvalidInput as error:
        return _feedback_page(customer, values=values, errors=_field_errors(error), status=422)
    return redirect(url_for("site.my_feedback", sent=1), code=303)
