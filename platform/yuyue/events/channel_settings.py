"""A tenant's notification channels: which are on, and each one's settings over the installation's.

Every channel declares the JSON Schema of what a tenant may set
(``settings_schema``; ``writeOnly`` marks secrets) and may derive defaults
from the installation's settings (``installation_settings(config)``: the SMTP
server of ``YUYUE_SMTP_URL``). A tenant's :class:`ChannelSettings` row turns a
channel on or off and overlays its own values. Secrets are stored because the
channel needs them and never shown again: :func:`channel_view` answers
``<name>_set`` in their place, and saving settings without a secret keeps the
stored one, like the login-provider settings do.

An area above this one may add a source of settings between the installation's
and the tenant's (:func:`add_settings_source`): the app factory lets the
``wechat`` channel use the tenant's mini-program from its WeChat login settings.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from yuyue.audit import operations as audit
from yuyue.db import current_tenant_id, insert_unless_exists, write_transaction
from yuyue.declarations import public_settings, settings_problems, write_only_keys
from yuyue.errors import FieldProblem, InvalidInput, NotFound
from yuyue.events.channels import ChannelRegistry, NotificationChannel, NotificationFailed, NotificationMessage, address_kind, channels, message_from_payload
from yuyue.events.models import ChannelSettings
from yuyue.types import utcnow

__all__ = [
    "ChannelView",
    "TestOutcome",
    "add_settings_source",
    "channel_view",
    "delete_channel_settings",
    "enabled_channels",
    "installation_channels",
    "public_settings",
    "send_payload",
    "send_test_message",
    "set_channel_settings",
    "settings_for",
    "settings_schema",
    "write_only_keys",
]

SETTINGS_SOURCES = "yuyue.channel_settings_sources"
# The template key of a test message: an SMS or WeChat channel needs a template of that name, the sandbox does not.
TEST_TEMPLATE = "channel.test"
NO_SETTINGS: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}

# Settings that name a server the host connects to on the tenant's behalf (an SMTP host, a gateway's URL).
SERVER_SETTINGS = ("host", "endpoint")

# Reads settings of the tenant in scope that another area keeps (the WeChat mini-program of its login settings).
SettingsSource = Callable[[Session], Mapping[str, Any]]


@dataclass(frozen=True)
class ChannelView:
    """What may be shown of one channel for the tenant in scope.

    ``source`` says whose settings it sends with: the tenant's own row, or the
    installation's alone. ``settings`` are the tenant's own without secrets;
    ``secrets_set`` names the secrets it holds.
    """

    key: str
    address_kind: str
    enabled: bool
    source: Literal["tenant", "installation"]
    settings: dict[str, Any]
    secrets_set: dict[str, bool]
    settings_schema: dict[str, Any]


def settings_schema(channel: NotificationChannel) -> dict[str, Any]:
    """The JSON Schema of what a tenant may set for ``channel`` (nothing, if it declares none)."""
    return dict(getattr(channel, "settings_schema", None) or NO_SETTINGS)


def add_settings_source(app: Flask, key: str, source: SettingsSource) -> None:
    """Let ``source`` supply settings of channel ``key`` above the installation's and below the tenant's own."""
    app.extensions.setdefault(SETTINGS_SOURCES, {})[key] = source


def installation_channels(app: Flask) -> list[str]:
    """The channels a tenant without settings of its own sends on: ``YUYUE_NOTIFICATION_CHANNELS``, else the login-code channel."""
    configured = app.config.get("NOTIFICATION_CHANNELS") or [app.config.get("NOTIFICATION_CHANNEL") or "log"]
    registry = channels(app)
    return [key for key in configured if key in registry]


def _rows(session: Session) -> dict[str, ChannelSettings]:
    return {row.channel: row for row in session.scalars(select(ChannelSettings).order_by(ChannelSettings.id))}


def enabled_channels(session: Session, app: Flask) -> list[str]:
    """Keys of the channels the tenant in scope sends customer notifications on, in the order tried.

    A tenant that has settings of its own for any channel sends on those it
    enabled (in the order it first set them); one that has none, on the
    installation's. A channel no longer installed is left out.
    """
    # The switches alone, not the sealed settings: which channels are on is known even when one's settings cannot be opened
    # (its key removed), so the others still send and only that channel's deliveries fail (docs/secrets.md).
    switches = session.execute(select(ChannelSettings.channel, ChannelSettings.enabled).order_by(ChannelSettings.id)).all()
    if not switches:
        return installation_channels(app)
    registry = channels(app)
    return [key for key, enabled in switches if enabled and key in registry]


def _channel(app: Flask, key: str) -> NotificationChannel:
    registry: ChannelRegistry = channels(app)
    if key not in registry:
        raise NotFound(_l("no notification channel %(key)r; available: %(available)s", key=key, available=", ".join(registry.keys)), code="channel_not_found")
    return registry.get(key)


def _installation(app: Flask, channel: NotificationChannel) -> dict[str, Any]:
    derive = getattr(channel, "installation_settings", None)
    return dict(derive(app.config) if callable(derive) else {})


def settings_for(session: Session, app: Flask, key: str) -> dict[str, Any]:
    """The settings channel ``key`` sends with for the tenant in scope: the installation's, overlaid by the tenant's.

    Secrets included: this is for the channel, never for an answer.
    """
    channel = _channel(app, key)
    source = app.extensions.get(SETTINGS_SOURCES, {}).get(key)
    row = _rows(session).get(key)
    return {**_installation(app, channel), **(dict(source(session)) if source else {}), **(row.config if row else {})}


def channel_view(session: Session, app: Flask, key: str) -> ChannelView:
    """What the tenant in scope may see of channel ``key``: on or off, its own settings without secrets, which secrets are set."""
    channel = _channel(app, key)
    schema = settings_schema(channel)
    row = _rows(session).get(key)
    stored = row.config if row else {}
    return ChannelView(
        key=key,
        address_kind=address_kind(channel),
        enabled=key in enabled_channels(session, app),
        source="tenant" if row else "installation",
        settings=public_settings(schema, stored),
        secrets_set={name: bool(stored.get(name)) for name in sorted(write_only_keys(schema))},
        settings_schema=schema,
    )


def _inside_the_network(host: str) -> bool:
    """Whether ``host`` is, or resolves to, an address that is not on the public internet (loopback, private, link-local)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        # A name that does not resolve reaches nothing now; sending to it later fails and is retried.
        return False
    return any(not ipaddress.ip_address(address.partition("%")[0]).is_global for address in addresses)


