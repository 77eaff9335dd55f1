"""Hostile input at the API's edge is refused with a problem document naming the limit, before any lookup; never a 500.

One behaviour per test, through HTTP: nesting depth and size of JSON bodies,
their media type, path segments that no converter matches, query parameters,
integers no column holds, and slot rules of the wrong shape.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from tenant_setup import make_booking_type, make_tenant, windows

from yuyue.api import body as body_module
from yuyue.db import db
from yuyue.json_input import MAX_DEPTH
from yuyue.provisioning.operations import get_tenant
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

A = "/api/v1/t/tenant-a"
MIB = 1024 * 1024
TEN_MB = 10 * MIB
# Every endpoint that reads a JSON body without asking who the caller is.
UNAUTHENTICATED_BODIES = ["/auth/code", "/auth/login", "/auth/refresh", "/auth/logout", "/auth/wechat", "/bookings"]
ZONE = ZoneInfo("Asia/Shanghai")
FORM = {"type": "object", "properties": {"name": {"type": "string", "x-field": "text", "minLength": 1}}, "required": ["name"]}
UI = {"order": ["name"], "fields": {}}


def nested(depth: int, kind: str = "array") -> bytes:
    opening, closing = ("[", "]") if kind == "array" else ('{"a":', "}")
    return (opening * depth + "1" + closing * depth).encode()


def slot(hour: int = 9) -> str:
    return datetime.combine(utcnow().astimezone(ZONE).date() + timedelta(days=10), time(hour), ZONE).isoformat()


@pytest.fixture
def statements(app) -> Iterator[list[str]]:
    """Every SQL statement sent to the database while the test runs."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield sent
    event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture
def manager(tenants, staff_client):
    return staff_client("tenant-a", StaffRole.manager)


# --------------------------------------------------------------------------
# JSON bodies: depth and size
# --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("depth", [500, 10_000])
@pytest.mark.parametrize("path", UNAUTHENTICATED_BODIES)
def test_deeply_nested_json_is_a_400_json_too_deep_naming_the_limit(client, tenants, problem, path, depth, kind):
    response = client.post(A + path, data=nested(depth, kind), content_type="application/json")

    body = problem(response, 400, "json_too_deep")
    assert f"at most {MAX_DEPTH} levels" in body["detail"]


def test_json_at_the_depth_limit_is_parsed_and_checked_by_the_schema(client, tenants, problem):
    at_limit = {"phone": json.loads(nested(MAX_DEPTH - 1))}  # the object is one level, the phone the rest

    problem(client.post(A + "/auth/code", json=at_limit), 422, "validation_failed")
    problem(client.post(A + "/auth/code", json={"phone": json.loads(nested(MAX_DEPTH))}), 400, "json_too_deep")


def test_a_deep_body_on_a_staff_endpoint_is_refused_the_same_way(manager, problem):
    problem(manager.post(A + "/admin/booking-types", data=nested(10_000, "object"), content_type="application/json"), 400, "json_too_deep")


def test_a_10_mb_body_is_a_413_naming_the_limit(client, tenants, problem):
    body = problem(client.post(A + "/auth/code", data=b" " * TEN_MB, content_type="application/json"), 413, "payload_too_large")

    assert "1 MiB (1048576 bytes)" in body["detail"]


def test_a_10_mb_chunked_body_without_content_length_is_a_413(client, tenants, problem):
    response = client.post(
        A + "/auth/code",
        input_stream=io.BytesIO(b"[" * TEN_MB),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},  # what gunicorn says for a chunked body
    )

    problem(response, 413, "payload_too_large")


def test_a_content_length_claiming_10_mb_is_a_413_before_the_body_is_read(client, tenants, problem):
    response = client.post(
        A + "/auth/code", data=b'{"phone": "13800000000"}', content_type="application/json", environ_overrides={"CONTENT_LENGTH": str(TEN_MB)}
    )

    problem(response, 413, "payload_too_large")


def test_a_content_length_shorter_than_the_body_reads_no_further_than_it_says(client, tenants, problem):
    response = client.post(A + "/auth/code", data=b" " * TEN_MB, content_type="application/json", environ_overrides={"CONTENT_LENGTH": "12"})

    problem(response, 400, "malformed_json")  # twelve spaces: nothing beyond the declared length was read


def test_a_body_over_the_limit_is_a_413_on_an_endpoint_that_takes_no_body(client, tenants, problem):
    problem(client.get(A + "/booking-types", data=b" " * TEN_MB), 413, "payload_too_large")


