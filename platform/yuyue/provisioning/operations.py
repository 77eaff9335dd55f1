"""Provisioning: create, suspend and reinstate tenants, set their plan limits, choose their plugins, issue and revoke API tokens.

Every change here is an operator's, and is audited in the transaction that makes
it, naming ``actor`` (``operator:<token id>`` from the API, ``cli`` from the
command line, ``system`` for set-up code): in the tenant's chain when it
concerns one tenant, in the operator chain otherwise (decisions §35). Audit
data names what changed, never a secret: no token, digest, password or plugin
configuration value.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

import yuyue_schemas
from yuyue.audit.operations import record as audit_record
from yuyue.audit.operator_chain import record_operator_action
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound, Refused, json_pointer, schema_field_problems
from yuyue.plugins import PluginHost, TenantPlugins
from yuyue.tenancy.models import ApiToken, StaffMembership, StaffRole, Tenant, TenantPlugin, TenantStatus, TokenKind
from yuyue.tenancy.queries import get_tenant
from yuyue.types import MAX_INTEGER, looks_like_email, utcnow

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
SUPPORTED_LOCALES = ("zh-Hans", "zh-Hant", "en")
TOKEN_PREFIX = "yy_"
# A staff user's name and email: what the admin's form and `yuyue tenants add-staff` accept.
MAX_USERNAME = 64
MAX_EMAIL = 64
MAX_TOKEN_NAME = 100  # api_tokens.name, whose message below says so
# Who acts when set-up code (the demo, fixtures, benchmarks) provisions without an operator.
SYSTEM_ACTOR = "system"
CLI_ACTOR = "cli"


def operator_actor(token: ApiToken) -> str:
    """How the audit log names an operator calling the API: by the token's id, never its secret."""
    return f"operator:{token.id}"


def console_actor(user_id: int) -> str:
    """How the audit log names an operator working in the admin's operator console: by their user id."""
    return f"operator-user:{user_id}"


def _audit(session: Session, tenant_id: int, actor: str, action: str, subject_type: str, subject_id: str | int, data: dict[str, Any]) -> None:
    """Queue a record in ``tenant_id``'s chain, inside the caller's write transaction."""
    with tenant_scope(tenant_id):
        audit_record(session, actor=actor, action=action, subject_type=subject_type, subject_id=subject_id, data=data)


_ABSENT = object()


