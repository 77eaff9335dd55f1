"""Only an operator token opens the operator API: every endpoint, derived from the URL map, is checked."""

from __future__ import annotations

import re
import tempfile

import pytest
from flask import Flask

from yuyue.api.core import v1
from yuyue.app import create_app
from yuyue.provisioning.operations import create_token
from yuyue.tenancy.models import TokenKind

OPERATOR_PREFIX = "/api/v1/operator"


def operator_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) for every operator endpoint of the v1 blueprint."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{v1.name}.") and rule.rule.startswith(OPERATOR_PREFIX)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def _routes_of_a_bare_app() -> list[tuple[str, str]]:
    # Parameters are fixed at collection, before any fixture exists. This app touches no database and loads
    # no plugin, so a broken plugin fails its own tests instead of the collection; a test below checks that
    # the fully equipped app has the same operator routes.
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_PATH": instance, "SECRET_KEY": "collect", "TESTING": True, "PLUGINS": []})
        return operator_routes(app)


ROUTES = _routes_of_a_bare_app()
ROUTE_IDS = [f"{method} {rule}" for method, rule in ROUTES]


def _path(rule: str, slug: str) -> str:
    """Fill the rule's variables: ``<slug>`` with ``slug``, numeric converters with 1."""
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", lambda m: "1" if m.group(1) in ("int", "float") else slug, rule)


def _call(client, method: str, rule: str, headers: dict[str, str] | None = None):
    # A body the endpoint would accept, so only the credentials decide the answer.
    body = {"plugins": {}} if method == "PUT" else {"slug": "newcomer", "name": "Newcomer"} if method == "POST" else None
    return client.open(_path(rule, "tenant-a"), method=method, json=body, headers=headers or {})


def test_operator_routes_are_found():
    assert ("POST", "/api/v1/operator/tenants") in ROUTES
    assert len(ROUTES) >= 6


def test_parametrized_routes_are_exactly_the_operator_routes_of_the_real_app(app):
    assert operator_routes(app) == ROUTES


@pytest.mark.parametrize(("method", "rule"), ROUTES, ids=ROUTE_IDS)
def test_operator_endpoint_without_token_answers_401(client, problem, staff_headers, method, rule):
    response = _call(client, method, rule)

    problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "rule"), ROUTES, ids=ROUTE_IDS)
def test_operator_endpoint_refuses_a_staff_token_with_403(client, problem, staff_headers, method, rule):
    response = _call(client, method, rule, staff_headers)

    problem(response, 403, "forbidden")


@pytest.mark.parametrize(("method", "rule"), ROUTES, ids=ROUTE_IDS)
def test_operator_endpoint_refuses_an_unknown_token_with_401(client, problem, staff_headers, method, rule):
    response = _call(client, method, rule, {"Authorization": "Bearer yy_not-a-real-token"})

    problem(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_staff_token_cannot_provision_a_tenant(client, staff_headers, operator):
    client.post("/api/v1/operator/tenants", json={"slug": "intruder", "name": "Intruder"}, headers=staff_headers)

    assert operator.get("/api/v1/operator/tenants/intruder").status_code == 404


def test_staff_token_of_an_owner_is_refused_too(client, problem, session, staff_headers):
    from yuyue.tenancy.models import StaffRole

    _, secret = create_token(session, kind=TokenKind.staff, name="owner", tenant_slug="tenant-a", role=StaffRole.owner)

    response = client.get("/api/v1/operator/tenants", headers={"Authorization": f"Bearer {secret}"})

    problem(response, 403, "forbidden")


def test_wrong_authorization_scheme_answers_401(client, problem, operator_headers):
    secret = operator_headers["Authorization"].removeprefix("Bearer ")

    response = client.get("/api/v1/operator/tenants", headers={"Authorization": f"Basic {secret}"})

    problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_bearer_without_a_secret_answers_401(client, problem):
    response = client.get("/api/v1/operator/tenants", headers={"Authorization": "Bearer   "})

    problem(response, 401, "unauthorized")


def test_bearer_scheme_is_case_insensitive(client, operator_headers):
    secret = operator_headers["Authorization"].removeprefix("Bearer ")

    response = client.get("/api/v1/operator/tenants", headers={"Authorization": f"bearer {secret}"})

    assert response.status_code == 200


def test_revoked_operator_token_answers_401(client, problem, session):
    from datetime import UTC, datetime

    from yuyue.db import write_transaction

    token, secret = create_token(session, kind=TokenKind.operator, name="old")
    with write_transaction(session):
        session.merge(token).revoked_at = datetime.now(UTC)

    response = client.get("/api/v1/operator/tenants", headers={"Authorization": f"Bearer {secret}"})

    problem(response, 401, "invalid_token")


def test_health_needs_no_token(client):
    response = client.get("/api/v1/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
