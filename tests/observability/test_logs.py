"""Logs: the redaction filter, the request id on every response and in every record of its request, the formats.

The served server's own lines (gunicorn's, the access line of each request) are in ``test_logs_served.py``.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from yuyue.cli import main
from yuyue.events.channels import messages_log_path
from yuyue.observability.logs import LogSettings, RedactingFilter, configure_logging, dress_handler, log_settings, redact
from yuyue.serving import gunicorn_command

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"
TOKEN = "yy_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


# --- the redaction filter ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secrets"),
    [
        pytest.param(f"GET /api/v1/t/a/auth/login?phone={PHONE}&code=246810&lang=en HTTP/1.1", [PHONE, "246810"], id="query-string"),
        pytest.param("POST /cb?token=abc.def-ghi&sign=1 HTTP/1.1", ["abc.def-ghi"], id="query-token"),
        pytest.param(f'{{"phone": "+86{PHONE}", "code": "135790", "password": "hunter2"}}', [PHONE, "135790", "hunter2"], id="json-body"),
        pytest.param("to +86 13812345678: login_code {'code': '975310', 'minutes': 5}", [PHONE, "975310"], id="python-repr"),
        pytest.param('{"code": 864200}', ["864200"], id="json-number"),
        pytest.param(f"Authorization: Bearer {TOKEN}", [TOKEN], id="authorization-header"),
        pytest.param("headers [('Authorization', 'Basic dXNlcjpwYXNzd29yZA=='), ('Host', 'x')]", ["dXNlcjpwYXNzd29yZA=="], id="header-repr"),
        pytest.param("Cookie: session=eyJhbGciOiJIUzI1NiJ9.payload; remember=1", ["eyJhbGciOiJIUzI1NiJ9", "remember=1"], id="cookie"),
        pytest.param(f"token {TOKEN} was used", [TOKEN], id="staff-token"),
        pytest.param("refresh yyr_c2VjcmV0c2VjcmV0c2VjcmV0 ended", ["yyr_c2VjcmV0c2VjcmV0c2VjcmV0"], id="refresh-token"),
        pytest.param("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl", ["eyJzdWIiOiIxMjM0NTY3ODkwIn0"], id="jwt"),
        pytest.param(f"guest {ID_NUMBER} and 110105194912310021", [ID_NUMBER, "110105194912310021"], id="id-numbers"),
        pytest.param(f"[parameters: ('{PHONE}', 3)]", [PHONE], id="sql-parameters"),
    ],
)
def test_redaction_removes_every_secret_of_a_text(text: str, secrets: list[str]):
    redacted = redact(text)

    for secret in secrets:
        assert secret not in redacted, redacted
    assert "[redacted]" in redacted or "[phone]" in redacted or "[id-number]" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "request 4f1381234567890abcdef13812345678 answered",  # a request id's hex: digits touching letters are no phone
        "WeChat answered errcode=40029 (slot_full)",
        "expired 13 holds and 2 waitlist offers",
        "the session cookie expired",
        "duration 13812.345 ms",
    ],
)
def test_redaction_leaves_ordinary_text_alone(text: str):
    assert redact(text) == text


def record(message: str, *args: object, exc_info: object = None, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("yuyue.test", logging.WARNING, __file__, 1, message, args or None, exc_info)
    for name, value in extra.items():
        setattr(made, name, value)
    return made


def formatted(made: logging.LogRecord, form: str = "json") -> str:
    handler = dress_handler(logging.StreamHandler(io.StringIO()), LogSettings(form))
    assert all(f.filter(made) for f in handler.filters)
    return handler.format(made)


def test_the_filter_redacts_the_arguments_of_a_message():
    line = json.loads(formatted(record("login for %s with %s", PHONE, {"code": "918273"})))

    assert line["message"] == "login for [phone] with {'code': '[redacted]'}"


def test_the_filter_redacts_extra_fields_by_name_and_by_value():
    made = record("sent", password="s3cret-pass", phone=PHONE, headers={"Authorization": f"Bearer {TOKEN}", "Accept": "text/html"}, note=f"for {ID_NUMBER}")

    line = json.loads(formatted(made))

    assert line["password"] == "[redacted]" and line["phone"] == "[redacted]"
    assert line["headers"] == {"Authorization": "[redacted]", "Accept": "text/html"}
    assert line["note"] == "for [id-number]"


def test_a_problem_code_as_a_field_is_kept_a_number_that_is_a_phone_is_not():
    line = json.loads(formatted(record("refused", code="slot_full", attempts=3, mobile_number=int(PHONE))))

    assert (line["code"], line["attempts"], line["mobile_number"]) == ("slot_full", 3, "[phone]")


def test_the_filter_redacts_a_traceback():
    try:
        raise ValueError(f"no customer with phone {PHONE} and id {ID_NUMBER}")
    except ValueError as error:
        made = record("lookup failed", exc_info=(type(error), error, error.__traceback__))

    for form in ("json", "text"):
        text = formatted(logging.makeLogRecord(made.__dict__), form)
        assert PHONE not in text and ID_NUMBER not in text, text
        assert "ValueError: no customer with phone [phone]" in text


def test_a_record_written_by_two_handlers_is_redacted_once_and_the_same_in_both():
    made = record("code=%s", "556677")
    first, second = RedactingFilter(), RedactingFilter()

    assert first.filter(made) and second.filter(made)

    assert made.getMessage() == "code=[redacted]"


# --- formats and settings ----------------------------------------------------------------------------


def test_a_json_line_has_time_level_logger_message_and_pid_first():
    line = json.loads(formatted(record("hello %s", "world", tenant="museum")))

    assert list(line)[:5] == ["time", "level", "logger", "message", "pid"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert (line["level"], line["logger"], line["message"], line["tenant"]) == ("WARNING", "yuyue.test", "hello world", "museum")


def test_a_text_line_shows_the_request_id_and_the_fields():
    text = formatted(record("hello", request_id="abc123", tenant="museum"), "text")

    assert re.fullmatch(r"\S+ \S+ WARNING yuyue\.test \[abc123\]: hello tenant=museum", text)


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, LogSettings("json", "INFO")), ({"YUYUE_LOG_FORMAT": "TEXT", "YUYUE_LOG_LEVEL": "debug"}, LogSettings("text", "DEBUG"))],
)
def test_log_settings_default_to_json_at_info(env: dict[str, str], expected: LogSettings):
    assert log_settings(env) == expected


@pytest.mark.parametrize(("name", "value"), [("YUYUE_LOG_FORMAT", "xml"), ("YUYUE_LOG_LEVEL", "LOUD")])
def test_an_unknown_log_setting_is_refused_naming_it(name: str, value: str):
    with pytest.raises(ValueError, match=name):
        log_settings({name: value})


@pytest.mark.parametrize("command", [["serve", "--bind", "127.0.0.1:0"], ["worker"]])
def test_a_server_command_with_an_unknown_log_format_stops_with_one_error_line(command, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("YUYUE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("YUYUE_LOG_FORMAT", "xml")

    assert main(command) == 1

    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and "YUYUE_LOG_FORMAT must be json or text, not 'xml'" in line


def test_the_server_runs_gunicorn_with_yuyues_logger():
    command = gunicorn_command("127.0.0.1:0", 1)

    assert command[command.index("--logger-class") + 1] == "yuyue.serving.StructuredLogger"
    assert command[command.index("--access-logfile") + 1] == "-"


# --- the request id ----------------------------------------------------------------------------------


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """What the root logger writes as JSON while the test runs (as under ``yuyue serve``), one object per line."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    configure_logging(LogSettings("json", "INFO"), stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.captureWarnings(False)


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/health", "/api/v1/t/tenant-a/booking-types", "/api/v1/t/nowhere/booking-types", "/t/tenant-a/", "/t/tenant-a/no-such-page", "/admin/", "/login/"],
)
def test_every_response_carries_a_fresh_request_id(client, tenants, path: str):
    first, second = client.get(path), client.get(path)

    assert REQUEST_ID.fullmatch(first.headers["X-Request-ID"]), first.headers
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert first.headers.getlist("X-Request-ID") == [first.headers["X-Request-ID"]]


