"""Tenants never see each other on the booking pages: every booking route, generated from the URL map, called under
tenant A with tenant B's objects by the very browser that booked at B, answers 404 and shows nothing of B.

A new booking route with a URL parameter not in ``SOURCES`` fails here until it is added.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask import Flask
from site_booking_setup import ZONE, hidden_fields, slot_at
from tenant_setup import make_booking_type, make_tenant, phone, windows

BOOKING_ENDPOINTS = ("site.home", "site.booking_type", "site.booking_form", "site.place_booking", "site.voucher", "site.voucher_ics")
MARKER = "zzb-mark"
AT = slot_at(datetime.now(ZONE).date() + timedelta(days=2), 9)


def booking_rules(app: Flask) -> list[tuple[str, str]]:
    """(rule, method) of every booking route."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in BOOKING_ENDPOINTS:
            found += [(rule.rule, method) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


@pytest.fixture
def two_tenants(app, client, session) -> dict[str, str]:
    """Tenants ``alpha`` and ``beta`` (whose type is named with :data:`MARKER`); ``client`` booked at beta. Beta's objects by URL parameter."""
    for slug in ("alpha", "beta"):
        tenant = make_tenant(session, slug)
        label = MARKER if slug == "beta" else slug
        make_booking_type(session, tenant, f"{slug}-type", name={"zh-Hans": label, "en": label}, rules=windows(("09:00", "11:00")))
    url = f"/t/beta/book/beta-type/form?at={AT.isoformat().replace('+', '%2B')}"
    placed = client.post(url, data={**hidden_fields(client.get(url)), "answers.name": MARKER, "phone": phone(1), "party_size": "1"})
    assert placed.status_code == 303
    return {"type_slug": "beta-type", "public_id": placed.headers["Location"].rsplit("/", 1)[1]}


SOURCES = ("type_slug", "public_id")


def test_every_booking_route_is_in_the_matrix(app):
    rules = booking_rules(app)
    assert set(BOOKING_ENDPOINTS) == {r.endpoint for r in app.url_map.iter_rules() if r.endpoint in BOOKING_ENDPOINTS}
    for rule, _method in rules:
        for name in re.findall(r"<(?:[^<>:]+:)?([^<>]+)>", rule):
            assert name == "tenant_slug" or name in SOURCES, f"{rule}: add <{name}> to SOURCES"


def test_tenant_betas_objects_are_not_found_under_alpha(app, client, two_tenants):
    csrf = hidden_fields(client.get(f"/t/alpha/book/alpha-type/form?at={AT.isoformat().replace('+', '%2B')}"))["csrf_token"]
    checked = 0
    for rule, method in booking_rules(app):
        names = [n for n in re.findall(r"<(?:[^<>:]+:)?([^<>]+)>", rule) if n != "tenant_slug"]
        if not names:
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda m: "alpha" if m.group(1) == "tenant_slug" else two_tenants[m.group(1)], rule)
        query = {"at": AT.isoformat()}
        response = client.open(path, method=method, query_string=query, data={"csrf_token": csrf} if method == "POST" else None)
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
        assert MARKER not in response.get_data(as_text=True), f"{method} {path} shows tenant beta"
        checked += 1
    assert checked >= 5


def test_alphas_pages_show_nothing_of_beta(client, two_tenants):
    for path in ("/t/alpha/", "/t/alpha/book/alpha-type/", f"/t/alpha/book/alpha-type/form?at={AT.isoformat().replace('+', '%2B')}"):
        page = client.get(path)
        assert page.status_code == 200 and MARKER not in page.get_data(as_text=True) and "beta" not in page.get_data(as_text=True), path
