"""API fixtures: tenants provisioned through the operator API, and a staff token of one of them.

The operator client and the ``problem`` check come from the root conftest.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from yuyue.provisioning.operations import create_token
from yuyue.tenancy.models import TokenKind


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
