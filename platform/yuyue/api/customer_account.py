"""Customer API for the customer's own account: ``/me/profile``, ``PUT /me/companions/<id>``, ``/me/points``, ``/me/bans`` and ``/me/data``.

Listing, adding and removing companions stay with the other ``/me`` routes in :mod:`yuyue.api.customer`.
The operations (:mod:`yuyue.bookings.customer_account` for changes) validate, audit and announce; what the answers hold is in
:mod:`yuyue.presenting.account` and :mod:`yuyue.presenting.personal_data`; the bodies and
descriptions in :mod:`yuyue.api.schemas.customer.account`.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from flask import Response, g, jsonify

from yuyue.api.auth import customer_required, request_now
from yuyue.api.core import json_body
from yuyue.api.query import cursor_before, page_before
from yuyue.api.schemas.customer.account import PROFILE_CHANGE
from yuyue.api.schemas.customer.me import COMPANION_CHANGE, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.bookings import customer_account
from yuyue.bookings.placement import Actor
from yuyue.customers import operations as customers
from yuyue.db import db
from yuyue.presenting import account
from yuyue.presenting.customer import companion_json
from yuyue.presenting.personal_data import personal_data
from yuyue.privacy.operations import record_download

# View functions are named customer_*: endpoint names share tenant_api with the merchant API.


def _zone() -> ZoneInfo:
    return ZoneInfo(current_tenant().time_zone)


def _actor() -> str:
    return str(Actor("customer", g.customer.id))


@tenant_api.get("/me/profile")
@customer_required
def customer_profile() -> Response:
    return jsonify(account.profile_json(g.customer, _zone()))


@tenant_api.put("/me/profile")
@customer_required
def customer_change_profile() -> Response:
    body = json_body(PROFILE_CHANGE)
    customer = customer_account.rename_customer(db.session, g.customer, body["name"], actor=_actor())
    return jsonify(account.profile_json(customer, _zone()))


@tenant_api.put("/me/companions/<row_id:companion_id>")
@customer_required
def customer_change_companion(companion_id: int) -> Response:
    body = json_body(COMPANION_CHANGE)
    companion = customer_account.update_companion(db.session, g.customer, companion_id, actor=_actor(), **body)
    return jsonify(companion_json(companion))


@tenant_api.get("/me/points")
@customer_required
def customer_points() -> Response:
    before_id, limit = page_before(default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    entries = customers.points_entries(db.session, g.customer, before_id=before_id, limit=limit + 1)
    more = len(entries) > limit
    entries = entries[:limit]
    bookings, zone = account.booking_ids(db.session, g.customer, (entry.booking_id for entry in entries)), _zone()
    return jsonify(
        {
            "balance": customers.points_balance(db.session, g.customer),
            "entries": [account.points_entry_json(entry, bookings, zone) for entry in entries],
            "next_cursor": cursor_before(entries[-1].id) if more else None,
        }
    )


@tenant_api.get("/me/bans")
@customer_required
def customer_bans() -> Response:
    now, zone = request_now(), _zone()
    return jsonify({"bans": [account.ban_json(ban, now, zone) for ban in account.customer_bans(db.session, g.customer, ending_after=now)]})


@tenant_api.get("/me/data")
@customer_required
def customer_data() -> Response:
    """The download as an attachment; never kept by a cache on the way. Each download is recorded as a data request."""
    download = personal_data_download(personal_data(db.session, current_tenant(), g.customer, request_now()))
    record_download(db.session, g.customer, actor=_actor(), now=request_now())
    return download


def personal_data_download(data: dict) -> Response:
    """``data`` as the file ``yuyue-data-<tenant>-<local date>.json``, for the API and the site alike."""
    day = data["generated_at"][:10]
    filename = f"yuyue-data-{data['tenant']['slug']}-{day}.json"
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