def _server_problems(app: Flask, config: Mapping[str, Any]) -> list[FieldProblem]:
    """A tenant may not point the host at a server inside the installation's network (unless ``YUYUE_CHANNEL_PRIVATE_HOSTS``)."""
    if app.config.get("CHANNEL_PRIVATE_HOSTS"):
        return []
    problems = []
    for name in SERVER_SETTINGS:
        value = config.get(name)
        host = (urllib.parse.urlsplit(value).hostname if "://" in value else value) if isinstance(value, str) else None
        if host and _inside_the_network(host):
            message = _l("%(host)s is inside this installation's network; name a server on the internet", host=host)
            problems.append(FieldProblem(f"/settings/{name}", message, "private_address"))
    return problems


def set_channel_settings(
    session: Session,
    app: Flask,
    key: str,
    *,
    enabled: bool = True,
    config: Mapping[str, Any] | None = None,
    actor: str,
    now: datetime | None = None,
) -> ChannelView:
    """Make ``config`` the tenant's settings of channel ``key`` and turn it on or off; secrets left out keep their stored value.

    :raises NotFound: no such channel (``channel_not_found``).
    :raises InvalidInput: the settings do not satisfy the channel's schema; errors point at each setting.
    """
    channel = _channel(app, key)
    schema = settings_schema(channel)
    config = dict(config or {})
    row = _rows(session).get(key)
    stored = row.config if row else {}
    hidden = write_only_keys(schema)
    merged = {**{name: stored[name] for name in hidden if name in stored and name not in config}, **config}
    problems = settings_problems(schema, merged, "/settings") or _server_problems(app, merged)
    if problems:
        raise InvalidInput(_l("the %(key)s channel settings are not valid", key=key), errors=problems)
    if row is not None and row.enabled == enabled and row.config == merged:
        return channel_view(session, app, key)
    now = now or utcnow()
    changed_secrets = sorted(name for name in hidden if name in config and config[name] != stored.get(name))
    with write_transaction(session):
        values = {"tenant_id": current_tenant_id(), "channel": key, "enabled": enabled, "config": merged, "updated_at": now}
        if insert_unless_exists(session, ChannelSettings, values, ["tenant_id", "channel"]) is None:
            session.execute(
                update(ChannelSettings)
                .where(ChannelSettings.channel == key)
                .values(enabled=enabled, config=merged, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        audit.record(
            session,
            actor=actor,
            action="notification_channel.changed",
            subject_type="notification_channel",
            subject_id=key,
            data={"enabled": enabled, "settings": public_settings(schema, merged), "secrets_changed": changed_secrets},
        )
    session.expire_all()
    return channel_view(session, app, key)


def delete_channel_settings(session: Session, app: Flask, key: str, *, actor: str) -> bool:
    """Forget the tenant's settings of channel ``key``, so it falls back to the installation's; False if it had none."""
    _channel(app, key)
    with write_transaction(session):
        deleted = session.execute(delete(ChannelSettings).where(ChannelSettings.channel == key).execution_options(synchronize_session=False)).rowcount
        if deleted:
            audit.record(session, actor=actor, action="notification_channel.deleted", subject_type="notification_channel", subject_id=key, data={})
    session.expire_all()
    return bool(deleted)


@dataclass(frozen=True)
class TestOutcome:
    """What a test message did: sent with ``message_id``, or refused with the channel's ``error``."""

    channel: str
    to: str
    message_id: str
    error: NotificationFailed | None = None


def send_test_message(session: Session, app: Flask, key: str, to: str, *, tenant_slug: str, tenant_name: str, locale: str, actor: str) -> TestOutcome:
    """Send a test message on channel ``key`` to ``to`` now, with the tenant's settings, outside any transaction; audited either way.

    ``to`` must already be an address of the channel's kind (the caller checks it).
    """
    channel = _channel(app, key)
    settings = settings_for(session, app, key)
    message_id = secrets.token_hex(16)
    subject = str(_l("Test message from %(tenant)s", tenant=tenant_name))
    text = str(_l("This is a test of the %(channel)s channel of %(tenant)s. If you can read it, the channel works.", channel=key, tenant=tenant_name))
    message = NotificationMessage(
        tenant=tenant_slug,
        to=to,
        template=TEST_TEMPLATE,
        params={"tenant": tenant_name, "channel": key},
        locale=locale,
        subject=subject,
        text=text,
        settings=settings,
        message_id=message_id,
    )
    session.rollback()
    error = None
    try:
        channel.send(message)
    except NotificationFailed as failed:
        error = failed
    with write_transaction(session):
        data = {"to": to, "message_id": message_id, "sent": error is None, "error": error.reason if error else None}
        audit.record(session, actor=actor, action="notification_channel.tested", subject_type="notification_channel", subject_id=key, data=data)
    return TestOutcome(key, to, message_id, error)


def send_payload(session: Session, app: Flask, payload: Mapping[str, Any], *, message_id: str, tenant_slug: str) -> NotificationMessage:
    """Send a notification delivery's ``payload`` on its channel with the tenant's settings of it, as resolved now; the message sent.

    For the notices' ``send``: the settings are read here (the tenant in scope), the read
    transaction is ended before the network is touched, and secrets never enter the payload.

    :raises NotificationFailed: the channel could not send; ``retryable=False`` also for a channel no longer installed.
    """
    key = str(payload.get("channel") or "")
    if key not in channels(app):
        raise NotificationFailed(f"the notification channel {key!r} is not installed", retryable=False)
    settings = settings_for(session, app, key)
    session.rollback()
    message = message_from_payload(payload, settings=settings, message_id=message_id, tenant=tenant_slug)
    channels(app).get(key).send(message)
    return message