def test_a_static_file_carries_a_request_id(app, client):
    static = next(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint.endswith("static") and "<path:filename>" in rule.rule)
    response = client.get(static.replace("<path:filename>", "no-such-file.css"))

    assert REQUEST_ID.fullmatch(response.headers["X-Request-ID"])


@pytest.mark.parametrize("incoming", ["trace-42", "a.b_c-D", "x" * 64])
def test_a_sane_incoming_request_id_is_kept(client, incoming: str):
    assert client.get("/api/v1/health", headers={"X-Request-ID": incoming}).headers["X-Request-ID"] == incoming


@pytest.mark.parametrize("incoming", ["x" * 65, "has space", "semi;colon", "ünïcode", "<script>"])
def test_an_insane_incoming_request_id_is_replaced_not_echoed(client, incoming: str):
    response = client.get("/api/v1/health", headers={"X-Request-ID": incoming})

    assert REQUEST_ID.fullmatch(response.headers["X-Request-ID"])


def test_a_problem_body_names_the_request_id_of_its_header(client, tenants, problem):
    response = client.get("/api/v1/t/nowhere/booking-types", headers={"X-Request-ID": "support-ticket-7"})

    body = problem(response, 404, "tenant_not_found")

    assert body["request_id"] == response.headers["X-Request-ID"] == "support-ticket-7"


