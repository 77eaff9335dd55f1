"""Tenant isolation of every tenant-scoped API route, generated from the URL map.

Tenant B owns one object of every kind a route can name: a booking type, a
booking, a waitlist entry, a companion, a coach, a payment, a class package
and a customer holding its credits. Every rule of the
``api_tenant`` blueprint whose path names an id is called with each of its
methods, twice:

- under tenant A's URL, with tenant A's credentials of the kind the OpenAPI
  document declares for it (a customer token, an owner's staff token, none for
  the public catalog and the sandbox's pay page, the tenant's own signature for a
  provider's notification) and tenant B's ids: it must answer 404;
- under tenant B's URL, with tenant A's credentials and tenant B's ids: they
  must be refused.

No answer may carry tenant B's data beyond what the request itself sent, and
tenant B's rows must be exactly as they were afterwards. Routes without ids
(the lists and exports) must show tenant A's objects and none of tenant B's.

A new route with an id fails here until its argument has a tenant-B value in
``tenant_b`` and the route counts below are raised.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import inspect, select
from tenant_setup import id_number, make_booking_type, make_coach, windows
from werkzeug.test import TestResponse

from yuyue.api.tenant import tenant_api
from yuyue.bookings.models import Booking, BookingPerson, Consent, Feedback, WaitlistEntry
from yuyue.catalog.models import BookingType, PrivacyNotice, Resource, RouteStop
from yuyue.catalog.stops import create_stop
from yuyue.credits.models import CreditEntry, CreditPackage
from yuyue.credits.operations import create_package
from yuyue.customers.models import Ban, BanSubject, Companion, Customer, LoginSetting, PointsEntry
from yuyue.customers.operations import add_points, ban
from yuyue.db import tenant_scope, write_transaction
from yuyue.events.models import (
    ChannelSettings,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    NotificationPreference,
    NotificationTemplate,
    OutboxEvent,
    WebhookEndpoint,
)
from yuyue.payments.builtin import sandbox_notification
from yuyue.payments.models import Payment
from yuyue.payments.operations import set_payment_provider
from yuyue.privacy.models import DataRequest
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

PREFIX = tenant_api.url_prefix
ZONE = ZoneInfo("Asia/Shanghai")
SLOT_DAY = datetime.now(ZONE).date() + timedelta(days=7)
SECRETS = {"tenant-a": "sandbox-secret-of-tenant-a", "tenant-b": "sandbox-secret-of-tenant-b"}

# The path arguments ``tenant_b`` has a value for.
ROUTE_ARGUMENTS = {
    "slug",
    "public_id",
    "code",
    "entry_id",
    "companion_id",
    "reference",
    "provider",
    "package",
    "customer_id",
    "event",
    "channel",
    "locale",
    "endpoint_id",
    "delivery_id",
    "ban_id",
    "feedback_id",
}
# (rule, method) pairs under the blueprint that name an id, and those that name none.
ROUTES_WITH_IDS = 76
ROUTES_WITHOUT_IDS = 71
# Routes with an id that take no credentials at all, so only the first half of the matrix applies to them.
PUBLIC_ROUTES = {
    ("/booking-types/<slug>", "GET"),
    ("/booking-types/<slug>/availability", "GET"),
    ("/payments/sandbox/checkout/<reference>", "POST"),
}
# A provider must get 200 for a notification it may stop sending, so one naming another tenant's payment is
# answered like one naming no payment at all (and changes nothing), not with 404.
PROVIDER_CALLBACKS = {("/payments/<provider>/notify", "POST")}
# A login provider is the application's too (`wechat`); what tenant A reaches under it is its own settings, so these
# routes answer tenant A (never 404 for tenant B's) and must show or change nothing of tenant B's.
LOGIN_SETTINGS = "/admin/login-providers/<provider>"
# Notification channels too are the application's (`sms`): tenant A reaches its own settings and sends its own test message.
CHANNEL_SETTINGS = "/admin/notifications/channels/<channel>"
CHANNEL_TEST = "/admin/notifications/channels/<channel>/test"
TENANTS_OWN_SETTINGS = {LOGIN_SETTINGS, CHANNEL_SETTINGS, CHANNEL_TEST}
SMS = {
    "tenant-a": {"provider": "sandbox", "sign_name": "Ann's museum sign"},
    "tenant-b": {
        "provider": "http",
        "endpoint": "https://sms.b.example/send",
        "access_key_id": "bee-sms-key-id",
        "access_key_secret": "tenant-b-sms-secret",
        "sign_name": "Bee museum sign",
    },
}
# Every tenant has a template of every (event, channel, locale), its own or the default: under tenant B's key, tenant A
# reaches its own template (404 only for deleting an override it does not have), and must see or change nothing of B's.
TEMPLATE = "/admin/notifications/templates/<event>/<channel>/<locale>"
TEMPLATE_ROUTES = {TEMPLATE, f"{TEMPLATE}/preview"}
# Each tenant's brand colour, which its appearance shows and the other's must not.
BRAND_COLOURS = {"tenant-a": "#aa0001", "tenant-b": "#0000bb"}
WECHAT = {
    "tenant-a": {"appid": "wx00000000000000aa", "secret": "tenant-a-wechat-secret"},
    "tenant-b": {"appid": "wx00000000000000bb", "secret": "tenant-b-wechat-secret"},
}

QUERIES = {"/availability": f"?from={SLOT_DAY}&to={SLOT_DAY}"}
# The statistics of the slot day, of tenant A's booking type: its slug is in every answer, and tenant B's bookings of that day in none.
STATS_FIGURES = ("summary", "heatmap", "by-booking-type", "by-resource", "slots", "ratings")
STATS_TABLES = ("summary", "heatmap", "by-booking-type", "ticket-types", "by-resource", "slots")
STATS_ROUTES = [f"/admin/stats/{f}" for f in STATS_FIGURES] + [f"/admin/stats/{t}.{ext}" for t in STATS_TABLES for ext in ("csv", "xlsx")]
# Tables of bare counts, naming no object (tenant A has no ticket types nor resources held): only "nothing of B's" is checked
# here; tests/stats checks that each counts its own tenant's bookings and no other's.
COUNTS_ONLY = {f"/admin/stats/{t}.{ext}" for t in ("heatmap", "ticket-types", "by-resource") for ext in ("csv", "xlsx")}
# The template list names events, channels and locales (the application's) and whether each is overridden, no object of the tenant's.
COUNTS_ONLY.add("/admin/notifications/templates")
# The event types a webhook may subscribe to are the application's, the same for every tenant.
COUNTS_ONLY.add("/admin/webhooks/event-types")
# The retention setting is a number of days, naming no object.
COUNTS_ONLY.add("/admin/privacy")
# Each tenant's webhook endpoint.
WEBHOOK_URLS = {"tenant-a": "https://a-crm.example.com/hooks", "tenant-b": "https://b-crm.example.com/hooks"}
QUERIES.update({route: f"?from={SLOT_DAY}&to={SLOT_DAY}&booking_type=a-entry" for route in STATS_ROUTES})
# How tenant B refuses tenant A's credentials: a staff token of another tenant is forbidden, a customer token
# of another tenant is no token at all, and tenant A's sandbox signature does not verify under tenant B's secret.
REFUSALS = {"staff": (403, "forbidden"), "customer": (401, "invalid_token"), "none": (401, "invalid_signature")}


def at(hour: int) -> datetime:
    return datetime.combine(SLOT_DAY, time(hour), ZONE)


def iso(hour: int) -> str:
    return at(hour).isoformat()


BODIES = {
    ("/bookings/<public_id>/reschedule", "POST"): {"starts_at": iso(10)},
    ("/bookings/<public_id>/cancel", "POST"): {"reason": "isolation check"},
    ("/admin/bookings/<public_id>/cancel", "POST"): {"reason": "isolation check"},
    ("/admin/bookings/<public_id>/reschedule", "POST"): {"starts_at": iso(10)},
    ("/admin/bookings/<public_id>/refund", "POST"): {"amount": 100, "note": "isolation check"},
    ("/admin/booking-types/<slug>", "PATCH"): {"name": "Renamed by tenant A", "status": "archived"},
    ("/admin/booking-types/<slug>/form-draft", "PUT"): {"form": {"type": "object", "properties": {}}, "ui": {}},
    ("/admin/resources/<code>", "PATCH"): {"name": "Renamed by tenant A", "active": False},
    ("/admin/booking-types/<slug>/stops", "POST"): {"code": "a-stop", "name": "Added by tenant A"},
    ("/admin/booking-types/<slug>/stops/<code>", "PATCH"): {"name": "Renamed by tenant A", "active": False},
    (LOGIN_SETTINGS, "PUT"): WECHAT["tenant-a"],
    (CHANNEL_SETTINGS, "PUT"): {"settings": SMS["tenant-a"]},
    (CHANNEL_TEST, "POST"): {"to": "13800000009"},
    ("/admin/packages/<package>", "PATCH"): {"name": "Renamed by tenant A", "active": False},
    ("/admin/customers/<customer_id>/credits", "POST"): {"delta": 5, "reason": "isolation check"},
    ("/admin/customers/<customer_id>", "PATCH"): {"tags": ["isolation"], "note": "isolation check"},
    ("/admin/customers/<customer_id>/points", "POST"): {"delta": 5, "reason": "isolation check"},
    ("/admin/customers/<customer_id>/bans", "POST"): {"days": 1, "reason": "isolation check"},
    ("/admin/customers/<customer_id>/bans/<ban_id>/lift", "POST"): {"reason": "isolation check"},
    ("/admin/customers/<customer_id>/erase", "POST"): {"reason": "isolation check"},
    (TEMPLATE, "PUT"): {"subject": "Subject by tenant A"},
    (f"{TEMPLATE}/preview", "POST"): {"body": "Preview by tenant A"},
    ("/admin/webhooks/<endpoint_id>", "PATCH"): {"description": "Changed by tenant A", "topics": ["*"]},
    ("/me/companions/<companion_id>", "PUT"): {"name": "Renamed by tenant A", "id_number": id_number(date(2012, 1, 1), 44)},
    ("/admin/customers/<customer_id>/merge", "POST"): {"from": 1, "reason": "isolation check"},
    ("/admin/booking-types/<slug>/privacy-notice", "PUT"): {"text": "Privacy notice by tenant A"},
    ("/me/bookings/<public_id>/review", "POST"): {"rating": 1, "comment": "Review by tenant A"},
    ("/me/bookings/<public_id>/review", "PUT"): {"rating": 1, "comment": "Review by tenant A"},
    ("/admin/feedback/<feedback_id>/reply", "POST"): {"reply": "Reply by tenant A"},
    ("/admin/feedback/<feedback_id>/hide", "POST"): {"reason": "Hidden by tenant A"},
    ("/admin/feedback/<feedback_id>/handled", "POST"): {"handled": True},
}
# Each tenant's own wording of one template, which the other must never see.
TEMPLATE_SUBJECTS = {"tenant-a": "Ann's own subject", "tenant-b": "Bee's own subject"}
EMAILS = {"tenant-a": "ann@a.example.com", "tenant-b": "dora@b.example.com"}
DORA_BAN_REASON, DORA_NOTE, DORA_TAG = "Bee ban reason", "Bee's note about Dora", "Bee-regular"
# The privacy notice of tenant B's b-only, which Dora and Eve agreed to.
B_NOTICE = "Bee's privacy notice"
# Each tenant's customer's feedback, and tenant B's reply to it.
FEEDBACK = {"tenant-a": "Ann's feedback to tenant A", "tenant-b": "Dora's feedback to tenant B"}
DORA_REPLY = "Bee's reply to Dora"


@dataclass(frozen=True)
class Route:
    """One method of one ``api_tenant`` rule; ``rule`` is relative to ``/api/v1/t/<tenant_slug>``."""

    rule: str
    method: str
    ids: frozenset[str]
    credentials: str  # "staff", "customer" or "none", from the OpenAPI document

    def path(self, tenant_slug: str, values: dict[str, str]) -> str:
        if self.rule == LOGIN_SETTINGS:
            values = {**values, "provider": "wechat"}
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda m: values[m.group(1)], self.rule)
        return f"/api/v1/t/{tenant_slug}{path}" + next((q for suffix, q in QUERIES.items() if path.endswith(suffix)), "")


def _credentials(operation: dict) -> str:
    schemes = {name for requirement in operation["security"] for name in requirement}
    if "staffToken" in schemes:
        return "staff"
    if "customerToken" in schemes:
        return "customer"
    assert operation["security"] == [], operation
    return "none"


def tenant_routes(app: Flask) -> list[Route]:
    """Every method of every rule under ``/api/v1/t/<tenant_slug>``, with the credentials its OpenAPI operation declares."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api_tenant."):
            continue
        relative = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"<\1>", rule.rule.removeprefix(PREFIX))  # converters named in the URL map only
        path_item = document["paths"][re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = path_item[method.lower()]
            routes.append(Route(relative, method, frozenset(rule.arguments - {"tenant_slug"}), _credentials(operation) if "security" in operation else "none"))
    return sorted(routes, key=lambda route: (route.rule, route.method))


# --- what each tenant owns -------------------------------------------------------------


def _scanned_early(staff_client, tenant_slug: str, code: str) -> None:
    response = staff_client(tenant_slug).post(f"/api/v1/t/{tenant_slug}/admin/check-ins", json={"code": code})
    assert response.status_code == 409 and response.get_json()["code"] == "wrong_day", response.get_json()


@pytest.fixture
def tenant_a(tenants, session, signed_in_customer, staff_client) -> dict[str, str]:
    """Tenant A's own objects, which its lists must show: a booking type, a coach, a package, Ann's booking, companion, credits, points and a ban."""
    tenant = tenants["tenant-a"]
    set_payment_provider(session, tenant, "sandbox", config={"secret": SECRETS["tenant-a"]})
    make_booking_type(session, tenant, "a-entry", rules=windows(("09:00", "10:00")))
    make_coach(session, tenant, "a-coach")
    create_package(session, tenant, code="a-trial", name="Ann's trial classes", credits=1, actor="test")
    _set_wechat(staff_client, "tenant-a")
    _set_sms(staff_client, "tenant-a")
    _set_brand_colour(staff_client, "tenant-a")
    _add_webhook(staff_client, "tenant-a")
    ann = signed_in_customer(1)
    _set_template_and_email(staff_client, ann, "tenant-a")
    _created(ann.post("/api/v1/t/tenant-a/me/credits", json={"package": "a-trial"}))
    booking = _created(ann.post("/api/v1/t/tenant-a/bookings", json={"booking_type": "a-entry", "starts_at": iso(9), "answers": {"name": "Ann Ay"}}))
    junior = _created(ann.post("/api/v1/t/tenant-a/me/companions", json={"name": "Ann Junior", "id_number": id_number(date(2011, 6, 2), 43)}))
    _created(ann.post("/api/v1/t/tenant-a/me/feedback", json={"comment": FEEDBACK["tenant-a"]}))
    with tenant_scope(tenant.id):
        add_points(session, ann.customer, 5, "Ann's welcome points")
        ban(session, BanSubject.id_number, junior["id_number"], 30, "Ann Junior's ban", utcnow())
    # A scan a week early: refused, and a line of today's check-in log.
    _scanned_early(staff_client, "tenant-a", booking["voucher"]["code"])
    assert ann.get("/api/v1/t/tenant-a/me/data").status_code == 200  # a data request of Ann's
    with tenant_scope(tenant.id):
        data_request = session.scalar(select(DataRequest.reference))
    return {
        "data_request": data_request,
        "slug": "a-entry",
        "code": "a-coach",
        "wechat_appid": WECHAT["tenant-a"]["appid"],
        "public_id": booking["id"],
        "voucher": booking["voucher"]["code"],
        "name": "Ann Ay",
        "phone": "13800000001",
        "companion": "Ann Junior",
        "package": "a-trial",
        "brand_colour": BRAND_COLOURS["tenant-a"],
        "sms_sign_name": SMS["tenant-a"]["sign_name"],
        "email": EMAILS["tenant-a"],
        "webhook_url": WEBHOOK_URLS["tenant-a"],
        "points_reason": "Ann's welcome points",
        "ban_reason": "Ann Junior's ban",
        "feedback": FEEDBACK["tenant-a"],
    }


@pytest.fixture
def tenant_b(tenants, session, signed_in_customer, staff_client) -> dict[str, str]:
    """One object of every kind of tenant B's, by the route argument that names it, plus the data that must not leak.

    ``code`` names both a coach and a stop of ``b-only``'s route.

    Dora's free booking fills ``b-only`` at 09:00, so Eve waits for it; Eve also holds a priced
    booking of ``b-paid`` with a pending sandbox payment, and has a companion. Dora bought the
    ``b-ten`` class package at the front desk.
    """
    tenant = tenants["tenant-b"]
    set_payment_provider(session, tenant, "sandbox", config={"secret": SECRETS["tenant-b"]})
    make_booking_type(session, tenant, "b-only", rules=windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=1))
    make_booking_type(session, tenant, "b-paid", rules=windows(("09:00", "10:00")), price_amount=2000)
    make_coach(session, tenant, "b-only-coach")
    # A stop of b-only's route under the same code, so the stop routes name a real object of tenant B's.
    create_stop(session, tenant, "b-only", code="b-only-coach", name="B's stop")
    create_package(session, tenant, code="b-ten", name="Bee's ten classes", credits=10, price_amount=80000, actor="test")
    _set_wechat(staff_client, "tenant-b")
    _set_sms(staff_client, "tenant-b")
    _set_brand_colour(staff_client, "tenant-b")
    webhook = _add_webhook(staff_client, "tenant-b")
    delivery = _delivery_of(session, tenant, webhook["id"])
    dora, eve = signed_in_customer(4, tenant="tenant-b"), signed_in_customer(5, tenant="tenant-b")
    _set_template_and_email(staff_client, dora, "tenant-b")
    base = "/api/v1/t/tenant-b"
    sale = staff_client("tenant-b", StaffRole.owner).post(
        f"{base}/admin/package-sales", json={"phone": "13800000004", "package": "b-ten", "note": "Bee desk sale"}
    )
    _created(sale)
    notice = staff_client("tenant-b", StaffRole.manager).put(f"{base}/admin/booking-types/b-only/privacy-notice", json={"text": B_NOTICE})
    assert notice.status_code == 200, notice.get_data(as_text=True)
    agreed = {"privacy_consent": {"version": 1}}
    booking = _created(dora.post(f"{base}/bookings", json={"booking_type": "b-only", "starts_at": iso(9), "answers": {"name": "Dora Bee"}, **agreed}))
    entry = _created(eve.post(f"{base}/waitlist", json={"booking_type": "b-only", "starts_at": iso(9), "answers": {"name": "Eve Bee"}, **agreed}))
    companion = _created(eve.post(f"{base}/me/companions", json={"name": "Eve Junior", "id_number": id_number(date(2010, 5, 1), 42)}))
    held = _created(eve.post(f"{base}/bookings", json={"booking_type": "b-paid", "starts_at": iso(9), "answers": {"name": "Eve Bee"}}))
    payment = eve.post(f"{base}/bookings/{held['id']}/pay").get_json()
    dora_ban = _dora_banned_and_noted(staff_client, dora.customer.id)
    feedback = _created(dora.post(f"{base}/me/feedback", json={"comment": FEEDBACK["tenant-b"], "category": "praise"}))
    replied = staff_client("tenant-b", StaffRole.manager).post(f"{base}/admin/feedback/{feedback['id']}/reply", json={"reply": DORA_REPLY})
    assert replied.status_code == 200, replied.get_data(as_text=True)
    _scanned_early(staff_client, "tenant-b", booking["voucher"]["code"])
    assert entry["status"] == "waiting" and held["status"] == "held"
    return {
        # the route arguments
        "slug": "b-only",
        "public_id": booking["id"],
        "code": "b-only-coach",
        "entry_id": str(entry["id"]),
        "companion_id": str(companion["id"]),
        "reference": payment["reference"],
        # payment providers are the application's, not a tenant's; the payment a notification names is in its body
        "provider": "sandbox",
        "package": "b-ten",
        "customer_id": str(dora.customer.id),
        # notification channels are the application's, not a tenant's; what is the tenant's are its settings, below
        "channel": "sms",
        # the application's names of a template, the same in every tenant
        "event": "booking.confirmed",
        "locale": "en",
        "endpoint_id": str(webhook["id"]),
        "delivery_id": str(delivery.id),
        "ban_id": str(dora_ban["id"]),
        "feedback_id": str(feedback["id"]),
        # more of tenant B's data
        "paid_slug": "b-paid",
        "held_public_id": held["id"],
        "voucher": booking["voucher"]["code"],
        "dora_phone": "13800000004",
        "eve_phone": "13800000005",
        "dora": "Dora Bee",
        "eve": "Eve Bee",
        "companion": "Eve Junior",
        "companion_id_number": companion["id_number"],
        "wechat_appid": WECHAT["tenant-b"]["appid"],
        "wechat_secret": WECHAT["tenant-b"]["secret"],
        "package_name": "Bee's ten classes",
        "sale_note": "Bee desk sale",
        "brand_colour": BRAND_COLOURS["tenant-b"],
        "sms_sign_name": SMS["tenant-b"]["sign_name"],
        "sms_key_id": SMS["tenant-b"]["access_key_id"],
        "sms_secret": SMS["tenant-b"]["access_key_secret"],
        "template_subject": TEMPLATE_SUBJECTS["tenant-b"],
        "email": EMAILS["tenant-b"],
        "webhook_url": WEBHOOK_URLS["tenant-b"],
        "webhook_secret": webhook["secret"],
        "webhook_id": delivery.message_id,
        "ban_reason": DORA_BAN_REASON,
        "customer_note": DORA_NOTE,
        "customer_tag": DORA_TAG,
        "privacy_notice": B_NOTICE,
        "feedback": FEEDBACK["tenant-b"],
        "feedback_reply": DORA_REPLY,
    }


