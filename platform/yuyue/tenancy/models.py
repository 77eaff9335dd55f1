"""Tenancy models. ``Tenant`` itself is global; everything below it is tenant-owned."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.sealing import SealedJSON
from yuyue.types import UTCDateTime, string_enum, utcnow


class TenantStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"


class StaffRole(enum.StrEnum):
    owner = "owner"
    manager = "manager"
    staff = "staff"


# How roles compare: a page or endpoint open to a role is open to every role ranked above it.
ROLE_RANK = {StaffRole.staff: 0, StaffRole.manager: 1, StaffRole.owner: 2}


class TokenKind(enum.StrEnum):
    operator = "operator"
    staff = "staff"


class Tenant(Model):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    locales: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[TenantStatus] = mapped_column(string_enum(TenantStatus, "tenant_status"), default=TenantStatus.active)
    # Bumped whenever the enabled plugins or their settings change, so each process knows its cached copy is stale.
    plugins_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The tenant's plan: limit name → the most it may have (see provisioning.operations.PLAN_LIMITS); absent: no limit.
    plan_limits: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The tenant's look on its customer site (decisions §53): a theme's key (None: the default theme), a brand
    # colour as #rrggbb, and a logo stored here so every application node serves it. The logo's bytes are loaded
    # only by the one view that sends them; its digest (the ETag) and media type come with every tenant row.
    theme: Mapped[str | None] = mapped_column(String(40))
    brand_colour: Mapped[str | None] = mapped_column(String(7))
    logo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    logo_type: Mapped[str | None] = mapped_column(String(20))
    logo_digest: Mapped[str | None] = mapped_column(String(64))
    # Erase a customer's personal data this many days after their last booking ended (yuyue.privacy.retention); None: keep it.
    retention_days: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class Branch(TenantScoped, Model):
    """A site or campus of a tenant; may run in its own time zone."""

    __tablename__ = "branches"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(500))


class StaffMembership(TenantScoped, Model):
    """A Flask-AppBuilder user working for a tenant, with a role there."""

    __tablename__ = "staff_memberships"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"))
    role: Mapped[StaffRole] = mapped_column(string_enum(StaffRole, "staff_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TenantPlugin(TenantScoped, Model):
    """One installed plugin enabled for one tenant, with its validated configuration."""

    __tablename__ = "tenant_plugins"
    __table_args__ = (UniqueConstraint("tenant_id", "plugin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plugin: Mapped[str] = mapped_column(String(100))
    # Sealed at rest (decisions §70): a plugin's settings may hold the key of a service it calls.
    config: Mapped[dict[str, Any]] = mapped_column(SealedJSON("tenant_plugins.config"), default=dict)
    enabled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiToken(Model):
    """An API credential, stored as a SHA-256 digest; the secret is shown once.

    Global rather than tenant-owned because an operator token has no tenant and a
    request is authenticated before its tenant is known; a staff token carries
    its ``tenant_id`` and is only honoured under that tenant's paths.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (Index(None, "tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TokenKind] = mapped_column(string_enum(TokenKind, "token_kind"))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"))
    role: Mapped[StaffRole | None] = mapped_column(string_enum(StaffRole, "staff_role"))
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
