"""Notification channels: how a message (a login code, a booking confirmation, a reminder) reaches a person.

Channels come from plugins through ``register_notification_channels()``; the
host's own ``log``, ``email``, ``sms`` and ``wechat`` channels are among them
(:mod:`yuyue.events.builtin`). :func:`build_channels` collects them once per
application into a :class:`ChannelRegistry` kept at
``app.extensions["yuyue.channels"]``.

A :class:`NotificationMessage` arrives rendered: the notices (or the login-code
sender) have already put it into words, so every attempt of a delivery sends
the same text. The ``log`` channel is the development one: it writes each
message to ``<instance>/messages.log`` and to the console, and keeps the last
few in ``app.extensions["yuyue.sent_messages"]`` for tests.
"""

from __future__ import annotations

import base64
import binascii
import logging
import sys
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from flask import Flask, current_app

from yuyue.registry import PluginLoadError, Registry, collect

if TYPE_CHECKING:
    from yuyue.plugins import PluginHost

__all__ = [
    "AddressKind",
    "Attachment",
    "ChannelRegistry",
    "LogChannel",
    "NotificationChannel",
    "NotificationFailed",
    "NotificationMessage",
    "address_kind",
    "build_channels",
    "channels",
    "message_from_payload",
    "messages_log_path",
    "sent_messages",
]

SENT_MESSAGES = "yuyue.sent_messages"
SENT_MESSAGES_KEPT = 200
MESSAGES_LOG = "messages.log"

# What a channel's ``to`` is: a mainland mobile, an email address, or a customer's openid in the tenant's mini-program.
AddressKind = Literal["phone", "email", "wechat_openid"]

log = logging.getLogger("yuyue.notifications")


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (the ``.ics`` of a confirmation)."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class NotificationMessage:
    """One message to one person, rendered: ``subject``, ``text`` and ``html`` in ``locale``, ready for any channel.

    ``template`` is the event key (``booking.confirmed``, ``login_code``) and
    ``params`` its variables: gateways that send by template (SMS, WeChat) map
    them. ``data`` holds what one channel needs beyond the words (an SMS
    template id, a WeChat page, an ``unsubscribe_url``), ``settings`` the
    channel settings resolved for the tenant
    (:func:`yuyue.events.channel_settings.settings_for`), and ``message_id`` is
    stable across the attempts of one delivery.
    """

    tenant: str
    to: str
    template: str
    params: Mapping[str, Any] = field(default_factory=dict)
    locale: str = "zh-Hans"
    subject: str = ""
    text: str = ""
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    message_id: str | None = None

    def __post_init__(self) -> None:
        # Frozen all the way down: a channel cannot change what the next channel sends.
        for name in ("params", "data", "settings"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "attachments", tuple(self.attachments))


class NotificationFailed(Exception):
    """A channel could not hand the message over; ``retryable=False`` when trying again cannot help (the address is refused).

    ``reason`` is for the merchant and the delivery log: it never holds a secret.
    """

    def __init__(self, reason: str = "", *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


@runtime_checkable
class NotificationChannel(Protocol):
    """What a plugin's channel provides: a unique ``key`` and ``send``, which raises :class:`NotificationFailed`.

    Optional: ``address_kind`` (what ``to`` is; ``"phone"`` when missing),
    ``settings_schema`` (the JSON Schema of what a tenant may set; ``writeOnly``
    marks secrets) and ``installation_settings(config)`` (the defaults the
    installation's settings give).
    """

    key: str

    def send(self, message: NotificationMessage) -> None: ...


def address_kind(channel: Any) -> AddressKind:
    """What the ``to`` of ``channel``'s messages is; a channel that does not say takes phone numbers (login codes)."""
    return getattr(channel, "address_kind", None) or "phone"


def message_from_payload(
    payload: Mapping[str, Any], *, settings: Mapping[str, Any] | None = None, message_id: str | None = None, tenant: str = ""
) -> NotificationMessage:
    """The message a notification delivery's ``payload`` (see :mod:`yuyue.notifying.notices`) describes.

    Attachments travel base64-encoded in the payload (it is JSON); a payload
    whose attachment is not valid base64 is a bug upstream and raises ``ValueError``.
    """
    attachments = []
    for item in payload.get("attachments") or ():
        try:
            content = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, KeyError, TypeError) as error:
            raise ValueError(f"attachment {item.get('filename')!r} of the payload is not base64: {error}") from None
        attachments.append(Attachment(str(item["filename"]), str(item.get("media_type") or "application/octet-stream"), content))
    return NotificationMessage(
        tenant=str(payload.get("tenant") or tenant),
        to=str(payload["to"]),
        template=str(payload.get("event") or payload.get("template") or ""),
        params=payload.get("params") or {},
        locale=str(payload.get("locale") or "zh-Hans"),
        subject=str(payload.get("subject") or ""),
        text=str(payload.get("text") or ""),
        html=payload.get("html") or None,
        attachments=tuple(attachments),
        data=payload.get("data") or {},
        settings=settings or {},
        message_id=message_id,
    )


