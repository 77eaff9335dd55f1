"""Customer-login fixtures: an app with rate limits off unless a test turns them on, tenants, a clock, a client helper.

``make_tenant`` and ``problem`` come from the root conftest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from yuyue.events.channels import sent_messages
from yuyue.tenancy.models import Tenant


@dataclass
class Clock:
    """What the API takes as now (config ``CLOCK``); moves only when told."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# One per process: an application built with a clock is kept for the next test with the same settings (make_app).
_CLOCK = Clock()


@pytest.fixture
def clock() -> Clock:
    _CLOCK.now = Clock().now
    return _CLOCK


@pytest.fixture
def build_app(make_app, clock: Clock) -> Callable[..., Flask]:
    """``build_app(RATELIMIT_ENABLED=True, ...)``: an application with the frozen clock; rate limits off by default."""

    def build(**overrides) -> Flask:
        settings = {"RATELIMIT_ENABLED": False, "CLOCK": clock, "NOTIFICATION_CHANNEL": "log"}
        return make_app(**{**settings, **overrides})

    return build


@pytest.fixture
def app(build_app) -> Iterator[Flask]:
    app = build_app()
    with app.app_context():
        yield app


@pytest.fixture
def tenant_a(make_tenant) -> Tenant:
    return make_tenant("tenant-a")


@pytest.fixture
def tenant_b(make_tenant) -> Tenant:
    return make_tenant("tenant-b")


class CustomerClient:
    """Talks to one tenant's auth endpoints the way a mini-program or the H5 site would."""

    def __init__(self, app: Flask, client: FlaskClient, slug: str):
        self.app, self.client, self.base = app, client, f"/api/v1/t/{slug}/auth"

    def ask_code(self, phone: str = "13800138000") -> TestResponse:
        return self.client.post(f"{self.base}/code", json={"phone": phone})

    def last_code(self, phone: str = "13800138000") -> str:
        return next(m.params["code"] for m in reversed(sent_messages(self.app)) if m.to == phone)

    def login(self, code: str, phone: str = "13800138000") -> TestResponse:
        return self.client.post(f"{self.base}/login", json={"phone": phone, "code": code})

    def log_in(self, phone: str = "13800138000") -> dict:
        """Ask for a code, read it from the log channel, log in; the token pair."""
        assert self.ask_code(phone).status_code == 202
        response = self.login(self.last_code(phone), phone)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def me(self, access_token: str) -> TestResponse:
        return self.client.get(f"{self.base}/me", headers={"Authorization": f"Bearer {access_token}"})


@pytest.fixture
def customer_client(app: Flask, client: FlaskClient) -> Callable[[str], CustomerClient]:
    return lambda slug="tenant-a": CustomerClient(app, client, slug)
