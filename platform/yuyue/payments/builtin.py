"""The built-in payment providers: ``offline`` (pay on site) and ``sandbox`` (behaves like WeChat Pay).

Registered through ``register_payment_providers()`` like any plugin's, from
``yuyue.plugins.DEFAULT_PLUGINS``.

The sandbox confirms a payment only by a signed asynchronous notification, as
WeChat Pay and Alipay do: a JSON body POSTed to the payment's ``notify_url``
with ``Yuyue-Sandbox-Signature: sha256=<HMAC-SHA256 of the raw body>`` under
the sandbox secret. Refunds are accepted as pending and completed by a
``refund.succeeded`` notification. :func:`sandbox_notification` builds such a
notification, for tests, the demo and the sandbox's own checkout.
"""

from __future__ import annotations

import hmac
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

import yuyue_schemas
from yuyue import json_input
from yuyue.behaviour import BookingView, CancellationTerms
from yuyue.bookings.models import Booking, BookingStatus
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound, schema_field_problems
from yuyue.hookspecs import hookimpl
from yuyue.payments.models import Payment, PaymentStatus
from yuyue.payments.operations import handle_notification, send_refunds, start_payment, tenant_provider_settings
from yuyue.payments.providers import (
    Notification,
    NotificationKind,
    PaymentInstructions,
    PaymentProvider,
    PaymentRequest,
    RefundRequest,
    RefundResult,
    payment_providers,
    sign,
)
from yuyue.payments.refunds import refund_for_cancellation
from yuyue.tenancy.models import Tenant

SIGNATURE_HEADER = "Yuyue-Sandbox-Signature"
SANDBOX_EVENTS = {"payment.succeeded": NotificationKind.paid, "payment.failed": NotificationKind.failed, "refund.succeeded": NotificationKind.refunded}
# Ids as providers issue them: visible ASCII, as long as the columns that keep them.
_PROVIDER_ID = {"type": "string", "pattern": "^[!-~]{1,64}$"}
_OPTIONAL_PROVIDER_ID = {**_PROVIDER_ID, "type": ["string", "null"]}
# Fields a sandbox notification may carry; other fields are ignored, as a real provider adds some over time.
SANDBOX_NOTIFICATION = {
    "type": "object",
    "required": ["id", "event_type", "out_trade_no"],
    "properties": {
        "id": _PROVIDER_ID,
        "event_type": {"enum": list(SANDBOX_EVENTS)},
        "out_trade_no": _PROVIDER_ID,
        "transaction_id": _OPTIONAL_PROVIDER_ID,
        "amount": {"type": ["integer", "null"], "minimum": 0, "maximum": 2**31 - 1},
        "currency": {"type": ["string", "null"], "pattern": "^[A-Z]{3}$"},
        "time": {"type": ["string", "null"], "format": "date-time", "maxLength": 64},
        "out_refund_no": _OPTIONAL_PROVIDER_ID,
        "refund_id": _OPTIONAL_PROVIDER_ID,
    },
}


class OfflineProvider:
    """Pay at the counter: staff record the payment; refunds are handed back on site."""

    key = "offline"

    def create_payment(self, request: PaymentRequest, settings: Mapping[str, Any]) -> PaymentInstructions:
        return PaymentInstructions(
            kind="offline",
            message=settings.get("message") or {"zh-Hans": "请到现场柜台付款", "zh-Hant": "請到現場櫃檯付款", "en": "Pay at the counter on arrival"},
        )

    def verify_notification(self, headers: Mapping[str, str], body: bytes, settings: Mapping[str, Any]) -> Notification | None:
        return None  # nobody notifies for cash

    def refund(self, request: RefundRequest, settings: Mapping[str, Any]) -> RefundResult:
        return RefundResult("succeeded", provider_ref=f"offline-{request.reference}", message="hand the money back on site")


class SandboxProvider:
    """A stand-in for WeChat Pay and Alipay that signs its notifications with a shared secret."""

    key = "sandbox"

    def create_payment(self, request: PaymentRequest, settings: Mapping[str, Any]) -> PaymentInstructions:
        checkout = request.notify_url.removesuffix("/notify") + f"/checkout/{request.reference}"
        return PaymentInstructions(
            kind="redirect",
            message={"zh-Hans": "沙箱支付：打开链接完成支付", "zh-Hant": "沙箱支付：打開連結完成支付", "en": "Sandbox payment: open the link to pay"},
            pay_url=checkout,
            params={"out_trade_no": request.reference, "total": request.amount, "currency": request.currency, "notify_url": request.notify_url},
        )

    def verify_notification(self, headers: Mapping[str, str], body: bytes, settings: Mapping[str, Any]) -> Notification | None:
        scheme, _, signature = (headers.get(SIGNATURE_HEADER) or "").partition("=")
        if scheme != "sha256" or not hmac.compare_digest(signature, sign(settings["secret"], body)):
            return None
        try:
            data = json_input.loads(body)
        except json_input.JSONInputError:
            raise InvalidInput(_l("the notification is not valid JSON"), code="invalid_notification") from None
        problems = schema_field_problems(yuyue_schemas.problems_against(SANDBOX_NOTIFICATION, data))
        occurred_at = _occurred_at(data["time"], problems) if not problems and data.get("time") else None
        if problems:
            # Signed by the sandbox, so not forged; but not something it sends: say where, and change nothing.
            raise InvalidInput(_l("the notification is not valid"), code="invalid_notification", errors=problems)
        return Notification(
            id=data["id"],
            kind=SANDBOX_EVENTS[data["event_type"]],
            reference=data["out_trade_no"],
            amount=data.get("amount"),
            currency=data.get("currency"),
            provider_txn=data.get("transaction_id"),
            refund_reference=data.get("out_refund_no"),
            provider_refund_ref=data.get("refund_id"),
            occurred_at=occurred_at,
        )

    def refund(self, request: RefundRequest, settings: Mapping[str, Any]) -> RefundResult:
        # The sandbox answers as WeChat Pay usually does: accepted, completed later by a notification.
        return RefundResult("pending", provider_ref=f"sbr_{uuid.uuid5(uuid.NAMESPACE_URL, request.reference).hex}")


