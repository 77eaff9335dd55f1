"""API problems in the reader's language: every error the API answers, walked in zh_Hans and zh_Hant.

Each problem's ``title``, ``detail`` and field messages must be a message of the catalogs as translated
(its msgstr with the placeholders filled in), never the English it is written in; its ``code`` stays the
English one. A message added without a translation fails here. The locale comes from ``?lang=``, then
``Accept-Language``, then the tenant's first locale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from yuyue.admin.catalog_check import installed_packages
from yuyue.db import db
from yuyue.presenting.catalogs import catalog_path
from yuyue.provisioning.operations import create_tenant
from yuyue.tenancy.models import StaffRole

TENANTS = "/api/v1/operator/tenants"
CHINESE = ("zh_Hans", "zh_Hant")
_PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


@cache
def translations(locale: str) -> tuple[re.Pattern[str], ...]:
    """Every msgstr of ``locale`` in the host's and the installed packages' catalogs, as a pattern its rendering matches."""
    paths = [catalog_path(locale)] + [package.catalog(locale) for package in installed_packages()]
    patterns = []
    for path in paths:
        if not path.is_file():
            continue
        with path.open("rb") as source:
            for message in read_po(source, locale=locale):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for text in filter(None, strings):
                    parts = _PLACEHOLDER.split(text.replace("%%", "%"))
                    patterns.append(re.compile("(?s)" + ".+?".join(map(re.escape, parts))))
    return tuple(patterns)


def rendered_from_catalog(text: str, locale: str) -> bool:
    return any(pattern.fullmatch(text) for pattern in translations(locale))


def texts(body: dict) -> list[str]:
    return [body["title"], body["detail"], *(error["message"] for error in body["errors"])]


@dataclass
class Callers:
    anonymous: FlaskClient
    operator: FlaskClient
    staff: FlaskClient


@pytest.fixture
def callers(app, client, operator, tenants, staff_client) -> Callers:
    return Callers(anonymous=client, operator=operator, staff=staff_client("tenant-a", StaffRole.manager))


def _json(client: FlaskClient, path: str, body: object, **kwargs) -> TestResponse:
    return client.post(path, json=body, **kwargs)


# name → (status, code, request): every cheap way to get an error out of the API.
PROVOCATIONS: dict[str, tuple[int, str, Callable[..., TestResponse]]] = {
    "unknown route": (404, "not_found", lambda c, h: c.anonymous.get("/api/v1/nowhere", headers=h)),
    "NUL in the path": (404, "not_found", lambda c, h: c.anonymous.get("/api/v1/t/tenant-a/booking-types/a%00b", headers=h)),
    "wrong method": (405, "method_not_allowed", lambda c, h: c.anonymous.patch(f"{TENANTS}/tenant-a", headers=h)),
    "no token": (401, "unauthorized", lambda c, h: c.anonymous.get(TENANTS, headers=h)),
    "unknown token": (401, "invalid_token", lambda c, h: c.anonymous.get(TENANTS, headers={**h, "Authorization": "Bearer nope"})),
    "staff token on an operator route": (403, "forbidden", lambda c, h: c.staff.get(TENANTS, headers=h)),
    "body too large": (
        413,
        "payload_too_large",
        lambda c, h: c.operator.post(TENANTS, data=b" " * (1024 * 1024 + 1), content_type="application/json", headers=h),
    ),
    "not JSON media type": (415, "unsupported_media_type", lambda c, h: c.operator.post(TENANTS, data="{}", content_type="text/plain", headers=h)),
    "malformed JSON": (400, "malformed_json", lambda c, h: c.operator.post(TENANTS, data="{", content_type="application/json", headers=h)),
    "JSON not UTF-8": (400, "malformed_json", lambda c, h: c.operator.post(TENANTS, data=b'{"a": "\xff"}', content_type="application/json", headers=h)),
    "JSON too deep": (400, "json_too_deep", lambda c, h: c.operator.post(TENANTS, data="[" * 40 + "]" * 40, content_type="application/json", headers=h)),
    "no body": (400, "malformed_json", lambda c, h: c.operator.post(TENANTS, headers=h)),
    "schema: required": (422, "validation_failed", lambda c, h: _json(c.operator, TENANTS, {}, headers=h)),
    "schema: type, length, unknown key, items": (
        422,
        "validation_failed",
        lambda c, h: _json(c.operator, TENANTS, {"slug": 7, "name": "x" * 500, "colour": "red", "locales": []}, headers=h),
    ),
    "schema: pattern": (422, "validation_failed", lambda c, h: _json(c.operator, TENANTS, {"slug": "Not A Slug", "name": "N"}, headers=h)),
    "unknown locale and time zone": (
        422,
        "validation_failed",
        lambda c, h: _json(c.operator, TENANTS, {"slug": "museum", "name": "M", "locales": ["fr"], "time_zone": "Mars/Olympus"}, headers=h),
    ),
    "unknown plugin": (
        422,
        "validation_failed",
        lambda c, h: _json(c.operator, TENANTS, {"slug": "museum", "name": "M", "plugins": {"car-wash": {}}}, headers=h),
    ),
    "taken slug": (409, "slug_taken", lambda c, h: _json(c.operator, TENANTS, {"slug": "tenant-a", "name": "A"}, headers=h)),
    "unknown tenant": (404, "tenant_not_found", lambda c, h: c.anonymous.get("/api/v1/t/nope/booking-types", headers=h)),
    "unknown booking type": (404, "booking_type_not_found", lambda c, h: c.anonymous.get("/api/v1/t/tenant-a/booking-types/nope", headers=h)),
    "unsupported lang": (422, "validation_failed", lambda c, h: c.anonymous.get("/api/v1/t/tenant-a/booking-types?lang=fr", headers=h)),
    "customer not logged in": (401, "unauthorized", lambda c, h: c.anonymous.get("/api/v1/t/tenant-a/me/bookings", headers=h)),
    "wrong login code": (
        401,
        "invalid_code",
        lambda c, h: _json(c.anonymous, "/api/v1/t/tenant-a/auth/login", {"phone": "13800138000", "code": "000000"}, headers=h),
    ),
    "not a mobile number": (422, "validation_failed", lambda c, h: _json(c.anonymous, "/api/v1/t/tenant-a/auth/code", {"phone": "12345"}, headers=h)),
    "bad stats period": (422, "validation_failed", lambda c, h: c.staff.get("/api/v1/t/tenant-a/admin/stats/summary?from=soon&colour=red", headers=h)),
    "bad availability range": (
        422,
        "validation_failed",
        lambda c, h: c.anonymous.get("/api/v1/t/tenant-a/booking-types/nope/availability?from=2026-13-01", headers=h),
    ),
}


@pytest.mark.parametrize("locale", CHINESE)
@pytest.mark.parametrize("name", PROVOCATIONS)
def test_every_problem_reads_in_the_asked_language_from_the_catalogs(callers, problem, name, locale):
    status, code, provoke = PROVOCATIONS[name]
    english = problem(provoke(callers, {"Accept-Language": "en"}), status, code)
    response = provoke(callers, {"Accept-Language": locale.replace("_", "-")})

    body = problem(response, status, code)

    assert response.headers["Content-Language"] == locale.replace("_", "-")
    assert [error["pointer"] for error in body["errors"]] == [error["pointer"] for error in english["errors"]]
    for text, written in zip(texts(body), texts(english), strict=True):
        assert text != written, f"untranslated: {text!r}"
        assert rendered_from_catalog(text, locale), f"not a {locale} message of the catalogs: {text!r}"


def test_english_problems_keep_the_messages_as_written(callers, problem):
    body = problem(_json(callers.operator, TENANTS, {"slug": "museum", "name": "x" * 500}, headers={"Accept-Language": "en"}), 422, "validation_failed")

    assert body["title"] == "Unprocessable Content"
    assert body["detail"] == "the request body is not valid"
    assert [error["message"] for error in body["errors"]] == ["at most 200 characters"]


def test_a_length_limit_is_said_with_its_number(callers, problem):
    body = problem(_json(callers.operator, TENANTS, {"slug": "museum", "name": "x" * 500}, headers={"Accept-Language": "zh-Hans"}), 422)

    (error,) = body["errors"]
    assert error["code"] == "maxLength"
    assert re.fullmatch(r"最多 \d+ 个字符", error["message"]), error["message"]


def test_rate_limited_problem_is_translated(make_app, problem):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        create_tenant(db.session, app.extensions["yuyue.plugins"], slug="limited", name="L")
        client = app.test_client()
        answers = [client.post("/api/v1/t/limited/auth/code", json={"phone": "13800138000"}, headers={"Accept-Language": "zh-Hant"}) for _ in range(12)]
        db.session.remove()

    body = problem(answers[-1], 429, "rate_limited")
    assert all(rendered_from_catalog(text, "zh_Hant") for text in texts(body)), body
    assert body["title"] == "請求過多"


# --- where the locale comes from ---------------------------------------------------


def test_the_query_wins_over_the_header(client, problem):
    body = problem(client.get("/api/v1/nowhere?lang=en", headers={"Accept-Language": "zh-Hant"}), 404)

    assert body["title"] == "Not Found"


def test_the_header_wins_over_the_tenant(client, session, app, problem):
    create_tenant(session, app.extensions["yuyue.plugins"], slug="english", name="E", locales=["en"])

    body = problem(client.get("/api/v1/t/english/booking-types/nope", headers={"Accept-Language": "zh-Hant"}), 404)

    assert body["title"] == "未找到"


@pytest.mark.parametrize(("locales", "title"), [(["en", "zh-Hans"], "Not Found"), (["zh-Hant", "en"], "未找到")])
def test_without_a_header_the_tenants_first_locale_is_read(client, session, app, problem, locales, title):
    create_tenant(session, app.extensions["yuyue.plugins"], slug="museum", name="M", locales=locales)

    response = client.get("/api/v1/t/museum/booking-types/nope", environ_base={"HTTP_ACCEPT_LANGUAGE": ""})

    assert problem(response, 404)["title"] == title
    assert response.headers["Content-Language"] == locales[0]


def test_without_a_header_or_a_tenant_the_api_reads_simplified_chinese(client, problem):
    response = client.get("/api/v1/nowhere", environ_base={"HTTP_ACCEPT_LANGUAGE": ""})

    assert problem(response, 404)["title"] == "未找到"
    assert response.headers["Content-Language"] == "zh-Hans"


def test_the_texts_of_an_answer_are_in_the_locale_its_problems_would_be(client, session, app):
    create_tenant(session, app.extensions["yuyue.plugins"], slug="museum", name="M", locales=["en", "zh-Hans"])

    response = client.get("/api/v1/t/museum/booking-types", environ_base={"HTTP_ACCEPT_LANGUAGE": ""})

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "en"


def test_an_unsupported_lang_is_a_422_at_lang(client, tenants, problem):
    body = problem(client.get("/api/v1/t/tenant-a/booking-types?lang=fr"), 422, "validation_failed")

    assert [(error["pointer"], error["code"]) for error in body["errors"]] == [("/lang", "unsupported_language")]