def _dora_banned_and_noted(staff_client, customer_id: int) -> dict:
    """A ban on Dora, and the merchant's tag and note about her."""
    owner = staff_client("tenant-b", StaffRole.owner)
    customer = f"/api/v1/t/tenant-b/admin/customers/{customer_id}"
    noted = owner.patch(customer, json={"tags": [DORA_TAG], "note": DORA_NOTE})
    assert noted.status_code == 200, noted.get_data(as_text=True)
    return _created(owner.post(f"{customer}/bans", json={"days": 30, "reason": DORA_BAN_REASON}))["bans"][0]


def _set_wechat(staff_client, tenant_slug: str) -> None:
    owner = staff_client(tenant_slug, StaffRole.owner)
    response = owner.put(f"/api/v1/t/{tenant_slug}/admin/login-providers/wechat", json=WECHAT[tenant_slug])
    assert response.status_code == 200, response.get_data(as_text=True)


def _set_sms(staff_client, tenant_slug: str) -> None:
    manager = staff_client(tenant_slug, StaffRole.manager)
    response = manager.put(f"/api/v1/t/{tenant_slug}/admin/notifications/channels/sms", json={"settings": SMS[tenant_slug]})
    assert response.status_code == 200, response.get_data(as_text=True)


def _set_brand_colour(staff_client, tenant_slug: str) -> None:
    owner = staff_client(tenant_slug, StaffRole.owner)
    response = owner.put(f"/api/v1/t/{tenant_slug}/admin/appearance", json={"brand_colour": BRAND_COLOURS[tenant_slug]})
    assert response.status_code == 200, response.get_data(as_text=True)


