"""The ``email`` channel: a rendered message as a MIME email (text and HTML alternatives, attachments) over SMTP.

The installation names its SMTP server in ``YUYUE_SMTP_URL``
(``smtp://user:pass@host:587?starttls=1``, ``smtps://user:pass@host:465``) and
its sender in ``YUYUE_MAIL_FROM``; a tenant's own settings overlay them (its
own server, or just its own sender name). Certificates are verified the usual
way (the system's trust store, ``SSL_CERT_FILE``); there is no switch that
turns verification off.

What the server answers decides what happens next: a 5xx refusal of the
recipient (or of the message) will not change on a retry, anything else (4xx,
a connection that failed, a login refused) may.
"""

from __future__ import annotations

import functools
import os
import smtplib
import ssl
import urllib.parse
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Any

from yuyue.events.channels import AddressKind, NotificationFailed, NotificationMessage
from yuyue.events.delivery import receipt_acknowledged

__all__ = ["EmailChannel", "email_message", "smtp_settings_from_url"]

SECURITY = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
TIMEOUT_SECONDS = 20.0

EMAIL_SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Email (SMTP)",
    "additionalProperties": False,
    "properties": {
        "host": {"type": "string", "minLength": 1, "maxLength": 253, "title": "SMTP server", "description": "host name or address of the SMTP server"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "default: 25, 587 with starttls, 465 with tls"},
        "security": {"enum": list(SECURITY), "description": "none, starttls (upgrade after connecting) or tls (TLS from the start)"},
        "username": {"type": "string", "maxLength": 254, "description": "login name; without it the server is used without logging in"},
        "password": {"type": "string", "maxLength": 256, "writeOnly": True, "description": "login password; stored to send, never shown again"},
        "from_address": {"type": "string", "maxLength": 254, "pattern": "^[^@\\s]+@[^@\\s]+$", "description": "the sender's address"},
        "from_name": {"type": "string", "maxLength": 100, "pattern": "^[^\\r\\n]*$", "description": "the sender's name shown to customers"},
        "reply_to": {"type": "string", "maxLength": 254, "pattern": "^[^@\\s]+@[^@\\s]+$", "description": "where customers' replies go"},
    },
}


def smtp_settings_from_url(url: str | None, mail_from: str | None = None) -> dict[str, Any]:
    """The channel's settings an installation's ``YUYUE_SMTP_URL`` and ``YUYUE_MAIL_FROM`` give (empty without them).

    :raises ValueError: the URL is not ``smtp://`` or ``smtps://`` with a host.
    """
    settings: dict[str, Any] = {}
    if url:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError(f"YUYUE_SMTP_URL must look like smtp://user:pass@host:587?starttls=1 or smtps://host, not {parts.scheme}://…")
        query = urllib.parse.parse_qs(parts.query)
        starttls = (query.get("starttls") or ["0"])[0].lower() in {"1", "true", "yes", "on"}
        security = "tls" if parts.scheme == "smtps" else "starttls" if starttls else "none"
        settings = {"host": parts.hostname, "port": parts.port or DEFAULT_PORTS[security], "security": security}
        if parts.username:
            settings["username"] = urllib.parse.unquote(parts.username)
            settings["password"] = urllib.parse.unquote(parts.password or "")
    if mail_from:
        name, address = parseaddr(mail_from)
        if "@" not in address:
            raise ValueError(f"YUYUE_MAIL_FROM must be an address or 'Name <address>', not {mail_from!r}")
        settings["from_address"] = address
        if name:
            settings["from_name"] = name
    return settings


