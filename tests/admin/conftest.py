"""Admin fixtures: users with a role at tenant-a, tenant-b or both, an operator, and clients signed in as them.

``tenants`` (tenant-a and tenant-b, each with the exhibition and course plugins) comes from the
root conftest. Every user's password is :data:`PASSWORD`. CSRF protection stays on: an
:class:`AdminClient` sends the session's token with each write, as the admin's pages do.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from yuyue.db import db
from yuyue.provisioning.operations import add_staff_member
from yuyue.tenancy.models import StaffRole

PASSWORD = "pass-word-1"
_CSRF = re.compile(r'name="csrf[-_]token"[^>]*?(?:content|value)="([^"]+)"')

# username → the tenants where the user works and the role there.
ADMIN_USERS: dict[str, dict[str, StaffRole]] = {
    "owner-a": {"tenant-a": StaffRole.owner},
    "manager-a": {"tenant-a": StaffRole.manager},
    "staff-a": {"tenant-a": StaffRole.staff},
    "owner-b": {"tenant-b": StaffRole.owner},
    "staff-b": {"tenant-b": StaffRole.staff},
    "both": {"tenant-a": StaffRole.manager, "tenant-b": StaffRole.staff},
}
OPERATOR = "operator"


class AdminClient:
    """A test client signed in to the admin; ``post`` adds the session's CSRF token unless given one."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._csrf: str | None = None

    def csrf_token(self) -> str:
        if self._csrf is None:
            page = self.client.get("/admin/", follow_redirects=True).get_data(as_text=True)
            match = _CSRF.search(page)
            assert match, "no CSRF token on the admin's first page"
            self._csrf = match.group(1)
        return self._csrf

    def get(self, url: str, **kwargs) -> TestResponse:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs) -> TestResponse:
        data = dict(data or {})
        if "json" not in kwargs:
            data.setdefault("csrf_token", self.csrf_token())
            return self.client.post(url, data=data, **kwargs)
        headers = {"X-CSRFToken": self.csrf_token(), **kwargs.pop("headers", {})}
        return self.client.post(url, headers=headers, **kwargs)


def log_in(app: Flask, username: str, password: str = PASSWORD, *, language: str | None = None) -> AdminClient:
    """Sign in through Flask-AppBuilder's login form, CSRF token included; then choose ``language`` if given
    (pages are in zh-Hans by default; tests that read English words choose ``"en"``)."""
    client = app.test_client()
    form = client.get("/login/").get_data(as_text=True)
    match = _CSRF.search(form)
    data = {"username": username, "password": password}
    if match:
        data["csrf_token"] = match.group(1)
    response = client.post("/login/", data=data)
    assert response.status_code == 302 and "/login" not in response.headers["Location"], f"{username} could not log in"
    if language is not None:
        assert client.get(f"/lang/{language}").status_code == 302
    return AdminClient(client)


@pytest.fixture
def admin_users(app: Flask, session, tenants) -> dict[str, int]:
    """Every user of :data:`ADMIN_USERS` and the operator, by username → user id."""
    security = app.appbuilder.sm
    ids = {}
    for username, roles in ADMIN_USERS.items():
        for tenant_slug, role in roles.items():
            add_staff_member(session, security, tenant_slug=tenant_slug, username=username, role=role, email=f"{username}@example.invalid", password=PASSWORD)
        ids[username] = security.find_user(username=username).id
    operator = security.add_user(OPERATOR, "Op", "Erator", "operator@example.invalid", security.find_role("Admin"), password=PASSWORD)
    ids[OPERATOR] = operator.id
    db.session.remove()
    return ids


@pytest.fixture
def admin_login(app: Flask, admin_users) -> Callable[..., AdminClient]:
    """``admin_login("owner-a")``: a client signed in as that user; ``admin_login("owner-a", language="en")`` reads English."""
    return lambda username, language=None: log_in(app, username, language=language)
