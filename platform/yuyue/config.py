"""Settings, read from the environment once when the application is built."""

from __future__ import annotations

import os
import secrets
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class SettingError(ValueError):
    """A ``YUYUE_*`` setting that cannot be used; its message names the variable and what it must be."""


def instance_path(env: Mapping[str, str] = os.environ) -> Path:
    """Where the embedded database and generated secrets live (``./instance`` by default)."""
    return Path(env.get("YUYUE_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


def _secret_key(env: Mapping[str, str], instance: Path) -> str:
    """The configured key, or one generated once and kept in the instance folder.

    Kept on disk so every gunicorn worker and every restart signs with the same key.
    """
    if env.get("YUYUE_SECRET_KEY"):
        return env["YUYUE_SECRET_KEY"]
    key_file = instance / "secret_key"
    if not key_file.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def settings_from_env(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Flask config keys built from ``YUYUE_*`` environment variables."""
    instance = instance_path(env)
    database_url = _database_url(env.get("YUYUE_DATABASE_URL") or f"sqlite:///{instance / 'yuyue.db'}")
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    allow_list = env.get("YUYUE_PLUGINS")
    secure_cookies = _flag(env, "YUYUE_SECURE_COOKIES", default=(env.get("YUYUE_PUBLIC_URL") or "").startswith("https://"))
    return {
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": _secret_key(env, instance),
        # Fernet keys that seal merchants' secrets in the database, first one sealing; without them, <instance>/secrets_key (docs/secrets.md).
        "SECRETS_KEY": env.get("YUYUE_SECRETS_KEY") or None,
        "REDIS_URL": _redis_url(env),
        # None: load every installed plugin; a list (maybe empty): only those names.
        "PLUGINS": None if allow_list is None else [n.strip() for n in allow_list.split(",") if n.strip()],
        "SQLITE_BUSY_TIMEOUT_SECONDS": _number(env, "YUYUE_SQLITE_BUSY_TIMEOUT", "30", low=0.0, high=3600.0),
        # While events keep being committed (a booking rush) the worker delivers at most this share of the time,
        # for at most the seconds after it in a row (docs/outbox.md).
        "OUTBOX_RUSH_SHARE": _number(env, "YUYUE_OUTBOX_RUSH_SHARE", "0.1", low=0.01, high=1.0),
        "OUTBOX_RUSH_LIMIT_SECONDS": _number(env, "YUYUE_OUTBOX_RUSH_LIMIT", "600", low=0.0, high=86400.0),
        "NOTIFICATION_CHANNEL": env.get("YUYUE_SMS_CHANNEL") or "log",
        # The channels customer notifications go out on for tenants without channel settings of their own; None: the one above.
        "NOTIFICATION_CHANNELS": [n.strip() for n in env["YUYUE_NOTIFICATION_CHANNELS"].split(",") if n.strip()]
        if env.get("YUYUE_NOTIFICATION_CHANNELS")
        else None,
        # The email channel's server (smtp://user:pass@host:587?starttls=1, smtps://…) and sender ("Name <address>").
        "SMTP_URL": _url(env, "YUYUE_SMTP_URL", ("smtp", "smtps")),
        "MAIL_FROM": env.get("YUYUE_MAIL_FROM"),
        # A shared signed SMS gateway (https://KEY_ID:SECRET@host/path?sign_name=…&template.login_code=…); without it, the sandbox.
        "SMS_URL": _url(env, "YUYUE_SMS_URL", ("http", "https")),
        # Whether a tenant may point a channel at a server inside the installation's network (tests, a private relay).
        "CHANNEL_PRIVATE_HOSTS": _flag(env, "YUYUE_CHANNEL_PRIVATE_HOSTS", default=False),
        # Base of payment callback URLs; without it the request's host is used.
        "PUBLIC_URL": env.get("YUYUE_PUBLIC_URL"),
        # sandbox payments cost nothing: set a real provider in production.
        "PAYMENT_PROVIDER": env.get("YUYUE_PAYMENT_PROVIDER") or "sandbox",
        "PAYMENT_SANDBOX_SECRET": env.get("YUYUE_PAYMENT_SANDBOX_SECRET"),
        "WECHAT_APPID": env.get("YUYUE_WECHAT_APPID"),
        "WECHAT_SECRET": env.get("YUYUE_WECHAT_SECRET"),
        "WECHAT_API_BASE": env.get("YUYUE_WECHAT_API_BASE") or "https://api.weixin.qq.com",
        # Webhook endpoints may be plain http, or on loopback/private/link-local addresses, only when these are on (tests, the demo).
        "WEBHOOKS_ALLOW_HTTP": _flag(env, "YUYUE_WEBHOOKS_ALLOW_HTTP", default=False),
        "WEBHOOKS_ALLOW_PRIVATE": _flag(env, "YUYUE_WEBHOOKS_ALLOW_PRIVATE", default=False),
        # Ed25519 private key (a file outside the database) that signs audit checkpoints, and where they are appended.
        "AUDIT_SIGNING_KEY": env.get("YUYUE_AUDIT_SIGNING_KEY"),
        "AUDIT_CHECKPOINTS": env.get("YUYUE_AUDIT_CHECKPOINTS"),
        "AUDIT_CHECKPOINT_MINUTES": int(_number(env, "YUYUE_AUDIT_CHECKPOINT_MINUTES", "15", low=1, high=60, whole=True)),
        # Where `yuyue backup` and the worker's daily backup write, when (HH:MM UTC, or off) and how many the worker keeps.
        "BACKUP_DIR": env.get("YUYUE_BACKUP_DIR") or str(instance / "backups"),
        "BACKUP_AT": _time_of_day(env, "YUYUE_BACKUP_AT", "02:30"),
        "BACKUP_KEEP": int(_number(env, "YUYUE_BACKUP_KEEP", "7", low=1, high=10000, whole=True)),
        # The admin's session (and Flask-Login's remember-me) cookies: never read by scripts, not sent on
        # cross-site posts, and over HTTPS only when the site is served over HTTPS.
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # /metrics asks for "Authorization: Bearer <this>" when set; /api/v1/ready fails without a fresh worker heartbeat unless off.
        "METRICS_TOKEN": env.get("YUYUE_METRICS_TOKEN") or None,
        "READY_REQUIRE_WORKER": _flag(env, "YUYUE_READY_REQUIRE_WORKER", default=True),
    }


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    """A URL setting of one of ``schemes`` with a host, checked at start-up rather than at the first message sent."""
    value = env.get(name) or None
    if value is not None:
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            raise SettingError(f"{name} must be a {' or '.join(s + '://' for s in schemes)} URL with a host")
    return value


def _redis_url(env: Mapping[str, str]) -> str | None:
    """``YUYUE_REDIS_URL`` as redis-py takes it: ``redis://`` or ``rediss://`` with a host, or ``unix://`` with a socket path."""
    value = env.get("YUYUE_REDIS_URL") or None
    if value is not None:
        parts = urllib.parse.urlsplit(value)
        if not (parts.scheme in ("redis", "rediss") and parts.hostname or parts.scheme == "unix" and parts.path):
            raise SettingError("YUYUE_REDIS_URL must be a redis:// or rediss:// URL with a host, or unix:///path/to/socket")
    return value


# The databases yuyue is built and tested on: the embedded default and the one for several nodes.
DATABASE_BACKENDS = ("sqlite", "postgresql")


def _database_url(url: str) -> str:
    """``url`` if it names a database yuyue runs on; otherwise a one-line error now, not a driver's import error later."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise SettingError(f"YUYUE_DATABASE_URL is not a database URL: {url!r}") from None
    if backend not in DATABASE_BACKENDS:
        raise SettingError(f"YUYUE_DATABASE_URL names {backend!r}: yuyue runs on SQLite (sqlite:///file) or PostgreSQL (postgresql://…)")
    return url


def _number(env: Mapping[str, str], name: str, default: str, *, low: float, high: float, whole: bool = False) -> float:
    """A number setting between ``low`` and ``high`` (a whole one if ``whole``), checked at start-up."""
    raw = env.get(name) or default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high or (whole and not value.is_integer()):
        raise SettingError(f"{name} must be a {'whole ' if whole else ''}number from {low:g} to {high:g}, not {raw!r}")
    return value


def _time_of_day(env: Mapping[str, str], name: str, default: str) -> tuple[int, int] | None:
    """An ``HH:MM`` (UTC) setting as (hour, minute), or None for ``off``; checked at start-up."""
    raw = (env.get(name) or default).strip()
    if raw.lower() == "off":
        return None
    hour, sep, minute = raw.partition(":")
    if sep and hour.isdecimal() and minute.isdecimal() and len(minute) == 2 and int(hour) < 24 and int(minute) < 60:
        return int(hour), int(minute)
    raise SettingError(f"{name} must be a time of day HH:MM (UTC) or off, not {raw!r}")


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    """An on/off setting: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``; unset or empty is ``default``."""
    value = env.get(name)
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"0", "false", "no", "off"}:
        return False
    raise SettingError(f"{name} must be on or off (1 or 0), not {value!r}")
