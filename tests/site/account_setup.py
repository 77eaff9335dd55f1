"""What the account pages' tests share: a browser that posts forms with the page's CSRF token, logging in by code, and bookings to show.

Slots lie a week ahead of the real clock (the site reads it), in tenant-a's zone (Asia/Shanghai).
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

from flask import Flask
from tenant_setup import make_booking_type, phone, windows
from werkzeug.test import TestResponse

from yuyue.bookings import operations as bookings
from yuyue.bookings.models import Booking
from yuyue.db import tenant_scope
from yuyue.events.channels import sent_messages
from yuyue.forms.registry import form_registry
from yuyue.provisioning.operations import get_tenant
from yuyue.types import utcnow

SITE = "/t/tenant-a"
ZONE = ZoneInfo("Asia/Shanghai")
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def slot(hour: int = 9, days_ahead: int = 7) -> datetime:
    day = (utcnow().astimezone(ZONE) + timedelta(days=days_ahead)).date()
    return datetime.combine(day, time(hour), ZONE)


class Browser:
    """One customer's browser: keeps its cookies, and posts a form with the CSRF token of the last page that had one."""

    def __init__(self, app: Flask, address: str = "10.0.0.1", language: str = "en"):
        self.app, self.client = app, app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address
        self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        self.token: str | None = None

    def get(self, path: str, **options) -> TestResponse:
        response = self.client.get(path, **options)
        self._keep_token(response)
        return response

    def _keep_token(self, response: TestResponse) -> None:
        found = _TOKEN.search(response.get_data(as_text=True))
        self.token = unescape(found.group(1)) if found else None

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **options) -> TestResponse:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.token or self._fresh_token())
        response = self.client.post(path, data=form, **options)
        self._keep_token(response)
        return response

    def _fresh_token(self) -> str:
        """A token from a page with a form: the login page, or for a signed-in customer their bookings (the logout button)."""
        self.get(f"{SITE}/login")
        if self.token is None:
            self.get(f"{SITE}/me/bookings")
        return self.token

    def ask_code(self, number: str, site: str = SITE) -> TestResponse:
        self.get(f"{site}/login")
        return self.post(f"{site}/login/code", {"phone": number})

    def last_code(self, number: str) -> str:
        return next(m.params["code"] for m in reversed(sent_messages(self.app)) if m.to == number)

    def log_in(self, n: int = 1, *, site: str = SITE, next_page: str | None = None) -> TestResponse:
        """Ask for a code for the n-th test phone, read it from the log channel, and log in with it."""
        number = phone(n)
        self.ask_code(number, site)
        form = {"phone": number, "code": self.last_code(number)}
        if next_page is not None:
            form["next"] = next_page
        return self.post(f"{site}/login", form)

    def page(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    def remember_guest_booking(self, tenant_id: int, public_id: str) -> None:
        """What placing a booking as a guest on this browser leaves in its session (yuyue.site.base.remember_booking)."""
        with self.client.session_transaction() as session:
            state = session.get("site", {})
            mine = dict(state.get(str(tenant_id), {}))
            mine["bookings"] = [public_id, *mine.get("bookings", [])]
            session["site"] = {**state, str(tenant_id): mine}


def make_visit(session, tenant_slug: str = "tenant-a", slug: str = "visit", *, capacity: int = 20, **options):
    """A timed-entry type 09:00-10:00 and 10:00-11:00 with a one-field form (``name``)."""
    return make_booking_type(
        session,
        get_tenant(session, tenant_slug),
        slug,
        name={"zh-Hans": "参观", "zh-Hant": "參觀", "en": "Visit"},
        rules=windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=capacity),
        **options,
    )


def place(session, n: int, *, tenant_slug: str = "tenant-a", slug: str = "visit", starts_at: datetime | None = None, now: datetime | None = None) -> Booking:
    """A booking of the n-th test phone's customer, placed through the booking operation."""
    tenant = get_tenant(session, tenant_slug)
    booking = bookings.book(
        session, form_registry(), tenant, booking_type_slug=slug, starts_at=starts_at or slot(), phone=phone(n), answers={"name": f"Visitor {n}"}, now=now
    )
    session.commit()
    return booking


def fresh_booking(session, tenant_slug: str, public_id: str) -> Booking:
    session.commit()
    session.expire_all()
    with tenant_scope(get_tenant(session, tenant_slug).id):
        return bookings.get_booking(session, public_id)


__all__ = ["SITE", "ZONE", "Browser", "fresh_booking", "make_visit", "phone", "place", "slot"]