def messages_log_path(app: Flask) -> Path:
    """The file the ``log`` channel appends every message to: ``<instance>/messages.log``."""
    return Path(app.config["INSTANCE_PATH"]) / MESSAGES_LOG


def _message_block(message: NotificationMessage, *, channel: str, at: datetime) -> str:
    """One readable block per message: who, when, through what, and the words (or the template and its parameters)."""
    lines = [f"--- {at:%Y-%m-%d %H:%M:%S} UTC  tenant {message.tenant}  channel {channel}  to {message.to}  [{message.template}]"]
    if message.subject:
        lines.append(f"Subject: {message.subject}")
    lines.append(message.text or ", ".join(f"{key}={value}" for key, value in message.params.items()))
    for attachment in message.attachments:
        lines.append(f"(attached: {attachment.filename}, {attachment.media_type}, {len(attachment.content)} bytes)")
    return "\n".join(lines) + "\n\n"


class LogChannel:
    """The development channel: every message in full to ``<instance>/messages.log`` and the console, and kept where tests read it.

    The console block is written to stderr itself, and only when the logs are text (``yuyue demo``'s, or
    ``YUYUE_LOG_FORMAT=text``): a person reads that console. JSON logs go to log collectors, and a login
    code must not: there the log record says who was sent what, redacted (docs/logging.md).
    """

    key = "log"
    address_kind: AddressKind = "phone"
    settings_schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}

    def send(self, message: NotificationMessage) -> None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        block = _message_block(message, channel=self.key, at=datetime.now(UTC))
        log.info("to %s (tenant %s, %s): %s %s", message.to, message.tenant, message.locale, message.template, dict(message.params))
        try:
            path = messages_log_path(app)
            path.parent.mkdir(parents=True, exist_ok=True)
            # One write per block: appends from several workers do not interleave within a message.
            with path.open("a", encoding="utf-8") as out:
                out.write(block)
        except OSError as error:
            # The log record (and, with text logs, the console) still has it: a read-only instance folder must not stop development logins.
            log.warning("the messages file %s cannot be written: %s", messages_log_path(app), type(error).__name__)
        if app.config.get("LOG_FORMAT") == "text":
            print(block, end="", file=sys.stderr, flush=True)
        sent_messages(app).append(message)


class ChannelRegistry(Registry[NotificationChannel]):
    """The notification channels of one application, by key."""

    kind = "notification channel"


def build_channels(host: PluginHost, *, required: tuple[str, ...] = ()) -> ChannelRegistry:
    """Collect every plugin's channels; a duplicate key, a malformed channel or a missing ``required`` one stops start-up."""
    registry = collect(ChannelRegistry(), host.hook.register_notification_channels, _checked_channel)
    for key in required:
        if key not in registry:
            raise PluginLoadError(f"the configured notification channel {key!r} is not registered; registered: {', '.join(registry.keys) or 'none'}")
    return registry


def _checked_channel(plugin: str, channel: Any) -> str:
    key = getattr(channel, "key", None)
    if not isinstance(key, str) or not key or not callable(getattr(channel, "send", None)):
        raise PluginLoadError(f"plugin {plugin!r} registers a notification channel without a key or send(): {channel!r}")
    if address_kind(channel) not in {"phone", "email", "wechat_openid"}:
        raise PluginLoadError(f"plugin {plugin!r}: notification channel {key!r} has an unknown address_kind {address_kind(channel)!r}")
    return key


def channels(app: Flask | None = None) -> ChannelRegistry:
    """The channel registry of ``app`` (default: the current application)."""
    return (app or current_app).extensions["yuyue.channels"]


def sent_messages(app: Flask) -> deque[NotificationMessage]:
    """Messages the ``log`` channel sent in ``app``, oldest first (the last :data:`SENT_MESSAGES_KEPT`)."""
    return app.extensions.setdefault(SENT_MESSAGES, deque(maxlen=SENT_MESSAGES_KEPT))
