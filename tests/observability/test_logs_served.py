"""The real server's log: every line one JSON object, an access line per request naming its request id, and no secret in any line.

``yuyue serve`` runs with its default workers on a database of its own (SQLite, or PostgreSQL under
``YUYUE_TEST_DATABASE_URL``); the access-log format adds the request line and the Authorization header to
the message, as an operator might, so that the redaction is tried on both.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving.serving_setup import ROOT, SECRET_KEY, TENANT, Answer, Server, served_database, yuyue_serve

pytestmark = pytest.mark.slow

PHONE = "13912345678"
ID_NUMBER = "110105194912310021"
TOKEN = "yy_c2VjcmV0LW9wZXJhdG9yLXRva2VuLW9mLXRoZS10ZXN0cw"
# served-by … is what tests/serving reads to tell which worker answered; the rest is ours.
ACCESS_FORMAT = 'served-by %(p)s %(h)s %(s)s "%(r)s" auth=%({authorization}i)s'
ACCESS_FIELDS = {"request_id", "route", "method", "path", "status", "duration_ms", "remote_addr"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("served-logs")
    with served_database(folder) as environment:
        environment = {**environment, "GUNICORN_CMD_ARGS": f"--access-logformat '{ACCESS_FORMAT}'"}
        with yuyue_serve(folder, environment) as started:
            yield started


def send(server: Server, method: str, path: str, body: object = None, headers: dict[str, str] | None = None) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, payload, {**({"Content-Type": "application/json"} if payload else {}), **(headers or {})})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def log_lines(server: Server) -> list[str]:
    """The server log's complete lines: a process may be half way through writing the last one."""
    complete, _, _being_written = server.log.read_text(encoding="utf-8").rpartition("\n")
    return complete.splitlines()


def access_line(server: Server, request_id: str, seconds: float = 10) -> dict:
    """The access line of the request ``request_id``: gunicorn writes it just after the answer, so wait for it."""
    deadline = time.monotonic() + seconds
    while True:
        found = [line for line in map(json.loads, log_lines(server)) if line["logger"] == "gunicorn.access" and line.get("request_id") == request_id]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, f"{len(found)} access lines for {request_id}"
            return found[0]
        time.sleep(0.1)


def login_code(server: Server) -> str:
    """The last code the log channel wrote to the messages file: the channel keeps working under JSON logs."""
    [*_, code] = re.findall(r"\b\d{6}\b", (server.folder / "messages.log").read_text(encoding="utf-8"))
    return code


def test_a_login_with_phone_and_code_is_logged_without_either(server: Server):
    sent = send(server, "POST", f"/api/v1/t/{TENANT}/auth/code?phone={PHONE}", {"phone": PHONE})
    assert sent.status == 202, sent.body
    code = login_code(server)

    login = send(server, "POST", f"/api/v1/t/{TENANT}/auth/login?code={code}", {"phone": PHONE, "code": code})

    assert login.status == 200, login.body
    tokens = [login.json()[name] for name in ("access_token", "refresh_token")]
    for answer in (sent, login):
        line = access_line(server, answer.headers["X-Request-ID"])
        assert ACCESS_FIELDS <= line.keys() and line["tenant"] == TENANT
        assert line["route"].startswith("/api/v1/t/<slug:tenant_slug>/auth/") and line["status"] == answer.status
        assert line["method"] == "POST" and line["remote_addr"] == "127.0.0.1" and line["duration_ms"] > 0
        assert "[redacted]" in line["message"]
    text = server.log.read_text(encoding="utf-8")
    for secret in (PHONE, code, *tokens):
        assert secret not in text


def test_an_authorization_header_and_an_id_number_are_not_logged(server: Server):
    answer = send(server, "GET", f"/api/v1/operator/tenants?id_number={ID_NUMBER}", headers={"Authorization": f"Bearer {TOKEN}"})
    in_path = send(server, "GET", f"/api/v1/t/{TENANT}/bookings/{ID_NUMBER}")

    assert answer.status in (400, 401) and answer.json()["request_id"] == answer.headers["X-Request-ID"]
    line = access_line(server, answer.headers["X-Request-ID"])
    assert "auth=Bearer [redacted]" in line["message"] and "tenant" not in line
    assert access_line(server, in_path.headers["X-Request-ID"])["path"] == f"/api/v1/t/{TENANT}/bookings/[id-number]"
    text = server.log.read_text(encoding="utf-8")
    assert TOKEN not in text and TOKEN.removeprefix("yy_") not in text and ID_NUMBER not in text


def test_a_clients_request_id_is_answered_and_logged(server: Server):
    answer = send(server, "GET", f"/api/v1/t/{TENANT}/booking-types", headers={"X-Request-ID": "edge-7f3a.1"})

    assert answer.status == 200 and answer.headers["X-Request-ID"] == "edge-7f3a.1"
    line = access_line(server, "edge-7f3a.1")
    assert (line["route"], line["tenant"], line["status"]) == ("/api/v1/t/<slug:tenant_slug>/booking-types", TENANT, 200)


@pytest.mark.parametrize("path", ["/no-such-page", f"/t/{TENANT}/", "/admin/", "/login/", "/api/v1/t/nowhere/booking-types"])
def test_pages_and_errors_carry_a_request_id_that_their_access_line_names(server: Server, path: str):
    answer = send(server, "GET", path)

    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"]), (answer.status, answer.headers)
    assert access_line(server, answer.headers["X-Request-ID"])["status"] == answer.status


def test_a_request_gunicorn_refuses_gets_a_request_id_too(server: Server):
    """Refused before its headers were read, the request has no id of the client's: a fresh one, in the header and the body."""
    answer = server.send_raw(b"GET /api/v1/health?code=123987 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: raw-1\r\nX-Note: a\x00b\r\n\r\n")

    assert answer.status == 400 and re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"])
    assert answer.json()["request_id"] == answer.headers["X-Request-ID"]
    assert "123987" not in server.log.read_text(encoding="utf-8")


def test_every_line_of_the_servers_log_is_one_json_object(server: Server):
    send(server, "GET", "/api/v1/health")

    lines = [json.loads(line) for line in log_lines(server)]

    assert {"gunicorn.error", "gunicorn.access"} <= {line["logger"] for line in lines}
    assert all({"time", "level", "logger", "message", "pid"} <= line.keys() for line in lines)


def test_the_worker_logs_json_lines(tmp_path: Path):
    with served_database(tmp_path) as environment:
        inherited = {name: value for name, value in os.environ.items() if not name.startswith(("YUYUE_", "GUNICORN_"))}
        env = {**inherited, "YUYUE_INSTANCE_PATH": str(tmp_path), "YUYUE_SECRET_KEY": SECRET_KEY, **environment}
        log = tmp_path / "worker.log"
        with open(log, "wb") as output:
            worker = subprocess.Popen(
                [sys.executable, "-m", "yuyue", "worker"], env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "huey" not in log.read_text(encoding="utf-8") and worker.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)

    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert any(line["logger"].startswith("huey") for line in lines), lines
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