def _config_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The top-level keys of a plugin configuration that were added, removed or changed; values may be secrets."""
    return sorted(key for key in old.keys() | new.keys() if old.get(key, _ABSENT) != new.get(key, _ABSENT))


def _check_time_zone(name: str, pointer: str) -> list[FieldProblem]:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # OSError: a folder of the zone database, e.g. "America"
        return [FieldProblem(pointer, _l("%(name)r is not an IANA time zone (e.g. Asia/Shanghai)", name=name), "unknown_time_zone")]
    return []


def _check_plugins(host: PluginHost, plugins: Mapping[str, Any], prefix: str) -> list[FieldProblem]:
    problems = []
    for name, config in plugins.items():
        if not host.is_installed(name):
            installed = ", ".join(host.installed_names) or "none"
            problems.append(
                FieldProblem(
                    f"{prefix}{json_pointer(name)}",
                    _l("plugin %(name)r is not installed (installed: %(installed)s)", name=name, installed=installed),
                    "unknown_plugin",
                )
            )
            continue
        for problem in yuyue_schemas.problems_against(host.settings_schema(name), config):
            problems += schema_field_problems([problem], f"{prefix}{json_pointer(name)}")
    return problems


# What a plan may limit: limit name → what it counts, for messages. Booking types and resources are
# counted by the catalog when it creates one, staff memberships here (each through plan_allows).
PLAN_LIMITS = {
    "max_booking_types": "booking types",
    "max_resources": "resources",
    "max_staff": "staff members",
}
# The same, in the reader's words, for the refusal that names a reached limit.
_PLAN_LIMIT_WORDS = {"max_booking_types": _l("booking types"), "max_resources": _l("resources"), "max_staff": _l("staff members")}
PLAN_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        key: {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER, "description": f"the most {what} the tenant may have"}
        for key, what in PLAN_LIMITS.items()
    },
    "description": "limit name → the most the tenant may have; a limit left out is no limit",
}


def set_plan_limits(session: Session, slug: str, limits: Mapping[str, Any], *, actor: str = SYSTEM_ACTOR) -> Tenant:
    """Make ``limits`` the tenant's plan (a limit left out is no limit); what it has already stays, only new rows are refused.

    Audited as ``tenant.plan_changed`` with the limits before and after.
    """
    problems = schema_field_problems(yuyue_schemas.problems_against(PLAN_SCHEMA, limits), "/limits")
    if problems:
        raise InvalidInput(_l("the plan limits are not valid"), errors=problems)
    with write_transaction(session):
        tenant = get_tenant(session, slug)
        previous, tenant.plan_limits = dict(tenant.plan_limits or {}), dict(limits)
        _audit(session, tenant.id, actor, "tenant.plan_changed", "tenant", tenant.slug, {"previous": previous, "limits": dict(limits)})
    return tenant


def plan_allows(session: Session, tenant: Tenant, limit: str, count: int) -> None:
    """Refuse one more of what ``limit`` counts when the tenant already has ``count`` and its plan allows no more.

    Called inside the creating write transaction; on PostgreSQL it locks the tenant's row first,
    so two concurrent creates of one tenant count one after the other.

    :raises Refused: ``plan_limit_reached`` (409), naming the limit.
    """
    limits = session.scalar(select(Tenant.plan_limits).where(Tenant.id == tenant.id).with_for_update())
    maximum = (limits or {}).get(limit)
    if maximum is not None and count >= maximum:
        raise Refused(
            _l(
                "the plan of %(slug)s allows at most %(maximum)s %(what)s (%(limit)s = %(maximum)s); ask the operator to raise it",
                slug=tenant.slug,
                maximum=maximum,
                what=_PLAN_LIMIT_WORDS[limit],
                limit=limit,
            ),
            code="plan_limit_reached",
        )


def list_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.slug)))


def enabled_plugins(session: Session, tenant: Tenant) -> dict[str, dict[str, Any]]:
    """Plugin name → configuration, for the plugins enabled for ``tenant``."""
    with tenant_scope(tenant.id):
        rows = session.scalars(select(TenantPlugin).order_by(TenantPlugin.plugin))
        return {row.plugin: row.config for row in rows}


def tenant_plugins(session: Session, host: PluginHost, tenant: Tenant) -> TenantPlugins:
    """The plugins ``tenant`` enabled with its settings for each, as booking behaviour hooks see them."""
    return host.tenant_plugins(tenant.id, tenant.plugins_revision, lambda: enabled_plugins(session, tenant))


def create_tenant(
    session: Session,
    host: PluginHost,
    *,
    slug: str,
    name: str,
    time_zone: str = "Asia/Shanghai",
    locales: list[str] | None = None,
    plugins: Mapping[str, Any] | None = None,
    actor: str = SYSTEM_ACTOR,
) -> Tenant:
    """Provision a tenant with its enabled plugins; ``tenant_created`` runs in the same transaction."""
    locales = list(locales or SUPPORTED_LOCALES)
    plugins = dict(plugins or {})
    problems = []
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        problems.append(FieldProblem("/slug", _l("use 1-40 lowercase letters, digits and inner hyphens"), "invalid_slug"))
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        problems.append(FieldProblem("/name", _l("a name of 1-200 characters is required"), "invalid_name"))
    problems += _check_time_zone(time_zone, "/time_zone")
    for index, locale in enumerate(locales):
        if locale not in SUPPORTED_LOCALES:
            problems.append(
                FieldProblem(
                    f"/locales/{index}", _l("%(locale)r is not one of %(names)s", locale=locale, names=", ".join(SUPPORTED_LOCALES)), "unsupported_locale"
                )
            )
    problems += _check_plugins(host, plugins, "/plugins")
    if problems:
        raise InvalidInput(_l("the tenant cannot be created as given"), errors=problems)

    try:
        with write_transaction(session):
            if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
                raise Conflict(
                    _l("a tenant with slug %(slug)r already exists", slug=slug),
                    code="slug_taken",
                    errors=[FieldProblem("/slug", _l("already taken"), "slug_taken")],
                )
            tenant = Tenant(slug=slug, name=name.strip(), time_zone=time_zone, locales=locales, status=TenantStatus.active)
            session.add(tenant)
            session.flush()
            with tenant_scope(tenant.id):
                session.add_all(TenantPlugin(tenant_id=tenant.id, plugin=p, config=c) for p, c in plugins.items())
                session.flush()
                host.plugins_configured(plugins).collect("tenant_created", tenant=tenant)
                session.flush()  # rows a plugin added belong to this tenant: flush while it is in context
            data = {"name": tenant.name, "time_zone": time_zone, "locales": locales, "plugins": sorted(plugins)}
            _audit(session, tenant.id, actor, "tenant.created", "tenant", slug, data)
    except IntegrityError:
        # Lost a race with a concurrent create of the same slug.
        raise Conflict(
            _l("a tenant with slug %(slug)r already exists", slug=slug), code="slug_taken", errors=[FieldProblem("/slug", _l("already taken"), "slug_taken")]
        ) from None
    return tenant


def suspend_tenant(session: Session, slug: str, *, actor: str = SYSTEM_ACTOR) -> Tenant:
    """Stop the tenant's business: its customer and merchant APIs answer 403 ``tenant_suspended``. Nothing is deleted."""
    return _set_status(session, slug, TenantStatus.suspended, actor, "tenant.suspended")