def _set_template_and_email(staff_client, customer: FlaskClient, tenant_slug: str) -> None:
    owner = staff_client(tenant_slug, StaffRole.owner)
    base = f"/api/v1/t/{tenant_slug}"
    response = owner.put(f"{base}/admin/notifications/templates/booking.confirmed/log/en", json={"subject": TEMPLATE_SUBJECTS[tenant_slug]})
    assert response.status_code == 200, response.get_data(as_text=True)
    response = customer.put(f"{base}/me/notifications", json={"email": EMAILS[tenant_slug]})
    assert response.status_code == 200, response.get_data(as_text=True)


def _add_webhook(staff_client, tenant_slug: str) -> dict:
    owner = staff_client(tenant_slug, StaffRole.owner)
    return _created(owner.post(f"/api/v1/t/{tenant_slug}/admin/webhooks", json={"url": WEBHOOK_URLS[tenant_slug], "topics": ["booking.*"]}))


def _delivery_of(session, tenant, endpoint_id: int) -> Delivery:
    """A dead delivery of a booking event to the endpoint, as the outbox leaves one."""
    with tenant_scope(tenant.id), write_transaction(session):
        event = OutboxEvent(topic="booking.confirmed", payload={"booking": "b"})
        session.add(event)
        session.flush()
        delivery = Delivery(
            message_id="msg_of_tenant_b_delivery",
            event_id=event.id,
            topic=event.topic,
            subscriber=f"webhook:{endpoint_id}",
            kind=DeliveryKind.webhook,
            target=str(endpoint_id),
            payload={"body": "{}"},
            status=DeliveryStatus.dead,
        )
        session.add(delivery)
    return delivery