def test_the_body_is_parsed_once_for_the_rate_limit_key_and_the_view(make_app, monkeypatch):
    app = make_app(RATELIMIT_ENABLED=True)
    with app.app_context():
        make_tenant(db.session, "tenant-a")
        parsed = []
        loads = body_module.json_input.loads
        monkeypatch.setattr(body_module.json_input, "loads", lambda raw: parsed.append(raw) or loads(raw))

        response = app.test_client().post(A + "/auth/code", json={"phone": "13800000000"})

    assert response.status_code == 202
    assert len(parsed) == 1


# --------------------------------------------------------------------------
# Media type
# --------------------------------------------------------------------------


@pytest.mark.parametrize("path", UNAUTHENTICATED_BODIES)
def test_a_json_body_sent_as_text_plain_is_a_415(client, tenants, problem, path):
    # A cross-site HTML form can post text/plain without a CORS preflight; JSON endpoints must not read it.
    response = client.post(A + path, data=json.dumps({"phone": "13800000000"}), content_type="text/plain")

    problem(response, 415, "unsupported_media_type")


def test_an_action_posted_without_a_body_needs_no_media_type(manager, session, tenants, problem):
    booking = manager.post(A + "/admin/bookings/0123456789abcdef0123456789abcdef/cancel", data=b"", content_type="text/plain")

    problem(booking, 404, "booking_not_found")  # past the body: an empty body stays optional


# --------------------------------------------------------------------------
# Path segments: matched by bounded converters, so a bad one is a 404 before any lookup
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/t/%00/booking-types",
        "/api/v1/t/sh%00op/booking-types",
        "/api/v1/t/tenant-a%00/auth/me",
        "/api/v1/t/TENANT-A/booking-types",
        "/api/v1/t/" + "a" * 41 + "/booking-types",
    ],
)
def test_nul_in_tenant_slug_is_404_before_lookup(client, tenants, problem, statements, path):
    problem(client.get(path), 404, "not_found")

    assert statements == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/booking-types/en%00try"),
        ("GET", "/booking-types/" + "e" * 41),
        ("GET", "/bookings/ab%00cd"),
        ("GET", "/bookings/" + "a" * 65),
        ("POST", "/bookings/a%20b/cancel"),
        ("POST", "/payments/sand%00box/notify"),
        ("POST", "/payments/sandbox/checkout/ref%00"),
        ("DELETE", f"/waitlist/{2**31}"),
        ("DELETE", "/me/companions/-1"),
        # Paths with a rule for another method too (werkzeug answered these 405 when the converter refused after matching).
        ("PUT", f"/me/companions/{2**31}"),
        ("DELETE", "/me/companions/3685224111"),
        ("PATCH", f"/admin/customers/{2**31}"),
        ("GET", "/admin/customers/3685224111"),
        ("PATCH", "/admin/webhooks/99999999999"),
        ("GET", "/admin/bookings/%00"),
        ("PATCH", "/admin/resources/co%00ach"),
        ("PUT", "/admin/login-providers/we%00chat"),
    ],
)
def test_a_path_segment_no_converter_matches_is_404_before_any_query(client, tenants, problem, statements, method, path):
    problem(client.open(A + path, method=method), 404, "not_found")

    assert statements == []


def test_a_slug_the_converter_matches_is_still_looked_up(client, tenants, problem):
    problem(client.get(A + "/booking-types/no-such-type"), 404, "booking_type_not_found")


# --------------------------------------------------------------------------
# Query parameters: checked once for every endpoint, 422 at /<name>
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "pointer", "code"),
    [
        ("/booking-types", "lang=e%00n", "/lang", "nul_character"),
        ("/booking-types/entry/availability", "from=2026-01-01%00&to=2026-01-02", "/from", "nul_character"),
        ("/booking-types", "lang=" + "x" * 201, "/lang", "maxLength"),
        ("/booking-types", "x%00=1", "/x\x00", "nul_character"),
    ],
)
def test_a_hostile_query_parameter_is_a_422_at_the_parameter(client, tenants, problem, path, query, pointer, code):
    body = problem(client.get(f"{A}{path}?{query}"), 422, "validation_failed")

    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [(pointer, code)]


@pytest.mark.parametrize("limit", [str(2**31), str(2**63), "1" + "0" * 30, "-1", "0", "1e3", "²", "1.5"])
@pytest.mark.parametrize("who", ["customer", "staff"])
def test_a_page_size_outside_its_range_is_a_422_at_limit(signed_in_customer, staff_client, problem, who, limit):
    caller, path = (signed_in_customer(1), "/me/bookings") if who == "customer" else (staff_client("tenant-a"), "/admin/bookings")

    body = problem(caller.get(f"{A}{path}", query_string={"limit": limit}), 422, "validation_failed")

    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/limit", "out_of_range")]


