"""Every operation of the served OpenAPI document, sent hostile input: refused with a problem document, never a 5xx.

Cases are read off the document the application serves: for every operation a
10 MB body and a NUL in a query parameter; for every path parameter a NUL (and
for a numeric one ±2³¹, 2⁶³ and 10³⁰); for every query parameter a NUL (and
the same integers for a numeric one); for every operation that takes a body,
arrays and objects nested 10,000 deep, 10 MB sent chunked, the body as
``text/plain``, and for every field of the body (nested ones included) a NUL
in a string, ±2³¹, ±2⁶³ and 10³⁰ in a number, and a value of the wrong JSON
type. Each case changes one thing in an otherwise plausible request (real ids,
a real slot, the token the operation's security scheme names), so the hostile
value reaches as far as it can, rate-limit keys included. One tenant is seeded
once for the module; no case is meant to change it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from api_setup import Seeded, seed
from bad_inputs import SAMPLES
from flask import Flask

from yuyue.api.limits import DEFAULT_LIMITS
from yuyue.app import create_app
from yuyue.db import Model, db

METHODS = ("get", "put", "post", "patch", "delete")
HOSTILE_INTEGERS = {"2^31": 2**31, "-2^31": -(2**31), "2^63": 2**63, "-2^63": -(2**63), "10^30": 10**30}
TEN_MB = 10 * 1024 * 1024
DEEP = 10_000
# Rows `yuyue init` creates; everything else is emptied after the module.
KEPT_TABLES = {"ab_permission", "ab_view_menu", "ab_permission_view", "ab_role", "ab_permission_view_role", "alembic_version"}


@dataclass(frozen=True)
class Hostile:
    """One request with one hostile thing in it; everything else is what the seeded tenant makes plausible."""

    method: str
    path: str
    what: str
    scheme: str | None
    path_values: dict[str, Any] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None  # a JSON value, or bytes sent as they are
    content_type: str | None = "application/json"
    chunked: bool = False
    fields: tuple[str, ...] = ()  # body fields that get plausible values

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.what}"


def _served_document() -> dict[str, Any]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "document-only-" + "k" * 32})
    return app.test_client().get("/api/v1/openapi.json").get_json()


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    return set(declared) if isinstance(declared, list) else {declared} if declared else set()


def _wrong_type(schema: dict[str, Any]) -> Any:
    types = _types(schema) | ({"integer"} if "number" in _types(schema) else set())
    return next(value for json_type, value in SAMPLES if json_type not in types)


def _fields(schema: dict[str, Any], pointer: tuple[str, ...] = (), depth: int = 0) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every field a body schema names, nested ones included: (path of keys, its schema); ``"0"`` stands for an array item."""
    if depth > 4 or not isinstance(schema, dict):
        return
    for name, sub in (schema.get("properties") or {}).items():
        yield (*pointer, name), sub
        yield from _fields(sub, (*pointer, name), depth + 1)
    if isinstance(schema.get("items"), dict):
        yield (*pointer, "0"), schema["items"]
        yield from _fields(schema["items"], (*pointer, "0"), depth + 1)
    if isinstance(schema.get("additionalProperties"), dict):
        yield (*pointer, "key"), schema["additionalProperties"]


