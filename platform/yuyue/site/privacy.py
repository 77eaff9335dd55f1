"""The customer erases their own personal data on the site (``/me/erase``): a page that says what erasure does, a
confirmation box to tick, and the same operation as ``POST …/me/erasure``.

What blocks it (a booking still to come, a payment or refund not settled) is listed with a link to each booking; once
erased, this browser is signed out, since the customer it knew is gone. Personal: signed in, ``no-store``, CSRF.
"""

from __future__ import annotations

from flask import Response, request
from werkzeug.wrappers import Response as BaseResponse

from yuyue.api.auth import request_now
from yuyue.bookings.placement import Actor
from yuyue.customers.models import Customer
from yuyue.db import db
from yuyue.privacy.models import Requester
from yuyue.privacy.operations import ErasureBlocked, erase_customer
from yuyue.site.base import current_tenant, sign_out, site
from yuyue.site.personal import customer_or_login, personal_page


@site.route("/me/erase", methods=["GET", "POST"], endpoint="erase_my_data")
def erase_my_data() -> Response | BaseResponse:
    """GET: what erasure does, and the confirmation. POST: erase, if the box is ticked."""
    customer = customer_or_login()
    if not isinstance(customer, Customer):
        return customer
    if request.method == "GET":
        return personal_page("site/erase.html")
    if request.form.get("confirm") != "yes":
        return personal_page("site/erase.html", status=422, unconfirmed=True)
    try:
        done = erase_customer(
            db.session, current_tenant(), customer, requested_by=Requester.customer, actor=str(Actor("customer", customer.id)), now=request_now()
        )
    except ErasureBlocked as error:
        blockers = [problem.pointer.split("/") for problem in error.errors]
        return personal_page(
            "site/erase.html", status=409, bookings=[p[2] for p in blockers if p[1] == "bookings"], payments=[p[2] for p in blockers if p[1] == "payments"]
        )
    sign_out()
    return personal_page("site/erase.html", erased=done)