def reinstate_tenant(session: Session, slug: str, *, actor: str = SYSTEM_ACTOR) -> Tenant:
    """Undo a suspension: the tenant takes bookings again, and the worker expires what ran out meanwhile."""
    return _set_status(session, slug, TenantStatus.active, actor, "tenant.reinstated")


def _set_status(session: Session, slug: str, status: TenantStatus, actor: str, action: str) -> Tenant:
    with write_transaction(session):
        tenant = get_tenant(session, slug)
        previous, tenant.status = tenant.status, status
        _audit(session, tenant.id, actor, action, "tenant", tenant.slug, {"previous": previous.value, "status": status.value})
    return tenant


def set_tenant_plugins(session: Session, host: PluginHost, slug: str, plugins: Mapping[str, Any], *, actor: str = SYSTEM_ACTOR) -> dict[str, dict[str, Any]]:
    """Make exactly ``plugins`` (name → configuration) the tenant's enabled plugins.

    Audited as one ``tenant.plugins_changed`` record: the plugins enabled and
    disabled, and for each one kept the configuration keys that changed.
    """
    problems = _check_plugins(host, plugins, "/plugins")
    if problems:
        raise InvalidInput(_l("the plugin configuration is not valid"), errors=problems)
    tenant = get_tenant(session, slug)
    with tenant_scope(tenant.id), write_transaction(session):
        current = {row.plugin: row for row in session.scalars(select(TenantPlugin))}
        reconfigured = {name: keys for name, config in plugins.items() if name in current and (keys := _config_changes(current[name].config, config))}
        for name, row in current.items():
            if name not in plugins:
                session.delete(row)
        for name, config in plugins.items():
            if name in current:
                current[name].config = config
            else:
                session.add(TenantPlugin(plugin=name, config=config))
        tenant.plugins_revision += 1
        data = {"enabled": sorted(plugins.keys() - current.keys()), "disabled": sorted(current.keys() - plugins.keys()), "reconfigured": reconfigured}
        _audit(session, tenant.id, actor, "tenant.plugins_changed", "tenant", tenant.slug, data)
    return enabled_plugins(session, tenant)


# The Flask-AppBuilder role every merchant staff user holds; what they may do inside a tenant
# comes from their StaffMembership role there.
MERCHANT_ROLE = "Merchant"


