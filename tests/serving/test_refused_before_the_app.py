"""Requests gunicorn refuses before the application answer problem documents, like every other API error."""

from __future__ import annotations

import pytest
from gunicorn.config import Config
from gunicorn.http import errors
from serving_setup import TENANT, Answer

from yuyue.serving import refusal_for

PATH = f"/api/v1/t/{TENANT}/booking-types"


def request_bytes(target: str = PATH, headers: list[tuple[str, bytes]] = ()) -> bytes:
    lines = [f"GET {target} HTTP/1.1".encode(), b"Host: 127.0.0.1", *(name.encode() + b": " + value for name, value in headers)]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def assert_problem(answer: Answer, status: int, code: str) -> dict:
    assert answer.status == status, answer
    assert answer.content_type == "application/problem+json"
    body = answer.json()
    assert body == {
        "type": f"https://yuyue.dev/problems/{code}",
        "title": body["title"],
        "status": status,
        "detail": body["detail"],
        "code": code,
        "errors": [],
        "request_id": answer.headers["X-Request-ID"],
    }
    assert body["title"] and body["detail"]
    return body


@pytest.mark.slow
def test_a_well_formed_request_still_reaches_the_application(node_server):
    assert node_server.send_raw(request_bytes()).status == 200


@pytest.mark.slow
def test_a_request_line_of_10_kb_is_414(node_server):
    answer = node_server.send_raw(request_bytes(f"{PATH}?q={'a' * 10240}"))

    assert "4094 bytes" in assert_problem(answer, 414, "request_line_too_long")["detail"]


@pytest.mark.slow
def test_a_header_of_20_kb_is_431(node_server):
    answer = node_server.send_raw(request_bytes(headers=[("X-Big", b"a" * 20480)]))

    assert_problem(answer, 431, "request_headers_too_large")


@pytest.mark.slow
def test_200_headers_are_431(node_server):
    answer = node_server.send_raw(request_bytes(headers=[(f"X-Header-{n}", b"1") for n in range(200)]))

    assert "at most 100 headers" in assert_problem(answer, 431, "request_headers_too_large")["detail"]


@pytest.mark.slow
def test_a_nul_in_a_header_value_is_400(node_server):
    answer = node_server.send_raw(request_bytes(headers=[("X-Note", b"a\x00b")]))

    assert_problem(answer, 400, "invalid_header")


@pytest.mark.slow
def test_a_header_name_with_a_space_is_400(node_server):
    answer = node_server.send_raw(request_bytes(headers=[("X Note", b"a")]))

    assert_problem(answer, 400, "invalid_header")


@pytest.mark.slow
def test_a_malformed_request_line_is_400(node_server):
    answer = node_server.send_raw(b"GET\r\n\r\n")

    assert_problem(answer, 400, "invalid_request_line")


@pytest.mark.slow
def test_the_refusals_are_logged_with_their_status(node_server):
    node_server.send_raw(request_bytes(f"{PATH}?q={'b' * 10240}"))

    assert "Invalid request from ip=127.0.0.1" in node_server.log.read_text(errors="replace")


# -- what each gunicorn error becomes -----------------------------------------------------------


def test_a_bad_header_from_the_application_is_the_servers_fault():
    assert refusal_for(errors.InvalidResponseHeader("X-Bad"), Config()).status == 500


def test_a_parse_error_gunicorn_adds_later_is_still_the_clients():
    class NewParseError(errors.ParseException):
        pass

    assert (refusal_for(NewParseError(), Config()).status, refusal_for(NewParseError(), Config()).code) == (400, "bad_request")


def test_anything_else_is_a_500():
    assert refusal_for(RuntimeError("boom"), Config()).code == "internal_error"
