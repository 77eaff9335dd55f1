"""The email channel against a real SMTP server on loopback (aiosmtpd): what arrives, and what the server's refusals mean."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channel_receivers import SmtpReceiver, free_port, self_signed_certificate
from icalendar import Calendar
from sqlalchemy import select

from yuyue.config import settings_from_env
from yuyue.db import db, tenant_scope, write_transaction
from yuyue.events import delivery as engine
from yuyue.events import operations as events
from yuyue.events.channel_settings import send_payload, set_channel_settings
from yuyue.events.channels import Attachment, NotificationFailed, NotificationMessage, channels, message_from_payload
from yuyue.events.delivery import PlannedDelivery
from yuyue.events.email import smtp_settings_from_url
from yuyue.events.models import Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus
from yuyue.types import utcnow

ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//yuyue//test//EN\r\nBEGIN:VEVENT\r\nUID:b-1@yuyue\r\n"
    b"DTSTART;TZID=Europe/Berlin:20270328T013000\r\nSUMMARY:Pottery class\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def settings(port: int, **more) -> dict:
    return {"host": "127.0.0.1", "port": port, "security": "none", "from_address": "bookings@museum.example", "from_name": "博物馆预约", **more}


def confirmation(to: str, port: int, **more) -> NotificationMessage:
    return NotificationMessage(
        tenant="museum",
        to=to,
        template="booking.confirmed",
        params={"booking": {"id": "b-1"}},
        locale="zh-Hans",
        subject="预约已确认：陶艺课",
        text="您好，您的陶艺课预约已确认。",
        html="<p>您好，您的<b>陶艺课</b>预约已确认。</p>",
        attachments=(Attachment("booking.ics", "text/calendar", ICS),),
        settings=settings(port),
        message_id="d41d8cd98f00b204e9800998ecf8427e",
        **more,
    )


def test_an_email_arrives_with_subject_both_bodies_the_attachment_and_its_headers(app):
    with SmtpReceiver() as smtp:
        channels(app).get("email").send(confirmation("ann@example.com", smtp.port, data={"unsubscribe_url": "https://museum.example/u/tok"}))

    [mail] = smtp.received
    email = mail.message
    assert mail.mail_from == "bookings@museum.example" and mail.rcpt_tos == ["ann@example.com"]
    assert email["Subject"] == "预约已确认：陶艺课"
    assert email["From"].addresses[0].display_name == "博物馆预约"
    assert email["Message-ID"] == "<d41d8cd98f00b204e9800998ecf8427e@museum.example>"
    assert email["Date"] and email["List-Unsubscribe"] == "<https://museum.example/u/tok>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["Content-Language"] == "zh-Hans" and email["Auto-Submitted"] == "auto-generated"
    assert email.get_body(("plain",)).get_content().strip() == "您好，您的陶艺课预约已确认。"
    assert "<b>陶艺课</b>" in email.get_body(("html",)).get_content()
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "booking.ics" and attachment.get_content_type() == "text/calendar"
    assert attachment.get_payload(decode=True) == ICS
    event = Calendar.from_ical(attachment.get_payload(decode=True)).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Pottery class" and event["DTSTART"].params["TZID"] == "Europe/Berlin"


def test_a_message_without_unsubscribe_link_has_no_list_unsubscribe_header(app):
    with SmtpReceiver() as smtp:
        channels(app).get("email").send(confirmation("ann@example.com", smtp.port))

    assert smtp.received[0].message["List-Unsubscribe"] is None


def test_every_attempt_of_one_delivery_carries_the_same_message_id(app):
    with SmtpReceiver() as smtp:
        for _ in range(2):
            channels(app).get("email").send(confirmation("ann@example.com", smtp.port))

    assert len({mail.message["Message-ID"] for mail in smtp.received}) == 1


def test_a_message_built_from_a_delivery_payload_arrives_with_its_attachment(app):
    payload = {
        "channel": "email",
        "to": "bo@example.com",
        "locale": "en",
        "event": "booking.confirmed",
        "subject": "Booking confirmed",
        "text": "See you soon.",
        "html": None,
        "attachments": [{"filename": "booking.ics", "media_type": "text/calendar", "content_base64": "QkVHSU46VkNBTEVOREFSDQo="}],
        "data": {},
        "params": {"booking": {"id": "b-2"}},
    }
    with SmtpReceiver() as smtp:
        message = message_from_payload(payload, settings=settings(smtp.port), message_id="m-2", tenant="museum")
        channels(app).get("email").send(message)

    email = smtp.received[0].message
    assert email["Subject"] == "Booking confirmed" and email.get_body(("plain",)).get_content().strip() == "See you soon."
    assert [a.get_payload(decode=True) for a in email.iter_attachments()] == [b"BEGIN:VCALENDAR\r\n"]


def test_starttls_and_login_are_used_when_the_settings_ask_for_them(app, tmp_path, monkeypatch):
    certificate = self_signed_certificate(tmp_path)
    # The client verifies the server's certificate the ordinary way: this test's CA is the trust store.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with SmtpReceiver(tls=certificate, login=("museum", "s3cret-pass")) as smtp:
        message = confirmation("ann@example.com", smtp.port)
        secure = {**message.settings, "security": "starttls", "username": "museum", "password": "s3cret-pass"}
        channels(app).get("email").send(NotificationMessage(**{**message.__dict__, "settings": secure}))

    [mail] = smtp.received
    assert mail.authenticated_as == "museum" and mail.message["Subject"] == "预约已确认：陶艺课"


def test_a_wrong_password_is_a_failure_worth_retrying_once_fixed(app, tmp_path, monkeypatch):
    certificate = self_signed_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with SmtpReceiver(tls=certificate, login=("museum", "s3cret-pass")) as smtp:
        message = confirmation("ann@example.com", smtp.port)
        wrong = {**message.settings, "security": "starttls", "username": "museum", "password": "wrong"}
        with pytest.raises(NotificationFailed, match="refused the login") as failed:
            channels(app).get("email").send(NotificationMessage(**{**message.__dict__, "settings": wrong}))

    assert failed.value.retryable and "wrong" not in failed.value.reason and smtp.received == []


def test_a_certificate_the_client_does_not_trust_is_refused(app, tmp_path):
    with SmtpReceiver(tls=self_signed_certificate(tmp_path)) as smtp:
        message = confirmation("ann@example.com", smtp.port)
        with pytest.raises(NotificationFailed, match="could not be reached"):
            channels(app).get("email").send(NotificationMessage(**{**message.__dict__, "settings": {**message.settings, "security": "starttls"}}))

    assert smtp.received == []


def test_a_recipient_refused_with_5xx_is_not_retried(app):
    with SmtpReceiver() as smtp, pytest.raises(NotificationFailed, match="550") as failed:
        channels(app).get("email").send(confirmation("refused@example.com", smtp.port))

    assert failed.value.retryable is False


def test_a_recipient_refused_with_4xx_is_retried(app):
    with SmtpReceiver() as smtp, pytest.raises(NotificationFailed, match="451") as failed:
        channels(app).get("email").send(confirmation("busy@example.com", smtp.port))

    assert failed.value.retryable is True


def test_a_server_that_is_not_there_is_retried(app):
    with pytest.raises(NotificationFailed, match="could not be reached") as failed:
        channels(app).get("email").send(confirmation("ann@example.com", free_port()))

    assert failed.value.retryable is True


def test_a_line_break_in_the_address_is_refused_for_good(app):
    with SmtpReceiver() as smtp, pytest.raises(NotificationFailed) as failed:
        channels(app).get("email").send(confirmation("ann@example.com\r\nBcc: eve@example.com", smtp.port))

    assert failed.value.retryable is False and smtp.received == []


@pytest.mark.parametrize(
    "url, mail_from, expected",
    [
        (
            "smtp://user%40x:p%3Ass@mail.example:2525?starttls=1",
            "Museum <noreply@museum.example>",
            {
                "host": "mail.example",
                "port": 2525,
                "security": "starttls",
                "username": "user@x",
                "password": "p:ss",
                "from_address": "noreply@museum.example",
                "from_name": "Museum",
            },
        ),
        ("smtps://mail.example", None, {"host": "mail.example", "port": 465, "security": "tls"}),
        ("smtp://mail.example", "noreply@museum.example", {"host": "mail.example", "port": 25, "security": "none", "from_address": "noreply@museum.example"}),
        (None, None, {}),
    ],
)
def test_the_installation_smtp_url_gives_the_channel_settings(url, mail_from, expected):
    assert smtp_settings_from_url(url, mail_from) == expected


def test_an_smtp_url_of_another_scheme_is_refused():
    with pytest.raises(ValueError, match="YUYUE_SMTP_URL"):
        smtp_settings_from_url("http://mail.example")


def test_an_installation_smtp_url_of_another_scheme_stops_start_up(tmp_path):
    with pytest.raises(ValueError, match="YUYUE_SMTP_URL must be a smtp:// or smtps:// URL"):
        settings_from_env({"YUYUE_SMTP_URL": "mail.example:25", "YUYUE_SECRET_KEY": "k", "YUYUE_INSTANCE_PATH": str(tmp_path)})


def test_a_delivery_payload_goes_out_with_the_tenants_settings_as_they_are_when_sent(app, tenants):
    payload = {"channel": "email", "to": "ann@example.com", "locale": "en", "event": "booking.cancelled", "subject": "Cancelled", "text": "Sorry."}
    app.config["CHANNEL_PRIVATE_HOSTS"] = True
    with SmtpReceiver() as smtp, tenant_scope(tenants["tenant-a"].id):
        set_channel_settings(db.session, app, "email", config=settings(smtp.port), actor="test")
        sent = send_payload(db.session, app, payload, message_id="m-9", tenant_slug="tenant-a")

    assert sent.tenant == "tenant-a" and sent.settings["port"] == smtp.port
    [mail] = smtp.received
    assert mail.message["Subject"] == "Cancelled" and mail.message["Message-ID"] == "<m-9@museum.example>"


def test_a_payload_for_a_channel_no_longer_installed_is_not_retried(app, tenants):
    with tenant_scope(tenants["tenant-a"].id), pytest.raises(NotificationFailed, match="'fax' is not installed") as failed:
        send_payload(db.session, app, {"channel": "fax", "to": "1"}, message_id="m", tenant_slug="tenant-a")

    assert failed.value.retryable is False


def test_a_message_the_server_took_is_delivered_once_even_when_it_then_refuses_the_quit(app, session, make_tenant):
    # The channel acknowledges on the reply to DATA, before QUIT: the 554 after it neither fails nor repeats the delivery.
    with SmtpReceiver(quit_reply="554 5.0.0 not today") as smtp:

        class Mailer:
            kind, retry_delays = DeliveryKind.notification, (timedelta(seconds=10),)

            def plan(self, session, event):
                return [PlannedDelivery(subscriber="notification:email:1", kind=self.kind, target="email", payload={})]

            def send(self, delivery):
                channels(app).get("email").send(confirmation("ann@example.com", smtp.port))

            def on_delivered(self, session, delivery): ...

            def on_dead(self, session, delivery): ...

        tenant = make_tenant("museum")
        with tenant_scope(tenant.id), write_transaction(session):
            events.emit(session, "booking.confirmed", {})
        engine.fan_out(session, [Mailer()])
        assert engine.send_due(session, [Mailer()]).delivered == 1
        assert engine.send_due(session, [Mailer()], now=utcnow() + timedelta(days=1)).claimed == 0

    assert len(smtp.received) == 1
    with tenant_scope(tenant.id):
        (delivery,) = session.scalars(select(Delivery)).all()
        (attempt,) = session.scalars(select(DeliveryAttempt)).all()
    assert delivery.status is DeliveryStatus.delivered
    assert attempt.succeeded and "accepted, then: " in attempt.response_excerpt and "554" in attempt.response_excerpt