def _created(response: TestResponse) -> dict:
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def leaked(response: TestResponse, tenant_b: dict[str, str], sent: str = "") -> list[str]:
    """Tenant B's values in the response that the request did not itself send (ids are short numbers: not searched)."""
    text = readable(response)
    return [
        value
        for key, value in tenant_b.items()
        if key
        not in {"entry_id", "companion_id", "customer_id", "provider", "event", "channel", "locale", "endpoint_id", "delivery_id", "ban_id", "feedback_id"}
        and value in text
        and value not in sent
    ]


def readable(response: TestResponse) -> str:
    if response.mimetype.endswith("spreadsheetml.sheet"):
        sheet = load_workbook(io.BytesIO(response.get_data())).active
        return "\n".join(str(cell) for row in sheet.iter_rows(values_only=True) for cell in row)
    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return response.get_data(as_text=True)


def rows_of(session, tenant) -> dict[str, list[dict]]:
    """Every column of the tenant's bookings and their people, waitlist entries, companions, customers, points, bans, booking types, resources, route stops, payments, packages, credits, webhook endpoints and deliveries, as committed."""
    session.commit()
    state = {}
    with tenant_scope(tenant.id):
        for model in (
            Booking,
            BookingPerson,
            WaitlistEntry,
            Companion,
            Customer,
            PointsEntry,
            Ban,
            BookingType,
            Resource,
            RouteStop,
            Payment,
            LoginSetting,
            ChannelSettings,
            CreditPackage,
            CreditEntry,
            NotificationTemplate,
            NotificationPreference,
            WebhookEndpoint,
            Delivery,
            DataRequest,
            PrivacyNotice,
            Consent,
            Feedback,
        ):
            columns = [attribute.key for attribute in inspect(model).column_attrs]
            rows = session.scalars(select(model).order_by(model.id).execution_options(populate_existing=True))
            state[model.__name__] = [{column: getattr(row, column) for column in columns} for row in rows]
    return state