def test_a_validation_problem_names_the_request_id(client, tenants, problem):
    response = client.post("/api/v1/t/tenant-a/auth/code", json={"phone": "not a phone"})

    body = problem(response, 422)

    assert REQUEST_ID.fullmatch(body["request_id"]) and body["request_id"] == response.headers["X-Request-ID"]


def test_a_record_logged_while_answering_carries_the_request_id_tenant_and_route(client, tenants, captured_logs):
    response = client.post("/api/v1/t/tenant-a/auth/code", json={"phone": PHONE})
    assert response.status_code == 202

    [sent] = [line for line in json_lines(captured_logs) if line["logger"] == "yuyue.notifications"]
    assert sent["request_id"] == response.headers["X-Request-ID"]
    assert (sent["tenant"], sent["route"]) == ("tenant-a", "/api/v1/t/<slug:tenant_slug>/auth/code")


def test_the_log_channel_keeps_the_code_in_its_messages_file_but_not_in_the_log_record(make_app, tenants, captured_logs, capfd):
    app = make_app(LOG_FORMAT="json")

    assert app.test_client().post("/api/v1/t/tenant-a/auth/code", json={"phone": PHONE}).status_code == 202

    [code] = re.findall(r"\b\d{6}\b", messages_log_path(app).read_text(encoding="utf-8"))
    assert PHONE in messages_log_path(app).read_text(encoding="utf-8")
    assert code not in captured_logs.getvalue() and PHONE not in captured_logs.getvalue()
    assert code not in capfd.readouterr().err  # JSON logs: no message block on the console either


def test_with_text_logs_the_log_channel_shows_the_message_on_the_console(make_app, tenants, capfd):
    app = make_app(LOG_FORMAT="text")
    capfd.readouterr()

    assert app.test_client().post("/api/v1/t/tenant-a/auth/code", json={"phone": PHONE}).status_code == 202

    [code] = re.findall(r"\b\d{6}\b", messages_log_path(app).read_text(encoding="utf-8"))
    assert code in capfd.readouterr().err


def test_a_record_outside_a_request_has_no_request_id(captured_logs):
    logging.getLogger("yuyue.worker").info("expired %d holds", 2)

    [line] = json_lines(captured_logs)
    assert line["message"] == "expired 2 holds" and "request_id" not in line