def _message_id(message: NotificationMessage, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "yuyue.invalid"
    if not message.message_id:
        return make_msgid(domain=domain)
    return f"<{message.message_id}@{domain}>"


def email_message(message: NotificationMessage, settings: Mapping[str, Any]) -> EmailMessage:
    """The MIME email of ``message``: text, the HTML alternative if any, attachments, and the headers that identify it."""
    sender = str(settings.get("from_address") or "")
    if not sender:
        raise NotificationFailed("no sender address: set from_address in the email channel's settings or YUYUE_MAIL_FROM", retryable=False)
    try:
        return _email_message(message, settings, sender)
    except ValueError as error:
        # A header the email package refuses (a line break in an address or subject): no retry can fix it.
        raise NotificationFailed(f"the message cannot be written as an email: {error}"[:400], retryable=False) from None


def _email_message(message: NotificationMessage, settings: Mapping[str, Any], sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = formataddr((str(settings.get("from_name") or ""), sender))
    email["To"] = message.to
    email["Subject"] = message.subject or message.template
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = _message_id(message, sender)
    # RFC 3834: out-of-office replies and other robots do not answer a message a machine sent.
    email["Auto-Submitted"] = "auto-generated"
    if settings.get("reply_to"):
        email["Reply-To"] = str(settings["reply_to"])
    unsubscribe = message.data.get("unsubscribe_url")
    if unsubscribe:
        # RFC 8058: a mail client may unsubscribe with one POST, without opening a page.
        email["List-Unsubscribe"] = f"<{unsubscribe}>"
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.text or message.subject or message.template)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.media_type.partition("/")
        email.add_attachment(attachment.content, maintype=maintype or "application", subtype=subtype or "octet-stream", filename=attachment.filename)
    # Last: making the message multipart moves every Content-* header set before into its first part.
    email["Content-Language"] = message.locale
    return email


def _refused(code: int, reply: bytes | str, what: str) -> NotificationFailed:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return NotificationFailed(f"the SMTP server refused the {what}: {code} {text}"[:400], retryable=not 500 <= code < 600)


class EmailChannel:
    """Sends each message as one email through the tenant's SMTP server (or the installation's)."""

    key = "email"
    address_kind: AddressKind = "email"
    settings_schema = EMAIL_SETTINGS_SCHEMA

    def installation_settings(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return smtp_settings_from_url(config.get("SMTP_URL"), config.get("MAIL_FROM"))

    def send(self, message: NotificationMessage) -> None:
        settings = message.settings
        host = settings.get("host")
        if not host:
            raise NotificationFailed("no SMTP server: set YUYUE_SMTP_URL or the email channel's host", retryable=False)
        email = email_message(message, settings)
        security = settings.get("security") or "none"
        port = int(settings.get("port") or DEFAULT_PORTS.get(security, 25))
        try:
            if security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=tls_context())
            else:
                smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=tls_context())
                if settings.get("username"):
                    smtp.login(str(settings["username"]), str(settings.get("password") or ""))
                refused = smtp.send_message(email, from_addr=str(settings["from_address"]), to_addrs=[message.to])
                if not refused:
                    receipt_acknowledged()  # before QUIT: the server has the message
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise _refused(code, reply, "recipient") from None
        except smtplib.SMTPAuthenticationError as error:
            raise NotificationFailed(f"the SMTP server refused the login: {error.smtp_code}", retryable=True) from None
        except smtplib.SMTPSenderRefused as error:
            raise NotificationFailed(f"the SMTP server refused the sender: {error.smtp_code} {error.smtp_error!r}"[:400], retryable=True) from None
        except smtplib.SMTPResponseException as error:
            raise _refused(error.smtp_code, error.smtp_error, "message") from None
        except (smtplib.SMTPException, OSError) as error:
            raise NotificationFailed(f"the SMTP server could not be reached: {type(error).__name__}: {error}"[:400], retryable=True) from None
        if refused:
            code, reply = next(iter(refused.values()))
            raise _refused(code, reply, "recipient")


def tls_context() -> ssl.SSLContext:
    """The system's trusted certificates, loaded only when TLS is used and once per trust store (loading them took a
    third of an email's time); ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` are read each time, so changing them takes effect."""
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _tls_context(_cert_file: str | None, _cert_dir: str | None) -> ssl.SSLContext:
    return ssl.create_default_context()