@dataclass
class Callers:
    """Tenant A's credentials of every kind the tenant routes take."""

    owner: FlaskClient
    customer: FlaskClient
    anonymous: FlaskClient

    def call(self, route: Route, path: str, tenant_b: dict[str, str]) -> tuple[TestResponse, str]:
        """Call ``path`` as tenant A would reach ``route``; returns the response and what the request sent."""
        if (route.rule, route.method) in PROVIDER_CALLBACKS:
            # Tenant A's sandbox signs a notification that names tenant B's payment.
            headers, body = sandbox_notification(SECRETS["tenant-a"], "payment.succeeded", tenant_b["reference"], amount=2000, currency="CNY")
            return self.anonymous.open(path, method=route.method, data=body, headers=headers), path + body.decode()
        client = {"staff": self.owner, "customer": self.customer, "none": self.anonymous}[route.credentials]
        body = BODIES.get((route.rule, route.method))
        return client.open(path, method=route.method, json=body), path + json.dumps(body)


@pytest.fixture
def callers(app, tenants, staff_client, signed_in_customer) -> Callers:
    return Callers(staff_client("tenant-a", StaffRole.owner), signed_in_customer(1), app.test_client())


# --- the matrix ------------------------------------------------------------------------


def test_every_id_a_tenant_route_names_has_a_tenant_b_value(app):
    routes = tenant_routes(app)
    with_ids = [route for route in routes if route.ids]

    for route in with_ids:
        assert route.ids <= ROUTE_ARGUMENTS, f"{route.method} {route.rule}: give its arguments a tenant-B value in the isolation matrix"
    assert len(with_ids) == ROUTES_WITH_IDS, "a tenant route with an id came or went: update ROUTES_WITH_IDS (and BODIES)"
    assert len(routes) - len(with_ids) == ROUTES_WITHOUT_IDS, "a tenant route without an id came or went: update ROUTES_WITHOUT_IDS"
    assert {(r.rule, r.method) for r in with_ids if r.credentials == "none"} == PUBLIC_ROUTES | PROVIDER_CALLBACKS