def _occurred_at(text: str, problems: list[FieldProblem]) -> datetime | None:
    """When the event happened; RFC 3339 allows forms Python does not read, and years it cannot move across an offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not 2000 <= moment.year <= 2999:
        problems.append(FieldProblem("/time", _l("an ISO 8601 time with a UTC offset, in the years 2000 to 2999"), "invalid_time"))
        return None
    return moment


def sandbox_notification(
    secret: str,
    event_type: str,
    reference: str,
    *,
    amount: int | None = None,
    currency: str = "CNY",
    refund_reference: str | None = None,
    notification_id: str | None = None,
    at: datetime | None = None,
) -> tuple[dict[str, str], bytes]:
    """The headers and raw body of a sandbox notification, signed with ``secret``.

    ``event_type`` is ``payment.succeeded``, ``payment.failed`` or ``refund.succeeded``.
    """
    body = {
        "id": notification_id or f"sbn_{uuid.uuid4().hex}",
        "event_type": event_type,
        "out_trade_no": reference,
        "transaction_id": f"sbt_{uuid.uuid5(uuid.NAMESPACE_URL, reference).hex}",
        "amount": amount,
        "currency": currency,
        "time": at.isoformat() if at else None,
    }
    if refund_reference:
        body |= {"out_refund_no": refund_reference, "refund_id": f"sbr_{uuid.uuid5(uuid.NAMESPACE_URL, refund_reference).hex}"}
    raw = json.dumps(body, separators=(",", ":")).encode()
    return {SIGNATURE_HEADER: f"sha256={sign(secret, raw)}", "Content-Type": "application/json"}, raw


def sandbox_payment(session: Session, reference: str) -> Payment:
    """The current tenant's sandbox payment ``reference``; :class:`NotFound` ``payment_not_found`` if there is none."""
    payment = session.scalar(select(Payment).where(Payment.provider == SandboxProvider.key, Payment.reference == reference))
    if payment is None:
        raise NotFound(_l("no sandbox payment %(reference)r", reference=reference), code="payment_not_found")
    return payment


def pay_in_sandbox(session: Session, tenant: Tenant, reference: str) -> str:
    """Pay a pending sandbox payment as the customer would in the provider's app: the sandbox signs its notification, the host applies it.

    Returns the notification's outcome. The API's checkout and the site's stand-in page both pay this way.
    :raises NotFound: ``payment_not_found``. :raises Conflict: ``payment_settled`` when it is no longer pending.
    """
    payment = sandbox_payment(session, reference)
    if payment.status is not PaymentStatus.pending:
        raise Conflict(_l("the payment is already %(status)s", status=payment.status.value), code="payment_settled")
    secret = tenant_provider_settings(session, payment_providers(), SandboxProvider.key)["secret"]
    headers, body = sandbox_notification(secret, "payment.succeeded", reference, amount=payment.amount, currency=payment.currency)
    outcome = handle_notification(session, tenant, SandboxProvider.key, headers, body)
    if outcome == "refund_requested":
        send_refunds(session, tenant)
    return outcome or "invalid_signature"


def send_sandbox_notification(
    target: Any,
    tenant_slug: str,
    event_type: str,
    reference: str,
    *,
    secret: str,
    amount: int | None = None,
    currency: str = "CNY",
    refund_reference: str | None = None,
    notification_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, Any]:
    """Sign a sandbox notification and POST it to the callback, as the sandbox's servers would; returns (status, JSON body).

    ``target`` is a Flask test client, or the base URL of a running server
    (``http://127.0.0.1:5000``). ``headers`` override the signed ones (to send a bad signature).
    """
    signed, body = sandbox_notification(
        secret, event_type, reference, amount=amount, currency=currency, refund_reference=refund_reference, notification_id=notification_id
    )
    signed |= dict(headers or {})
    path = f"/api/v1/t/{tenant_slug}/payments/sandbox/notify"
    if not isinstance(target, str):
        response = target.post(path, data=body, headers=signed)
        return response.status_code, response.get_json(force=True, silent=True)
    post = urllib.request.Request(target.rstrip("/") + path, data=body, headers=signed, method="POST")
    try:
        with urllib.request.urlopen(post, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@hookimpl
def register_payment_providers() -> list[PaymentProvider]:
    return [OfflineProvider(), SandboxProvider()]


@hookimpl
def startup(app: Flask) -> None:
    # Collect every plugin's providers now, so a clash of keys stops start-up rather than a payment.
    payment_providers(app)


# --- the payment side of a booking's life ------------------------------------------------


def _booking(session: Session, booking: BookingView) -> Booking:
    return session.scalars(select(Booking).where(Booking.public_id == booking.public_id)).one()


@hookimpl
def booking_placed(booking: BookingView, session: Session) -> None:
    """Open the payment of a booking held until paid, in the transaction that places it, so reading it never writes."""
    if booking.status == BookingStatus.held.value and booking.price_amount > 0:
        start_payment(session, _booking(session, booking), now=booking.created_at)


@hookimpl
def booking_cancelled(booking: BookingView, terms: CancellationTerms, now: datetime, session: Session) -> None:
    """Refund what was paid, less the fee the applied terms charge."""
    if booking.price_amount > 0:
        refund_for_cancellation(session, _booking(session, booking), fee_percent=terms.fee_percent, now=now)
