"""Notification channels: how a message (a login code, a reminder) reaches a person.

Channels come from plugins through ``register_notification_channels()``; the
host's own ``log`` channel is one of them. :func:`build_channels` collects them
once per application into a :class:`ChannelRegistry` kept at
``app.extensions["yuyue.channels"]``. The ``log`` channel writes each message to
the ``yuyue.notifications`` logger and keeps the last few in
``app.extensions["yuyue.sent_messages"]``, so development and tests can read a
login code without an SMS gateway.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from flask import Flask, current_app

from yuyue.registry import PluginLoadError, Registry, collect

if TYPE_CHECKING:
    from yuyue.plugins import PluginHost

__all__ = [
    "ChannelRegistry",
    "LogChannel",
    "NotificationChannel",
    "NotificationFailed",
    "NotificationMessage",
    "build_channels",
    "channels",
    "sent_messages",
]

SENT_MESSAGES = "yuyue.sent_messages"
SENT_MESSAGES_KEPT = 200

log = logging.getLogger("yuyue.notifications")


@dataclass(frozen=True)
class NotificationMessage:
    """One message to one person: a template key and its parameters, rendered by the channel in ``locale``."""

    tenant: str
    to: str
    template: str
    params: Mapping[str, Any] = field(default_factory=dict)
    locale: str = "zh-Hans"

    def __post_init__(self) -> None:
        # Frozen all the way down: a channel cannot change what the next channel sends.
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


class NotificationFailed(Exception):
    """A channel could not hand the message over (gateway down, number refused); the caller decides what the user sees."""


@runtime_checkable
class NotificationChannel(Protocol):
    """What a plugin's channel provides: a unique ``key`` and ``send``, which raises :class:`NotificationFailed`."""

    key: str

    def send(self, message: NotificationMessage) -> None: ...


class LogChannel:
    """The development channel: logs every message in full and keeps it where tests can read it."""

    key = "log"

    def send(self, message: NotificationMessage) -> None:
        log.info("to %s (tenant %s, %s): %s %s", message.to, message.tenant, message.locale, message.template, dict(message.params))
        sent_messages(current_app).append(message)


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
    return key


def channels(app: Flask | None = None) -> ChannelRegistry:
    """The channel registry of ``app`` (default: the current application)."""
    return (app or current_app).extensions["yuyue.channels"]


def sent_messages(app: Flask) -> deque[NotificationMessage]:
    """Messages the ``log`` channel sent in ``app``, oldest first (the last :data:`SENT_MESSAGES_KEPT`)."""
    return app.extensions.setdefault(SENT_MESSAGES, deque(maxlen=SENT_MESSAGES_KEPT))