def test_tenant_b_ids_under_tenant_a_are_not_found(app, session, tenants, tenant_a, tenant_b, callers, problem):
    before = rows_of(session, tenants["tenant-b"])
    failures = []
    for route in (route for route in tenant_routes(app) if route.ids):
        path = route.path("tenant-a", tenant_b)
        response, sent = callers.call(route, path, tenant_b)
        try:
            if (route.rule, route.method) in PROVIDER_CALLBACKS:
                assert (response.status_code, response.get_json()["outcome"]) == (200, "ignored_unknown_payment")
            elif route.rule in TENANTS_OWN_SETTINGS:
                assert response.status_code in {200, 204}, response.get_data(as_text=True)
            elif route.rule in TEMPLATE_ROUTES:
                assert response.status_code in {200, 204} or problem(response, 404), response.get_data(as_text=True)
            else:
                problem(response, 404)
            assert not leaked(response, tenant_b, sent), leaked(response, tenant_b, sent)
        except AssertionError as error:
            failures.append(f"{route.method} {path}: {error}")
    assert failures == []
    assert rows_of(session, tenants["tenant-b"]) == before


def test_tenant_a_credentials_under_tenant_b_are_refused(app, session, tenants, tenant_a, tenant_b, callers, problem):
    before = rows_of(session, tenants["tenant-b"])
    failures = []
    checked = 0
    for route in tenant_routes(app):
        if not route.ids or (route.rule, route.method) in PUBLIC_ROUTES:
            continue
        path = route.path("tenant-b", tenant_b)
        response, sent = callers.call(route, path, tenant_b)
        try:
            problem(response, *REFUSALS[route.credentials])
            assert not leaked(response, tenant_b, sent), leaked(response, tenant_b, sent)
        except AssertionError as error:
            failures.append(f"{route.method} {path}: {error}")
        checked += 1
    assert failures == []
    assert checked == ROUTES_WITH_IDS - len(PUBLIC_ROUTES)
    assert rows_of(session, tenants["tenant-b"]) == before