def test_too_many_query_parameters_are_a_422(client, tenants, problem):
    query = "&".join(f"p{n}=1" for n in range(21))

    problem(client.get(f"{A}/booking-types?{query}"), 422, "validation_failed")


# --------------------------------------------------------------------------
# Integers a column holds
# --------------------------------------------------------------------------


def _rules(capacity: int) -> list[dict]:
    return [{"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "10:00", "capacity": capacity}]}}]


@pytest.mark.parametrize("capacity", [100_001, 2**31, 2**63, 10**30])
def test_a_slot_capacity_above_100000_is_refused_at_its_pointer(manager, problem, capacity):
    response = manager.post(A + "/admin/booking-types", json={"vertical": "exhibition", "slug": "big", "name": "Big", "availability_rules": _rules(capacity)})

    body = problem(response, 422, "validation_failed")
    assert "/availability_rules/0/params/windows/0/capacity" in {e["pointer"] for e in body["errors"]}


def test_a_slot_of_the_largest_capacity_takes_its_first_booking(client, manager, problem):
    created = manager.post(
        A + "/admin/booking-types", json={"vertical": "exhibition", "slug": "big", "name": "Big", "availability_rules": _rules(100_000), "form": FORM, "ui": UI}
    )
    assert created.status_code == 201, created.get_json()

    booked = client.post(A + "/bookings", json={"booking_type": "big", "starts_at": slot(9), "phone": "13800000001", "answers": {"name": "Ann"}})

    assert booked.status_code == 201, booked.get_json()


@pytest.mark.parametrize("value", [2**31, -(2**31), 2**63, 10**30])
def test_a_number_answer_beyond_an_integer_column_is_refused_at_its_field(client, session, tenants, problem, value):
    form = {"type": "object", "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer"}}, "required": ["name"]}
    make_booking_type(
        session, get_tenant(session, "tenant-a"), "aged", form=form, ui={"order": ["name", "age"], "fields": {}}, rules=windows(("09:00", "10:00"))
    )

    response = client.post(
        A + "/bookings", json={"booking_type": "aged", "starts_at": slot(9), "phone": "13800000001", "answers": {"name": "Ann", "age": value}}
    )

    body = problem(response, 422)
    assert "/answers/age" in {e["pointer"] for e in body["errors"]}


@pytest.mark.parametrize("opens_days_ahead", [3661, 2**31, 10**30])
def test_a_booking_window_further_ahead_than_ten_years_is_refused(manager, tenants, problem, opens_days_ahead):
    rules = [*_rules(10), {"type": "booking_window", "params": {"opens_days_ahead": opens_days_ahead, "release_time": "00:00", "closes_minutes_before": 0}}]

    body = problem(manager.post(A + "/admin/booking-types", json={"vertical": "exhibition", "slug": "far", "name": "Far", "availability_rules": rules}), 422)

    assert "/availability_rules/1/params/opens_days_ahead" in {e["pointer"] for e in body["errors"]}


# --------------------------------------------------------------------------
# Slot rules of the wrong shape
# --------------------------------------------------------------------------


@pytest.mark.parametrize("rule_type", [["fixed_windows"], {"fixed_windows": 1}, 7, None, "x" * 65])
def test_a_slot_rule_whose_type_is_not_a_name_is_a_422_at_its_type(manager, tenants, session, problem, rule_type):
    make_booking_type(session, get_tenant(session, "tenant-a"), "entry")

    response = manager.patch(A + "/admin/booking-types/entry", json={"availability_rules": [{"type": rule_type, "params": {}}]})

    body = problem(response, 422, "validation_failed")
    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/availability_rules/0/type", "type" if not isinstance(rule_type, str) else "maxLength")]


def test_a_row_id_segment_is_exactly_a_whole_number_from_1_to_the_largest_id():
    from yuyue.api.converters import MAX_ROW_ID, RowIdConverter

    matches = re.compile(f"^{RowIdConverter.regex}$").match
    inside = [1, 9, 10, 99, 100, 10**9 - 1, 10**9, 1_999_999_999, 2_000_000_000, MAX_ROW_ID - 10, MAX_ROW_ID - 1, MAX_ROW_ID]
    inside += [MAX_ROW_ID - 10**k for k in range(1, 10)]
    outside = [0, MAX_ROW_ID + 1, MAX_ROW_ID + 10, 2_147_483_650, 2_147_490_000, 2_200_000_000, 3_685_224_111, 9_999_999_999, 10**10, 2**63]
    assert [n for n in inside if not matches(str(n))] == []
    assert [n for n in outside if matches(str(n))] == []
    assert [s for s in ["01", "007", "-1", "+1", "1.0", "1e3", "", " 1", "١"] if matches(s)] == []
