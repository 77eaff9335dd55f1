"""A merchant's webhook endpoints (decisions §58): create, change, rotate the secret, enable, disable, ping, read the log, redeliver.

Every change is audited in the tenant's chain (never with a secret in it). A
URL is checked here when it is saved (https, no credentials, no loopback,
private or link-local address unless the installation allows them) and again
by :mod:`yuyue.notifying.webhooks` each time it is sent to, against what its
name resolves to then (DNS rebinding). Topic patterns are exact topics of
:data:`WEBHOOK_TOPICS`, ``area.*`` or ``*``.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yuyue.audit.operations import record as audit_record
from yuyue.db import write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound
from yuyue.events.models import Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus, WebhookEndpoint
from yuyue.events.operations import emit, record_change
from yuyue.types import utcnow

__all__ = [
    "DISABLED_TOPIC",
    "MAX_ENDPOINTS",
    "PREVIOUS_SECRET_HOURS",
    "TEST_TOPIC",
    "WEBHOOK_TOPICS",
    "DisabledReason",
    "EndpointDeliveries",
    "create_endpoint",
    "delete_endpoint",
    "disable_endpoint",
    "enable_endpoint",
    "endpoint_deliveries",
    "get_endpoint",
    "is_public_address",
    "list_endpoints",
    "new_secret",
    "ping_endpoint",
    "redeliver",
    "rotate_secret",
    "signing_secrets",
    "subscriber_key",
    "topic_matches",
    "update_endpoint",
    "url_problems",
]

# The events a merchant's endpoint may subscribe to, each with the line ``GET …/admin/webhooks/event-types`` shows.
WEBHOOK_TOPICS: dict[str, Any] = {
    "booking.held": _l("a booking was placed and waits for payment until its hold expires"),
    "booking.confirmed": _l("a booking was confirmed (placed free, paid, or confirmed by staff)"),
    "booking.cancelled": _l("a booking was cancelled by the customer or by staff"),
    "booking.cancelled_below_minimum": _l("a session was called off for too few participants and its bookings cancelled"),
    "booking.rescheduled": _l("a booking was moved to another time"),
    "booking.checked_in": _l("a booking's visitor checked in"),
    "booking.no_show": _l("a booking was recorded as a no-show"),
    "booking.completed": _l("a booking was completed"),
    "booking.expired": _l("a held booking was not paid in time and expired"),
    "booking.name_list_replaced": _l("a group booking's name list was replaced"),
    "booking.reminder": _l("a reminder of a booking that starts soon was due"),
    "waitlist.joined": _l("a customer joined a slot's waitlist"),
    "waitlist.offered": _l("a place was offered to a customer on the waitlist"),
    "waitlist.accepted": _l("a waitlist offer was accepted and booked"),
    "waitlist.expired": _l("a waitlist offer expired unanswered"),
    "waitlist.cancelled": _l("a waitlist entry was withdrawn"),
    "payment.created": _l("a payment was opened for a booking"),
    "payment.paid": _l("a payment was settled (at the counter or by the provider)"),
    "payment.failed": _l("a payment failed"),
    "payment.refund_requested": _l("a refund was decided and is being sent"),
    "payment.refund_succeeded": _l("a refund reached the customer"),
    "payment.refund_failed": _l("a refund was refused by the provider"),
    "payment.refunded_by_provider": _l("the provider reported a refund made on its side"),
    "webhook.endpoint_disabled": _l("one of the tenant's webhook endpoints was disabled after failing"),
    "customer.points_adjusted": _l("staff added or took away a customer's points"),
    "customer.banned": _l("staff banned a customer from booking"),
    "customer.ban_lifted": _l("staff ended a customer's ban"),
    "customer.annotated": _l("staff changed a customer's tags or note"),
    "customer.merged": _l("staff merged two records of one customer into one"),
    "customer.renamed": _l("a customer changed the name they go by"),
    "customer.companion_added": _l("a customer saved a companion"),
    "customer.companion_updated": _l("a customer changed a saved companion"),
    "customer.companion_removed": _l("a customer removed a saved companion"),
    "customer.erased": _l("a customer's personal data was erased: erase what your systems hold of them too"),
    "review.created": _l("a customer reviewed a booking of theirs"),
    "review.changed": _l("a customer changed their review of a booking"),
    "review.replied": _l("staff replied to a review"),
    "feedback.created": _l("a customer sent general feedback"),
    "feedback.replied": _l("staff replied to a customer's feedback"),
    "feedback.hidden": _l("staff hid a review's or feedback's text as abusive"),
    "feedback.unhidden": _l("staff showed a hidden review's or feedback's text again"),
    "feedback.handled": _l("staff marked a review or feedback handled"),
    "feedback.unhandled": _l("staff marked a review or feedback not handled"),
    "privacy_notice.published": _l("staff published a new version of a booking type's privacy notice"),
    "privacy_notice.withdrawn": _l("staff withdrew a booking type's privacy notice: its bookings ask for no consent"),
}
# Sent only by a ping, to the endpoint pinged; no pattern subscribes to it.
TEST_TOPIC = "webhook.test"
DISABLED_TOPIC = "webhook.endpoint_disabled"
# A tenant's endpoints, and patterns per endpoint: enough for any integration, small enough that every event checks them quickly.
MAX_ENDPOINTS = 20
MAX_TOPIC_PATTERNS = 50
# How long the secret before a rotation keeps signing beside the new one, so a receiver can switch without losing a message.
PREVIOUS_SECRET_HOURS = 24
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
ENDPOINT_FIELDS = ("url", "topics", "description")
# A DNS label (after IDNA encoding); a name whose last label is all digits is a disguised IPv4 address (0x7f.1, 2130706433).
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# Names that never lead out of the machine or its network.
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


class DisabledReason:
    """Why an endpoint was disabled (``disabled_reason``, and the ``reason`` of ``webhook.endpoint_disabled``)."""

    gone = "gone"  # it answered 410 Gone
    failing = "failing"  # a delivery died after its retries and nothing reached the endpoint meanwhile


def subscriber_key(endpoint_id: int) -> str:
    """The ``subscriber`` of an endpoint's deliveries, unique per event."""
    return f"webhook:{endpoint_id}"


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def topic_matches(patterns: Sequence[str], topic: str) -> bool:
    """Whether one of ``patterns`` (``booking.confirmed``, ``booking.*``, ``*``) takes ``topic``; the test topic is never matched."""
    if topic == TEST_TOPIC:
        return False
    area = topic.split(".", 1)[0]
    return any(pattern == "*" or pattern == topic or pattern == f"{area}.*" for pattern in patterns)


