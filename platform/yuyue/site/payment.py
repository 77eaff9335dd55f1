"""Paying for a held booking on the site, and the sandbox's checkout page standing in for a provider's (decisions §52).

The pay page shows the open payment (reading only); its button opens one the way ``POST
…/bookings/<id>/pay`` does (:func:`~yuyue.payments.operations.payment_instructions`). An offline
payment shows the merchant's instruction; a provider's payment sends the customer to the
provider's page, which for the sandbox is :func:`sandbox_checkout` here: it pays through the same
signed notification as the API's checkout and returns to the voucher, as a provider's page would.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from yuyue.bookings.models import Booking, BookingStatus
from yuyue.db import db
from yuyue.errors import DomainError, NotFound
from yuyue.payments.builtin import SandboxProvider, pay_in_sandbox, sandbox_payment
from yuyue.payments.models import PaymentStatus
from yuyue.payments.operations import payment_instructions, pending_payment_instructions
from yuyue.payments.providers import payment_providers
from yuyue.presenting.catalogs import locale_tag
from yuyue.presenting.language import localize
from yuyue.site.base import current_tenant, may_see_booking, site
from yuyue.site.personal import personal_page, visible_booking


def _next_step(booking: Booking, instructions: dict[str, Any]) -> BaseResponse | None:
    """Where a provider's payment is paid: the site's sandbox page, or the provider's own; None when there is nothing to open (offline)."""
    if instructions.get("kind") != "redirect":
        return None
    if instructions["provider"] == SandboxProvider.key:
        return redirect(url_for("site.sandbox_checkout", reference=instructions["reference"]), code=303)
    return redirect(instructions["pay_url"], code=303)


def _pay_page(booking: Booking, instructions: dict[str, Any] | None, *, status: int = 200) -> Response:
    message = localize(instructions.get("message"), locale_tag()) if instructions else None
    return personal_page("site/pay.html", status=status, booking=booking, instructions=instructions, instruction_text=message)


@site.route("/bookings/<token:public_id>/pay", methods=["GET", "POST"])
def pay_booking(public_id: str) -> Response | BaseResponse:
    """GET: what is due and how (the open payment, if any). POST: open the payment, or go on with the one open."""
    booking = visible_booking(public_id)
    if booking.status is not BookingStatus.held:
        return _pay_page(booking, None, status=409 if request.method == "POST" else 200)
    if request.method == "GET":
        return _pay_page(booking, pending_payment_instructions(db.session, booking))
    instructions = payment_instructions(db.session, booking)
    if instructions is None:  # its hold ended meanwhile, or it was paid
        db.session.refresh(booking)
        return _pay_page(booking, None, status=409)
    return _next_step(booking, instructions) or _pay_page(booking, instructions)


@site.route("/pay/sandbox/<token:reference>", methods=["GET", "POST"])
def sandbox_checkout(reference: str) -> Response | BaseResponse:
    """The sandbox provider's page: the amount and a Pay button; paying returns to the booking's voucher."""
    if SandboxProvider.key not in payment_providers():
        abort(404)
    try:
        payment = sandbox_payment(db.session, reference)
    except NotFound:
        abort(404)
    booking = db.session.get(Booking, payment.booking_id)
    if booking is None or not may_see_booking(booking):
        abort(404)
    if request.method == "POST":
        try:
            pay_in_sandbox(db.session, current_tenant(), reference)
        except DomainError:
            db.session.refresh(payment)
        else:
            return redirect(url_for("site.voucher", public_id=booking.public_id), code=303)
    settled = payment.status is not PaymentStatus.pending
    return personal_page(
        "site/sandbox_checkout.html", status=409 if settled and request.method == "POST" else 200, payment=payment, booking=booking, settled=settled
    )
