"""The development channel: every message in a readable block in ``<instance>/messages.log``, on the console, and in memory."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from flask import Flask

from yuyue.events.channels import Attachment, LogChannel, NotificationMessage, messages_log_path, sent_messages


def test_each_message_is_appended_to_the_messages_file_as_one_block(app):
    LogChannel().send(NotificationMessage(tenant="museum", to="13800138000", template="login_code", params={"code": "123456"}, text="123456 is your code."))
    LogChannel().send(
        NotificationMessage(
            tenant="museum",
            to="13800138001",
            template="booking.confirmed",
            subject="Booking confirmed",
            text="See you on Saturday.",
            attachments=(Attachment("booking.ics", "text/calendar", b"BEGIN:VCALENDAR"),),
        )
    )

    blocks = messages_log_path(app).read_text(encoding="utf-8").strip().split("\n\n")
    assert len(blocks) == 2
    assert "tenant museum  channel log  to 13800138000  [login_code]" in blocks[0] and blocks[0].endswith("123456 is your code.")
    assert "Subject: Booking confirmed\nSee you on Saturday.\n(attached: booking.ics, text/calendar, 15 bytes)" in blocks[1]
    assert [m.to for m in sent_messages(app)] == ["13800138000", "13800138001"]


def test_a_message_without_text_shows_its_parameters(app):
    LogChannel().send(NotificationMessage(tenant="museum", to="13800138000", template="login_code", params={"code": "654321", "minutes": 5}))

    assert "code=654321, minutes=5" in messages_log_path(app).read_text(encoding="utf-8")


@pytest.fixture
def console_app(make_app) -> Iterator[Flask]:
    """Logs as text, as under ``yuyue demo``: a person reads the console, and the channel shows each block there."""
    app = make_app(LOG_FORMAT="text")
    with app.app_context():
        yield app


def test_the_block_is_written_to_stderr_too(console_app, capsys):
    LogChannel().send(NotificationMessage(tenant="museum", to="13800138000", template="login_code", text="777777 is your code."))

    assert "777777 is your code." in capsys.readouterr().err


def test_with_json_logs_the_block_stays_off_the_console_which_is_the_log(make_app, capsys):
    app = make_app(LOG_FORMAT="json")
    with app.app_context():
        LogChannel().send(NotificationMessage(tenant="museum", to="13800138000", template="login_code", text="767676 is your code."))

    assert "767676" not in capsys.readouterr().err and "767676 is your code." in messages_log_path(app).read_text(encoding="utf-8")


def test_a_login_code_asked_on_the_api_can_be_read_from_the_file_in_the_tenants_language(app, tenants, client):
    assert client.post("/api/v1/t/tenant-a/auth/code", json={"phone": "13800138000"}).status_code == 202

    code = sent_messages(app)[-1].params["code"]
    text = messages_log_path(app).read_text(encoding="utf-8")
    assert f"{code} 是您在 Tenant-A 的登录验证码" in text, text


def test_yuyue_demo_says_where_the_messages_file_is(tmp_path):
    env = {"YUYUE_INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "yuyue", "demo", "--no-serve"], env=env, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    assert f"login codes and messages of the log channel and the SMS sandbox: {tmp_path / 'messages.log'}" in result.stdout


def test_a_messages_file_that_cannot_be_written_leaves_the_console_and_the_memory(console_app, capsys):
    app = console_app
    messages_log_path(app).mkdir(parents=True)  # a folder where the file should be

    LogChannel().send(NotificationMessage(tenant="museum", to="13800138000", template="login_code", text="888888 is your code."))

    assert "888888 is your code." in capsys.readouterr().err and sent_messages(app)[-1].text == "888888 is your code."