def add_staff_member(
    session: Session,
    security,
    *,
    tenant_slug: str,
    username: str,
    role: StaffRole,
    email: str | None = None,
    password: str | None = None,
    actor: str = SYSTEM_ACTOR,
) -> StaffMembership:
    """Give a user a role at a tenant, creating the user when ``email`` and ``password`` are given.

    :param security: the application's Flask-AppBuilder security manager.
    :raises InvalidInput: a user name that is empty or too long, an email that is not one.
    """
    username = _checked_user(username, email)
    tenant = get_tenant(session, tenant_slug)
    user = security.find_user(username=username)
    created = user is None
    if user is None or _membership(session, tenant, user.id) is None:
        # Before a user is created for it: a refused membership leaves no account behind.
        with tenant_scope(tenant.id):
            plan_allows(session, tenant, "max_staff", session.scalar(select(func.count()).select_from(StaffMembership)) or 0)
    if user is None:
        if not (email and password):
            raise NotFound(_l("no user %(username)r; give an email and a password to create one", username=username), code="user_not_found")
        user = security.add_user(username, username, tenant.name, email, security.find_role(MERCHANT_ROLE), password=password)
        if not user:
            raise Conflict(
                _l("the user %(username)r could not be created (is the email taken?)", username=username),
                code="user_not_created",
                errors=[FieldProblem("/email", _l("already used"), "email_taken")],
            )
    with tenant_scope(tenant.id), write_transaction(session):
        membership = _membership(session, tenant, user.id)
        previous = membership.role.value if membership is not None else None
        if membership is None:
            plan_allows(session, tenant, "max_staff", session.scalar(select(func.count()).select_from(StaffMembership)) or 0)
            membership = StaffMembership(user_id=user.id, role=role)
            session.add(membership)
        else:
            membership.role = role
        data = {"username": username, "role": role.value, "previous_role": previous, "user_created": created}
        _audit(session, tenant.id, actor, "staff.added", "user", user.id, data)
    return membership


def _checked_user(username: Any, email: str | None, password: str | None = None, *, new: bool = False) -> str:
    """``username`` stripped, when it and ``email`` (and for a ``new`` user, given both, ``password``) are acceptable.

    :raises InvalidInput: naming every field that is not.
    """
    username = username.strip() if isinstance(username, str) else ""
    problems = []
    if not username or len(username) > MAX_USERNAME:
        problems.append(FieldProblem("/username", _l("A user name of 1 to %(most)s characters.", most=MAX_USERNAME), "invalid_username"))
    if (email is not None or new) and (not email or len(email) > MAX_EMAIL or not looks_like_email(email)):
        problems.append(FieldProblem("/email", _l("this is not an email address"), "invalid_email"))
    if new and not password:
        problems.append(FieldProblem("/password", _l("a password is required"), "password_required"))
    if problems:
        raise InvalidInput(_l("%(field)s is not valid", field=problems[0].pointer[1:]), errors=problems)
    return username


def create_admin(
    session: Session,
    security,
    *,
    username: str,
    email: str,
    password: str,
    first_name: str | None = None,
    last_name: str = "",
    actor: str = SYSTEM_ACTOR,
) -> User:
    """Create a user with Flask-AppBuilder's admin role (the operator's console), audited in the operator chain.

    A taken user name or email is refused here, as a :class:`Conflict` naming the field: Flask-AppBuilder's own
    ``fab create-admin`` only logs it and succeeds.

    :param security: the application's Flask-AppBuilder security manager.
    :raises InvalidInput: a user name that is empty or too long, an email that is not one, no password.
    """
    username = _checked_user(username, email, password, new=True)
    if security.find_user(username=username) is not None:
        raise Conflict(
            _l("a user named %(username)r already exists", username=username),
            code="username_taken",
            errors=[FieldProblem("/username", _l("already taken"), "username_taken")],
        )
    if security.find_user(email=email) is not None:
        raise Conflict(
            _l("another user has the email %(email)r", email=email), code="email_taken", errors=[FieldProblem("/email", _l("already used"), "email_taken")]
        )
    with write_transaction(session):
        user = security.add_user(
            username, first_name or username, last_name, email, security.find_role(security.auth_role_admin), password=password, commit=False
        )
        if not user:
            raise Conflict(_l("the user %(username)r could not be created (is the email taken?)", username=username), code="user_not_created")
        session.flush()
        record_operator_action(session, actor=actor, action="admin.created", subject_type="user", subject_id=user.id, data={"username": username})
    return user


