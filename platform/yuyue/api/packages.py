"""Class packages and credits, for customers (``/packages``, ``/me/credits``) and staff (``/admin/packages``, ``/admin/package-sales``,
``/admin/customers/<id>/credits``).

A priced package is paid for at the front desk and added by staff (a package
sale): the payment providers collect the price of bookings only. A customer
takes a free package (a trial class, a gift) themselves.
The bodies and route descriptions are in :mod:`yuyue.api.schemas.customer.credits`
and :mod:`yuyue.api.schemas.merchant.packages`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, g, jsonify

from yuyue.api.auth import customer_required, staff_required
from yuyue.api.core import json_body
from yuyue.api.customer import aware_datetime, request_locale
from yuyue.api.merchant import staff_actor
from yuyue.api.schemas.customer.credits import PACKAGE_PURCHASE
from yuyue.api.schemas.merchant.packages import CREDIT_ADJUSTMENT, PACKAGE_CHANGE, PACKAGE_CREATE, PACKAGE_SALE
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.bookings.placement import Actor
from yuyue.credits import operations as credits
from yuyue.customers.models import Customer
from yuyue.db import db
from yuyue.presenting.credits import credits_json, package_json
from yuyue.tenancy.models import StaffRole


def _zone() -> ZoneInfo:
    return ZoneInfo(current_tenant().time_zone)


def _staff_credits(customer: Customer) -> Response:
    return jsonify(credits_json(credits.credit_summary(db.session, current_tenant(), customer), _zone()))


# --- customers ----------------------------------------------------------------------


@tenant_api.get("/packages")
def customer_packages() -> tuple[Response, int, dict[str, str]]:
    locale = request_locale()
    on_sale = credits.list_packages(db.session, current_tenant(), active_only=True)
    slugs = credits.booking_type_slugs(db.session, current_tenant(), on_sale)
    return jsonify({"packages": [package_json(p, slugs, locale=locale) for p in on_sale]}), 200, {"Content-Language": locale, "Vary": "Accept-Language"}


@tenant_api.get("/me/credits")
@customer_required
def customer_credits() -> tuple[Response, int, dict[str, str]]:
    locale = request_locale()
    summary = credits.credit_summary(db.session, current_tenant(), g.customer)
    return jsonify(credits_json(summary, _zone(), locale=locale)), 200, {"Content-Language": locale}


@tenant_api.post("/me/credits")
@customer_required
def customer_take_package() -> tuple[Response, int, dict[str, str]]:
    locale = request_locale()
    body = json_body(PACKAGE_PURCHASE)
    credits.purchase_free_package(db.session, current_tenant(), g.customer, body["package"], actor=str(Actor("customer", g.customer.id)))
    summary = credits.credit_summary(db.session, current_tenant(), g.customer)
    return jsonify(credits_json(summary, _zone(), locale=locale)), 201, {"Content-Language": locale}


# --- staff --------------------------------------------------------------------------


@tenant_api.get("/admin/packages")
@staff_required()
def list_packages() -> Response:
    packages = credits.list_packages(db.session, current_tenant())
    slugs = credits.booking_type_slugs(db.session, current_tenant(), packages)
    return jsonify({"packages": [package_json(p, slugs) for p in packages]})


@tenant_api.post("/admin/packages")
@staff_required(StaffRole.manager)
def create_package() -> tuple[Response, int]:
    body = json_body(PACKAGE_CREATE)
    package = credits.create_package(db.session, current_tenant(), actor=str(staff_actor()), **body)
    return jsonify(package_json(package, credits.booking_type_slugs(db.session, current_tenant(), [package]))), 201


@tenant_api.patch("/admin/packages/<name:package>")
@staff_required(StaffRole.manager)
def update_package(package: str) -> Response:
    body = json_body(PACKAGE_CHANGE)
    changed = credits.update_package(db.session, current_tenant(), package, actor=str(staff_actor()), **body)
    return jsonify(package_json(changed, credits.booking_type_slugs(db.session, current_tenant(), [changed])))


@tenant_api.post("/admin/package-sales")
@staff_required()
def sell_package() -> tuple[Response, int]:
    body = json_body(PACKAGE_SALE)
    entry = credits.sell_package(
        db.session, current_tenant(), phone=body["phone"], name=body.get("name"), package_code=body["package"], note=body.get("note"), actor=str(staff_actor())
    )
    return _staff_credits(credits.customer_by_id(db.session, current_tenant(), entry.customer_id)), 201


@tenant_api.get("/admin/customers/<row_id:customer_id>/credits")
@staff_required()
def staff_customer_credits(customer_id: int) -> Response:
    return _staff_credits(credits.customer_by_id(db.session, current_tenant(), customer_id))


@tenant_api.post("/admin/customers/<row_id:customer_id>/credits")
@staff_required(StaffRole.manager)
def adjust_credits(customer_id: int) -> tuple[Response, int]:
    body = json_body(CREDIT_ADJUSTMENT)
    expires_at = aware_datetime(body["expires_at"], "/expires_at") if body.get("expires_at") else None
    customer = credits.customer_by_id(db.session, current_tenant(), customer_id)
    credits.adjust_credits(db.session, current_tenant(), customer, delta=body["delta"], note=body["reason"], expires_at=expires_at, actor=str(staff_actor()))
    return _staff_credits(customer), 201
