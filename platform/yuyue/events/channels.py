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


class ChannelRegistry:
    """The notification channels of one application, by key."""

    def __init__(self, channels: Mapping[str, NotificationChannel]):
        self._channels = MappingProxyType(dict(channels))

    def __contains__(self, key: str) -> bool:
        return key in self._channels

    @property
    def keys(self) -> list[str]:
        return sorted(self._channels)

    def get(self, key: str) -> NotificationChannel:
        try:
            return self._channels[key]
        except KeyError:
            raise LookupError(f"no notification channel {key!r}; registered: {', '.join(self.keys) or 'none'}") from None


def build_channels(host: PluginHost, *, required: tuple[str, ...] = ()) -> ChannelRegistry:
    """Collect every plugin's channels; a duplicate key, a malformed channel or a missing ``required`` one stops start-up."""
    from yuyue.plugins import PluginLoadError  # yuyue.plugins imports declarations of every area; keep this module light

    found: dict[str, NotificationChannel] = {}
    owners: dict[str, str] = {}
    for impl in host.hook.register_notification_channels.get_hookimpls():
        for channel in impl.function() or []:
            key = getattr(channel, "key", None)
            if not isinstance(key, str) or not key or not callable(getattr(channel, "send", None)):
                raise PluginLoadError(f"plugin {impl.plugin_name!r} registers a notification channel without a key or send(): {channel!r}")
            if key in found:
                raise PluginLoadError(f"plugin {impl.plugin_name!r} registers notification channel {key!r}, already registered by plugin {owners[key]!r}")
            found[key], owners[key] = channel, impl.plugin_name
    registry = ChannelRegistry(found)
    for key in required:
        if key not in registry:
            raise PluginLoadError(f"the configured notification channel {key!r} is not registered; registered: {', '.join(registry.keys) or 'none'}")
    return registry


def channels(app: Flask | None = None) -> ChannelRegistry:
    """The channel registry of ``app`` (default: the current application)."""
    return (app or current_app).extensions["yuyue.channels"]


def sent_messages(app: Flask) -> deque[NotificationMessage]:
    """Messages the ``log`` channel sent in ``app``, oldest first (the last :data:`SENT_MESSAGES_KEPT`)."""
    return app.extensions.setdefault(SENT_MESSAGES, deque(maxlen=SENT_MESSAGES_KEPT))