def set_password(session: Session, security, *, username: str, password: str, actor: str = SYSTEM_ACTOR) -> User:
    """Give ``username`` (an admin, or a merchant's staff member) a new password, recorded in the operator chain without it.

    Hashed as Flask-AppBuilder hashes at sign-up (``FAB_PASSWORD_HASH_METHOD``), in one transaction with the record:
    its own ``reset_password`` commits on its way.

    :param security: the application's Flask-AppBuilder security manager.
    :raises InvalidInput: a user name that is empty or too long, no password.
    :raises NotFound: no such user.
    """
    username = _checked_user(username, None)
    if not password:
        raise InvalidInput(
            _l("%(field)s is not valid", field="password"), errors=[FieldProblem("/password", _l("a password is required"), "password_required")]
        )
    user = security.find_user(username=username)
    if user is None:
        raise NotFound(_l("no user named %(username)r", username=username), code="user_not_found")
    config = current_app.config
    with write_transaction(session):
        user.password = generate_password_hash(
            password, method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"), salt_length=config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16)
        )
        record_operator_action(session, actor=actor, action="user.password_set", subject_type="user", subject_id=user.id, data={"username": username})
    return user


def _membership(session: Session, tenant: Tenant, user_id: int) -> StaffMembership | None:
    with tenant_scope(tenant.id):
        return session.scalar(select(StaffMembership).where(StaffMembership.user_id == user_id))


def list_staff(session: Session, slug: str) -> list[tuple[StaffMembership, Any]]:
    """The tenant's staff memberships with their Flask-AppBuilder users, by username."""
    tenant = get_tenant(session, slug)
    with tenant_scope(tenant.id):
        return [tuple(row) for row in session.execute(select(StaffMembership, User).join(User, User.id == StaffMembership.user_id).order_by(User.username))]


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session,
    *,
    kind: TokenKind,
    name: str,
    tenant_slug: str | None = None,
    role: StaffRole | None = None,
    actor: str = SYSTEM_ACTOR,
) -> tuple[ApiToken, str]:
    """Issue an API token; returns the row and the secret, which is never stored or shown again.

    Audited by its id, kind, role and name: in its tenant's chain for a staff token, in the operator chain for an operator token.
    """
    if kind is TokenKind.staff and not tenant_slug:
        raise InvalidInput(_l("a staff token belongs to a tenant"), errors=[FieldProblem("/tenant", _l("required for a staff token"), "required")])
    if kind is TokenKind.operator and tenant_slug:
        raise InvalidInput(
            _l("an operator token belongs to no tenant"), errors=[FieldProblem("/tenant", _l("not allowed for an operator token"), "not_allowed")]
        )
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_TOKEN_NAME:
        raise InvalidInput(_l("the name is not valid"), errors=[FieldProblem("/name", _l("a name of 1-100 characters is required"), "invalid_name")])
    name = name.strip()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction(session):
        tenant = get_tenant(session, tenant_slug) if tenant_slug else None
        token = ApiToken(
            kind=kind,
            tenant_id=tenant.id if tenant else None,
            role=(role or StaffRole.staff) if kind is TokenKind.staff else None,
            name=name,
            digest=token_digest(secret),
        )
        session.add(token)
        session.flush()
        _audit_token(session, token, actor, "token.created")
    return token, secret


def _audit_token(session: Session, token: ApiToken, actor: str, action: str) -> None:
    data = {"kind": token.kind.value, "role": token.role.value if token.role else None, "name": token.name}
    if token.tenant_id is None:
        record_operator_action(session, actor=actor, action=action, subject_type="api_token", subject_id=token.id, data=data)
    else:
        _audit(session, token.tenant_id, actor, action, "api_token", token.id, data)


def list_tokens(session: Session) -> list[ApiToken]:
    """Every API token, live and revoked, oldest first (their secrets are not stored, so not shown)."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def get_token(session: Session, token_id: int) -> ApiToken:
    """:raises NotFound: if there is no such token."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_l("no API token %(token_id)s", token_id=token_id), code="token_not_found")
    return token


def revoke_token(session: Session, token_id: int, *, now: datetime | None = None, actor: str = SYSTEM_ACTOR) -> ApiToken:
    """Stop a token from authenticating, at once; revoking a revoked token changes nothing (and is not audited).

    :raises NotFound: if there is no such token.
    """
    with write_transaction(session):
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(_l("no API token %(token_id)s", token_id=token_id), code="token_not_found")
        if token.revoked_at is None:
            token.revoked_at = now or utcnow()
            _audit_token(session, token, actor, "token.revoked")
    return token


def authenticate_token(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret, or None."""
    return session.scalar(select(ApiToken).where(ApiToken.digest == token_digest(secret), ApiToken.revoked_at.is_(None)))
