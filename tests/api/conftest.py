"""API fixtures: operator and staff tokens, and a check that a response is a proper problem document."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from yuyue.tenancy.models import TokenKind
from yuyue.tenancy.operations import create_token

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "errors"}


@pytest.fixture
def operator_headers(session) -> dict[str, str]:
    _, secret = create_token(session, kind=TokenKind.operator, name="test operator")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def operator(app: Flask, operator_headers: dict[str, str]) -> FlaskClient:
    """A test client of its own that sends an operator token with every request (``client`` sends none)."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = operator_headers["Authorization"]
    return client


@pytest.fixture
def create_tenant(operator: FlaskClient) -> Callable[..., TestResponse]:
    """Provision a tenant through the API; ``create_tenant("acme", plugins={...})``."""

    def create(slug: str, **fields) -> TestResponse:
        response = operator.post("/api/v1/operator/tenants", json={"slug": slug, "name": slug.title(), **fields})
        assert response.status_code == 201, response.get_json()
        return response

    return create


@pytest.fixture
def staff_headers(session, create_tenant) -> dict[str, str]:
    """A staff token of tenant ``tenant-a``."""
    create_tenant("tenant-a")
    _, secret = create_token(session, kind=TokenKind.staff, name="front desk", tenant_slug="tenant-a")
    return {"Authorization": f"Bearer {secret}"}


def _check_problem(response: TestResponse, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert PROBLEM_FIELDS <= body.keys()
    assert body["status"] == status
    assert body["type"].endswith("/" + body["code"])
    assert isinstance(body["errors"], list)
    if code is not None:
        assert body["code"] == code
    return body


@pytest.fixture
def problem() -> Callable[..., dict]:
    """``problem(response, 422, "validation_failed")`` asserts a problem document and returns its body."""
    return _check_problem
