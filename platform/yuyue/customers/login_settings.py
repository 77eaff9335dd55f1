"""A tenant's own settings for each login provider (its WeChat mini-program), validated against the provider's schema.

Values the provider's settings schema marks ``writeOnly`` (the AppSecret) are
stored because the provider needs them, and never shown again: anything an API
answers goes through :func:`public_settings`, a validation error about one never
repeats its value, and the audit log records only that it changed. Saving
settings without a write-only value keeps the stored one, so a settings form
that cannot show the secret can still change the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from yuyue.audit import operations as audit
from yuyue.customers.login_providers import LoginProviderRegistry
from yuyue.customers.models import LoginSetting
from yuyue.customers.operations import SYSTEM_ACTOR
from yuyue.db import current_tenant_id, insert_unless_exists, write_transaction
from yuyue.declarations import public_settings, settings_problems, write_only_keys
from yuyue.errors import FieldProblem, InvalidInput, NotFound
from yuyue.types import utcnow

__all__ = [
    "LoginSettingsView",
    "delete_login_settings",
    "effective_login_settings",
    "login_settings_view",
    "public_settings",
    "set_login_settings",
    "write_only_keys",
]


@dataclass(frozen=True)
class LoginSettingsView:
    """What may be shown of a provider's settings for the tenant in context.

    ``source`` says whose settings a login uses: the tenant's own, the
    application's fallback, or none. ``settings`` are the tenant's own without
    write-only values; ``write_only_set`` names the write-only ones it holds.
    """

    provider: str
    source: Literal["tenant", "application", "none"]
    settings: dict[str, Any]
    write_only_set: list[str]
    settings_schema: dict[str, Any]


def _provider(registry: LoginProviderRegistry, key: str) -> dict[str, Any]:
    """The settings schema of provider ``key``; :class:`NotFound` if there is no such provider."""
    if key not in registry:
        raise NotFound(
            _l("no login provider %(key)r; available: %(available)s", key=key, available=", ".join(registry.keys) or "none"), code="login_provider_unknown"
        )
    return registry.settings_schema(key)


def _stored(session: Session, key: str) -> dict[str, Any] | None:
    return session.scalar(select(LoginSetting.config).where(LoginSetting.provider == key))


def effective_login_settings(session: Session, registry: LoginProviderRegistry, key: str) -> dict[str, Any]:
    """What provider ``key`` is called with for the tenant in context: its own settings over the application's."""
    return registry.settings(key, _stored(session, key))


def login_settings_view(session: Session, registry: LoginProviderRegistry, key: str) -> LoginSettingsView:
    """What the tenant in context may see of its settings for provider ``key``."""
    schema = _provider(registry, key)
    stored = _stored(session, key)
    fallback = registry.settings(key)
    if stored is not None:
        source = "tenant"
    elif fallback and all(name in fallback for name in schema.get("required", [])):
        source = "application"
    else:
        source = "none"
    hidden = write_only_keys(schema)
    return LoginSettingsView(
        provider=key,
        source=source,
        settings=public_settings(schema, stored or {}),
        write_only_set=sorted(hidden & set(stored or {})),
        settings_schema=schema,
    )


def set_login_settings(
    session: Session,
    registry: LoginProviderRegistry,
    key: str,
    config: Mapping[str, Any],
    *,
    actor: str = SYSTEM_ACTOR,
    now: datetime | None = None,
) -> LoginSettingsView:
    """Make ``config`` the tenant's settings for provider ``key``; write-only values left out keep their stored value.

    :raises NotFound: no such provider (``login_provider_unknown``).
    :raises InvalidInput: the settings do not satisfy the provider's schema; errors point at each setting.
    """
    schema = _provider(registry, key)
    if not isinstance(config, Mapping):
        raise InvalidInput(_l("the settings must be an object"), errors=[FieldProblem("", _l("send an object of settings"), "type")])
    stored = _stored(session, key) or {}
    hidden = write_only_keys(schema)
    merged = {**{name: stored[name] for name in hidden if name in stored and name not in config}, **config}
    problems = settings_problems(schema, merged)
    if problems:
        raise InvalidInput(_l("the %(key)s login settings are not valid", key=key), errors=problems)
    now = now or utcnow()
    changed_secrets = sorted(name for name in hidden if name in config and config[name] != stored.get(name))
    with write_transaction(session):
        created = insert_unless_exists(
            session, LoginSetting, {"tenant_id": current_tenant_id(), "provider": key, "config": merged, "updated_at": now}, ["tenant_id", "provider"]
        )
        if created is None:
            session.execute(
                update(LoginSetting).where(LoginSetting.provider == key).values(config=merged, updated_at=now).execution_options(synchronize_session=False)
            )
        audit.record(
            session,
            actor=actor,
            action="login_settings.changed",
            subject_type="login_provider",
            subject_id=key,
            data={"settings": public_settings(schema, merged), "write_only_changed": changed_secrets},
        )
    return login_settings_view(session, registry, key)


def delete_login_settings(session: Session, registry: LoginProviderRegistry, key: str, *, actor: str = SYSTEM_ACTOR) -> bool:
    """Forget the tenant's settings for provider ``key``, so logins fall back to the application's; False if it had none."""
    _provider(registry, key)
    with write_transaction(session):
        deleted = session.execute(delete(LoginSetting).where(LoginSetting.provider == key).execution_options(synchronize_session=False)).rowcount
        if deleted:
            audit.record(session, actor=actor, action="login_settings.deleted", subject_type="login_provider", subject_id=key, data={})
    return bool(deleted)