def test_lists_under_tenant_a_show_tenant_a_objects_and_none_of_tenant_b(app, tenant_a, tenant_b, callers):
    checked = []
    for route in tenant_routes(app):
        if route.ids or route.method != "GET":
            continue
        path = route.path("tenant-a", {})
        response, sent = callers.call(route, path, tenant_b)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
        assert not leaked(response, tenant_b, sent), (path, leaked(response, tenant_b, sent))
        assert route.rule in COUNTS_ONLY or any(value in readable(response) for value in tenant_a.values()), f"{path} shows nothing of tenant A's"
        checked.append(route.rule)
    assert sorted(checked) == sorted(
        [
            "/admin/appearance",
            "/admin/booking-types",
            "/admin/bookings",
            "/admin/check-ins",
            "/admin/customers",
            "/admin/customers/export",
            "/admin/data-requests",
            "/admin/exports/bookings.csv",
            "/admin/exports/bookings.xlsx",
            "/admin/login-providers",
            "/admin/notifications/channels",
            "/admin/packages",
            "/admin/privacy",
            "/admin/resources",
            "/admin/webhooks",
            "/admin/webhooks/event-types",
            "/auth/me",
            "/booking-types",
            "/me/bans",
            "/me/bookings",
            "/me/companions",
            "/me/credits",
            "/me/data",
            "/me/notifications",
            "/me/points",
            "/me/profile",
            "/admin/notifications/templates",
            "/packages",
            "/admin/feedback",
            "/me/feedback",
            *STATS_ROUTES,
        ]
    )


def test_tenant_b_ids_in_request_bodies_under_tenant_a_are_not_found(callers, tenant_a, tenant_b, problem):
    a = "/api/v1/t/tenant-a"
    request = {"booking_type": tenant_b["slug"], "starts_at": iso(10), "answers": {"name": "Ann Ay"}}

    problem(callers.owner.post(f"{a}/admin/check-ins", json={"code": tenant_b["voucher"]}), 404, "voucher_not_found")
    problem(callers.customer.post(f"{a}/bookings", json=request), 404, "booking_type_not_found")
    problem(callers.customer.post(f"{a}/waitlist", json=request), 404, "booking_type_not_found")
    problem(callers.customer.post(f"{a}/me/credits", json={"package": tenant_b["package"]}), 404, "package_not_found")
    problem(callers.owner.post(f"{a}/admin/package-sales", json={"phone": "13800000009", "package": tenant_b["package"]}), 404, "package_not_found")
    merge = {"from": int(tenant_b["customer_id"]), "reason": "isolation check"}
    problem(callers.owner.post(f"{a}/admin/customers/{callers.customer.customer.id}/merge", json=merge), 404, "customer_not_found")
