"""The rendered message every channel receives, and building it from a notification delivery's payload."""

from __future__ import annotations

import base64

import pytest

from yuyue.events.channels import Attachment, NotificationFailed, NotificationMessage, address_kind, channels, message_from_payload


def test_a_payload_becomes_the_message_with_its_attachments_decoded():
    payload = {
        "channel": "sms",
        "to": "13800138000",
        "locale": "zh-Hant",
        "event": "booking.confirmed",
        "subject": "已確認",
        "text": "您的預約已確認",
        "html": None,
        "attachments": [{"filename": "booking.ics", "media_type": "text/calendar", "content_base64": base64.b64encode(b"BEGIN:VCALENDAR").decode()}],
        "data": {"template_id": "SMS_1"},
        "params": {"code": "1"},
    }

    message = message_from_payload(payload, settings={"provider": "sandbox"}, message_id="m-1", tenant="museum")

    assert (message.tenant, message.to, message.template, message.locale, message.message_id) == (
        "museum",
        "13800138000",
        "booking.confirmed",
        "zh-Hant",
        "m-1",
    )
    assert message.attachments == (Attachment("booking.ics", "text/calendar", b"BEGIN:VCALENDAR"),)
    assert dict(message.data) == {"template_id": "SMS_1"} and dict(message.settings) == {"provider": "sandbox"}


def test_an_attachment_that_is_not_base64_is_a_bug_upstream():
    payload = {"to": "a@example.com", "event": "booking.confirmed", "attachments": [{"filename": "x.ics", "content_base64": "not base64!"}]}

    with pytest.raises(ValueError, match="x.ics"):
        message_from_payload(payload)


def test_data_and_settings_cannot_be_changed_by_a_channel():
    message = NotificationMessage(tenant="museum", to="13800138000", template="login_code", data={"a": 1}, settings={"secret": "s"})

    with pytest.raises(TypeError):
        message.data["a"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        message.settings["secret"] = "t"  # type: ignore[index]


def test_each_builtin_channel_says_what_it_sends_to(app):
    assert {key: address_kind(channels(app).get(key)) for key in channels(app).keys} == {
        "email": "email",
        "log": "phone",
        "sms": "phone",
        "wechat": "wechat_openid",
    }


def test_a_failure_is_retryable_unless_said_otherwise():
    assert NotificationFailed("gateway down").retryable is True
    assert NotificationFailed("refused", retryable=False).retryable is False