def _topic_problems(topics: Any) -> list[FieldProblem]:
    areas = {topic.split(".", 1)[0] for topic in WEBHOOK_TOPICS}
    problems = []
    for index, pattern in enumerate(topics):
        known = pattern == "*" or pattern in WEBHOOK_TOPICS or (pattern.endswith(".*") and pattern[:-2] in areas)
        if not known:
            problems.append(
                FieldProblem(
                    f"/topics/{index}",
                    _l("unknown event type %(topic)r; see GET …/admin/webhooks/event-types (or use booking.*, *)", topic=pattern[:60]),
                    "unknown_topic",
                )
            )
    if not topics:
        problems.append(FieldProblem("/topics", _l("name at least one event type, or * for all"), "minItems"))
    return problems


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` is on the public internet: not loopback, private, link-local, multicast, reserved or unspecified."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def url_problems(url: str, *, allow_http: bool, allow_private: bool) -> list[FieldProblem]:
    """What is wrong with ``url`` as an endpoint: its scheme, credentials, host, or an address that is not public.

    Only literal addresses and local names are judged here; what a name resolves to is checked when sending.
    """
    pointer = "/url"
    if any(character.isspace() or ord(character) < 32 or ord(character) == 127 for character in url):
        return [FieldProblem(pointer, _l("not a URL"), "invalid_url")]  # a line break would end the request line it is sent in
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        return [FieldProblem(pointer, _l("not a URL"), "invalid_url")]
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        return [FieldProblem(pointer, _l("the URL must start with https://"), "url_scheme")]
    if parts.username is not None or parts.password is not None:
        return [FieldProblem(pointer, _l("the URL must not carry a user name or password; the signature authenticates us"), "url_credentials")]
    if not host or port == 0:
        return [FieldProblem(pointer, _l("the URL names no host"), "url_host")]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if not allow_private and not is_public_address(address):
            return [FieldProblem(pointer, _l("%(host)s is a loopback, private or link-local address", host=host), "url_private_address")]
        return []
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        return [FieldProblem(pointer, _l("%(host)s is not a valid host name", host=host[:100]), "url_host")]
    labels = name.rstrip(".").split(".")
    if not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        return [FieldProblem(pointer, _l("%(host)s is not a valid host name", host=host[:100]), "url_host")]
    local = len(labels) == 1 or name == "localhost" or ("." + name).endswith(_LOCAL_SUFFIXES)
    if local and not allow_private:
        return [FieldProblem(pointer, _l("%(host)s is a name of the local network, not of the internet", host=host[:100]), "url_private_address")]
    return []


def _checked(changes: Mapping[str, Any], *, allow_http: bool, allow_private: bool) -> dict[str, Any]:
    problems = []
    if "url" in changes:
        problems += url_problems(changes["url"], allow_http=allow_http, allow_private=allow_private)
    if "topics" in changes:
        problems += _topic_problems(changes["topics"])
    if problems:
        raise InvalidInput(_l("the webhook endpoint is not valid"), errors=problems)
    wanted = {field: changes[field] for field in ENDPOINT_FIELDS if field in changes}
    if "topics" in wanted:
        wanted["topics"] = list(dict.fromkeys(wanted["topics"]))  # order kept, repeats dropped
    return wanted


def _audited(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log keeps of an endpoint: everything but its secrets."""
    return {"url": endpoint.url, "topics": endpoint.topics, "description": endpoint.description, "enabled": endpoint.enabled}


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    """The endpoints of the tenant in scope, oldest first."""
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    """The endpoint ``endpoint_id`` of the tenant in scope.

    :raises NotFound: ``webhook_not_found``.
    """
    endpoint = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
    if endpoint is None:
        raise NotFound(_l("no webhook endpoint %(id)s", id=endpoint_id), code="webhook_not_found")
    return endpoint


def create_endpoint(
    session: Session,
    *,
    url: str,
    topics: Sequence[str],
    description: str = "",
    actor: str,
    allow_http: bool = False,
    allow_private: bool = False,
    now: datetime | None = None,
) -> WebhookEndpoint:
    """A new enabled endpoint of the tenant in scope, with a new secret (shown to the caller once).

    :raises InvalidInput: ``url_*``/``invalid_url`` at ``/url``, ``unknown_topic`` at ``/topics/<i>``.
    :raises Conflict: ``too_many_webhooks`` past :data:`MAX_ENDPOINTS`.
    """
    wanted = _checked({"url": url, "topics": topics, "description": description}, allow_http=allow_http, allow_private=allow_private)
    now = now or utcnow()
    with write_transaction(session):
        if session.scalar(select(func.count()).select_from(WebhookEndpoint)) >= MAX_ENDPOINTS:
            raise Conflict(_l("a tenant may have at most %(limit)s webhook endpoints", limit=MAX_ENDPOINTS), code="too_many_webhooks")
        endpoint = WebhookEndpoint(**wanted, secret=new_secret(), enabled=True, consecutive_failures=0, created_at=now, updated_at=now)
        session.add(endpoint)
        session.flush()
        audit_record(session, actor=actor, action="webhook.endpoint_created", subject_type="webhook_endpoint", subject_id=endpoint.id, data=_audited(endpoint))
    return endpoint


def update_endpoint(
    session: Session, endpoint_id: int, changes: Mapping[str, Any], *, actor: str, allow_http: bool = False, allow_private: bool = False
) -> WebhookEndpoint:
    """Change the endpoint's URL, topics or description (fields left out keep their value); a change that changes nothing records nothing."""
    wanted = _checked(changes, allow_http=allow_http, allow_private=allow_private)
    with write_transaction(session):
        endpoint = get_endpoint(session, endpoint_id)
        previous = {field: getattr(endpoint, field) for field in wanted}
        if previous != wanted:
            for field, value in wanted.items():
                setattr(endpoint, field, value)
            endpoint.updated_at = utcnow()
            audit_record(
                session,
                actor=actor,
                action="webhook.endpoint_changed",
                subject_type="webhook_endpoint",
                subject_id=endpoint.id,
                data={"previous": previous, **wanted},
            )
    return endpoint


def delete_endpoint(session: Session, endpoint_id: int, *, actor: str) -> None:
    """Delete the endpoint; its deliveries not yet sent are skipped when their turn comes, its log stays in the outbox tables."""
    with write_transaction(session):
        endpoint = get_endpoint(session, endpoint_id)
        data = _audited(endpoint)
        session.delete(endpoint)
        audit_record(session, actor=actor, action="webhook.endpoint_deleted", subject_type="webhook_endpoint", subject_id=endpoint_id, data=data)


def rotate_secret(session: Session, endpoint_id: int, *, actor: str, now: datetime | None = None) -> WebhookEndpoint:
    """A new secret for the endpoint; the one it replaces signs beside it for :data:`PREVIOUS_SECRET_HOURS` hours."""
    now = now or utcnow()
    with write_transaction(session):
        endpoint = get_endpoint(session, endpoint_id)
        endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, now + timedelta(hours=PREVIOUS_SECRET_HOURS)
        endpoint.secret, endpoint.updated_at = new_secret(), now
        audit_record(
            session,
            actor=actor,
            action="webhook.secret_rotated",
            subject_type="webhook_endpoint",
            subject_id=endpoint.id,
            data={"previous_secret_until": endpoint.previous_secret_until},
        )
    return endpoint


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets a message to ``endpoint`` is signed with at ``now``: the current one, and the one before while it lasts."""
    if endpoint.previous_secret and endpoint.previous_secret_until is not None and endpoint.previous_secret_until > now:
        return [endpoint.secret, endpoint.previous_secret]
    return [endpoint.secret]


def enable_endpoint(session: Session, endpoint_id: int, *, actor: str) -> WebhookEndpoint:
    """Enable the endpoint again: new events reach it, its failure count starts from nothing."""
    with write_transaction(session):
        endpoint = get_endpoint(session, endpoint_id)
        if not endpoint.enabled:
            previous = endpoint.disabled_reason
            endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = True, None, None
            endpoint.consecutive_failures, endpoint.updated_at = 0, utcnow()
            audit_record(
                session, actor=actor, action="webhook.endpoint_enabled", subject_type="webhook_endpoint", subject_id=endpoint.id, data={"was": previous}
            )
    return endpoint


def disable_endpoint(
    session: Session, endpoint: WebhookEndpoint, reason: str, *, last_error: str | None = None, actor: str = "system", now: datetime | None = None
) -> None:
    """Disable ``endpoint`` in the caller's write transaction and announce it.

    ``webhook.endpoint_disabled``'s payload: ``endpoint`` (id), ``url``, ``reason`` (a :class:`DisabledReason`),
    ``last_error`` (what the last attempt got, for the staff notice) and ``consecutive_failures``.
    """
    if not endpoint.enabled:
        return
    now = now or utcnow()
    endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason, endpoint.updated_at = False, now, reason, now
    payload = {
        "endpoint": endpoint.id,
        "url": endpoint.url,
        "reason": reason,
        "last_error": last_error,
        "consecutive_failures": endpoint.consecutive_failures,
    }
    record_change(session, actor=actor, action=DISABLED_TOPIC, subject_type="webhook_endpoint", subject_id=endpoint.id, payload=payload)


def ping_endpoint(session: Session, endpoint_id: int, *, actor: str) -> int:
    """Queue a ``webhook.test`` event for this endpoint alone; the id of the event (its delivery shows in the endpoint's log).

    :raises Conflict: ``webhook_disabled`` for a disabled endpoint (enable it first).
    """
    with write_transaction(session):
        endpoint = get_endpoint(session, endpoint_id)
        if not endpoint.enabled:
            raise Conflict(_l("the webhook endpoint is disabled; enable it first"), code="webhook_disabled")
        audit_record(session, actor=actor, action=TEST_TOPIC, subject_type="webhook_endpoint", subject_id=endpoint.id, data={"endpoint": endpoint.id})
        event = emit(session, TEST_TOPIC, {"endpoint": endpoint.id})
        session.flush()
        return event.id


@dataclass(frozen=True)
class EndpointDeliveries:
    """A page of an endpoint's delivery log, newest first, each delivery with its attempts (oldest first)."""

    deliveries: list[tuple[Delivery, list[DeliveryAttempt]]]
    next_before: int | None


def endpoint_deliveries(session: Session, endpoint_id: int, *, limit: int = 20, before: int | None = None, status: str | None = None) -> EndpointDeliveries:
    """The endpoint's deliveries older than delivery ``before`` (newest first), at most ``limit``, each with its attempts."""
    endpoint = get_endpoint(session, endpoint_id)
    query = select(Delivery).where(Delivery.kind == DeliveryKind.webhook, Delivery.target == str(endpoint.id))
    if before is not None:
        query = query.where(Delivery.id < before)
    if status is not None:
        query = query.where(Delivery.status == DeliveryStatus(status))
    rows = list(session.scalars(query.order_by(Delivery.id.desc()).limit(limit + 1)))
    page, more = rows[:limit], len(rows) > limit
    attempts: dict[int, list[DeliveryAttempt]] = {row.id: [] for row in page}
    if page:
        for attempt in session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(attempts)).order_by(DeliveryAttempt.id)):
            attempts[attempt.delivery_id].append(attempt)
    return EndpointDeliveries([(row, attempts[row.id]) for row in page], page[-1].id if more else None)


def redeliver(session: Session, endpoint_id: int, delivery_id: int, *, actor: str, now: datetime | None = None) -> Delivery:
    """Send one of the endpoint's deliveries again at once, with the same ``webhook-id`` and body: one more attempt.

    :raises NotFound: ``delivery_not_found`` (not this endpoint's).
    :raises Conflict: ``webhook_disabled``; ``delivery_in_flight`` while a worker is sending it.
    """
    now = now or utcnow()
    with write_transaction(session):
        endpoint = get_endpoint(session, endpoint_id)
        delivery = session.scalar(
            select(Delivery).where(Delivery.id == delivery_id, Delivery.kind == DeliveryKind.webhook, Delivery.target == str(endpoint.id))
        )
        if delivery is None:
            raise NotFound(_l("no delivery %(id)s to this endpoint", id=delivery_id), code="delivery_not_found")
        if not endpoint.enabled:
            raise Conflict(_l("the webhook endpoint is disabled; enable it first"), code="webhook_disabled")
        was = delivery.status
        changed = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery.id, Delivery.status != DeliveryStatus.sending)
            .values(status=DeliveryStatus.pending, next_attempt_at=now, lease_until=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not changed:
            raise Conflict(_l("this delivery is being sent right now"), code="delivery_in_flight")
        session.refresh(delivery)
        audit_record(
            session,
            actor=actor,
            action="webhook.redelivery_requested",
            subject_type="webhook_endpoint",
            subject_id=endpoint.id,
            data={"delivery": delivery.id, "message_id": delivery.message_id, "was": was.value},
        )
    return delivery