def _field_values(schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    types = _types(schema)
    if not types:
        return  # any JSON value is acceptable there; the field is checked by its own schema elsewhere (forms, rules)
    yield "wrong type", _wrong_type(schema)
    if "string" in types:
        yield "NUL", "a\x00b"
    if types & {"integer", "number"}:
        yield from HOSTILE_INTEGERS.items()
    if "object" in types:
        yield "NUL in a member", {"n\x00": "v\x00"}


def _cases(document: dict[str, Any]) -> Iterator[Hostile]:
    for path, item in document["paths"].items():
        for method in (m for m in METHODS if m in item):
            operation = item[method]
            requirements = operation.get("security", [])
            scheme = next(iter(requirements[0]), None) if requirements else None
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            op = {"method": method, "path": path, "scheme": scheme}
            yield Hostile(**op, what="10 MB body", body=b" " * TEN_MB)
            yield Hostile(**op, what="NUL in an unknown query parameter", query={"zz": "\x00"})
            for parameter in parameters:
                name, where, schema = parameter["name"], parameter["in"], parameter["schema"]
                if where not in ("path", "query"):
                    continue
                values = {"NUL": "x\x00y"} | (HOSTILE_INTEGERS if "integer" in _types(schema) else {})
                for label, value in values.items():
                    if where == "path":
                        yield Hostile(**op, what=f"{label} in path {name}", path_values={name: value})
                    else:
                        yield Hostile(**op, what=f"{label} in query {name}", query={name: str(value)})
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = content["application/json"]["schema"]
            top = tuple((schema.get("properties") or {}).keys())
            yield Hostile(**op, what="arrays 10,000 deep", body=b"[" * DEEP + b"]" * DEEP)
            yield Hostile(**op, what="objects 10,000 deep", body=b'{"a":' * DEEP + b"1" + b"}" * DEEP)
            yield Hostile(**op, what="10 MB chunked", body=b" " * TEN_MB, chunked=True)
            yield Hostile(**op, what="text/plain", body={}, content_type="text/plain", fields=top)
            yield Hostile(**op, what="wrong type for the body", body=_wrong_type(schema))
            for keys, sub in _fields(schema):
                for label, value in _field_values(sub):
                    yield Hostile(**op, what=f"{label} at /{'/'.join(keys)}", body=_nest(keys, value), fields=top)


def _nest(keys: tuple[str, ...], value: Any) -> Any:
    """``value`` at ``keys`` inside a body: ``("a", "0", "b")`` is ``{"a": [{"b": value}]}``."""
    for key in reversed(keys[1:]):
        value = [value] if key == "0" else {key: value}
    return {keys[0]: value}


CASES = list(_cases(_served_document()))


@pytest.fixture(scope="module")
def seeded_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Seeded]]:
    """One application and one seeded tenant for every case of the module, emptied afterwards."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("hostile")),
            "SECRET_KEY": "hostile-inputs-secret-key-of-32-bytes",
            # Limits on, so the rate-limit keys read each hostile body too, but too high to answer 429 instead of the check.
            "RATELIMIT_ENABLED": True,
            **dict.fromkeys(DEFAULT_LIMITS, "100000/minute"),
        }
    )
    with app.app_context():
        seeded = seed(app, db.session)
        db.session.commit()
        db.session.remove()
    yield app, seeded
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(Model.metadata.sorted_tables):
                if table.name not in KEPT_TABLES:
                    connection.execute(table.delete())
        db.engine.dispose()


def _request(case: Hostile, seeded: Seeded) -> dict[str, Any]:
    values = {**seeded.path_parameters, **({"slug": "operated"} if case.path.startswith("/api/v1/operator/") else {}), **case.path_values}
    path = case.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    headers = dict(seeded.tokens.get(case.scheme, {}))
    request: dict[str, Any] = {"method": case.method.upper(), "path": path, "query_string": case.query, "headers": headers}
    body = case.body
    if case.fields and isinstance(body, dict):
        # Plausible values for the fields the case leaves alone, so the hostile one is not refused for their absence alone.
        plausible = {name: seeded.values[name][0] for name in case.fields if name in seeded.values}
        body = {**plausible, **body}
    if body is None:
        return request
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if case.content_type:
        headers["Content-Type"] = case.content_type
    if case.chunked:
        headers["Transfer-Encoding"] = "chunked"
        request |= {"input_stream": io.BytesIO(raw), "environ_overrides": {"wsgi.input_terminated": True}}
    else:
        request["data"] = raw
    return request


def test_every_operation_of_the_document_gets_hostile_cases():
    operations = {(case.method, case.path) for case in CASES}
    assert len(operations) >= 45
    assert {case.what for case in CASES} >= {"arrays 10,000 deep", "objects 10,000 deep", "10 MB body", "10 MB chunked", "text/plain"}
    assert any(case.what.startswith("NUL in path tenant_slug") for case in CASES)
    assert any(case.what == "2^63 in path entry_id" for case in CASES)
    assert any(case.what == "10^30 at /party_size" for case in CASES)
    assert any(case.what == "NUL at /answers" or case.what == "NUL in a member at /answers" for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_input_is_refused_with_a_problem_document(seeded_app, case):
    app, seeded = seeded_app

    response = app.test_client().open(**_request(case, seeded))

    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert 400 <= response.status_code, f"accepted: {response.status_code} {response.get_data(as_text=True)[:300]}"
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)[:300]
    code = response.get_json(force=True)["code"]
    assert isinstance(code, str) and code
