"""Customers (identified by phone or WeChat openid), how they log in (codes, refresh tokens, the tenant's login settings), companions, points, bans."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.sealing import SealedJSON
from yuyue.types import UTCDateTime, string_enum, utcnow


class Customer(TenantScoped, Model):
    """A person who books with one tenant; known by phone, by WeChat openid, or both (a mini-program user may have no phone yet)."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"), UniqueConstraint("tenant_id", "wechat_openid"))
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what decides money, capacity or who may book.
    __audited__ = ("id", "phone", "name", "wechat_openid")

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(100))
    wechat_openid: Mapped[str | None] = mapped_column(String(64))
    # What the merchant notes about the customer (e.g. ["VIP", "needs a wheelchair"]); never shown to the customer.
    tags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    note: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the customer's personal data was erased (yuyue.privacy): the row stays, so bookings keep their customer, but
    # it logs in no more and no phone finds it.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when staff merged this record into another (yuyue.merging): the row stays, emptied, so its id is never given to
    # someone else (SQLite reuses the highest deleted id) while a token or cookie naming it may still be presented.
    merged_into_id: Mapped[int | None] = mapped_column(Integer)


class LoginCode(TenantScoped, Model):
    """The one-time code last sent to a phone for logging in: one row per phone, replaced by each new code.

    Only an HMAC of the code is stored. ``attempts`` counts guesses at this code;
    ``used_at`` is set by the compare-and-set that accepts it, so it logs in once.
    """

    __tablename__ = "login_codes"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RefreshToken(TenantScoped, Model):
    """One refresh token of a customer's login; only the SHA-256 digest of its secret is stored.

    The tokens descending from one login form a ``family``. A refresh uses its
    token up (``used_at``, by compare-and-set) and issues the family's next one;
    a used token presented again means someone kept a copy, so the whole family
    is revoked (``revoked_at``, ``revoked_reason``). Logout and bans revoke it too.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        UniqueConstraint("tenant_id", "digest"),
        Index(None, "tenant_id", "family"),
        Index(None, "tenant_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    family: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(20))


class LoginSetting(TenantScoped, Model):
    """A tenant's own settings for one login provider, e.g. the AppID and AppSecret of its WeChat mini-program.

    ``config`` is validated against the provider's settings schema and holds
    secrets (the schema marks them ``writeOnly``): never render it as a whole,
    see :func:`yuyue.customers.login_settings.public_settings`.
    """

    __tablename__ = "login_settings"
    __table_args__ = (UniqueConstraint("tenant_id", "provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    # Sealed at rest (decisions §70): a database file or dump does not show the AppSecret.
    config: Mapped[dict[str, Any]] = mapped_column(SealedJSON("login_settings.config"), default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<LoginSetting {self.provider} of tenant {self.tenant_id}>"  # never the config: it holds the secret


class Companion(TenantScoped, Model):
    """A person a customer books for again and again (family, friends), with their ID number."""

    __tablename__ = "companions"
    __table_args__ = (UniqueConstraint("tenant_id", "customer_id", "id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(20))
    birth_date: Mapped[date | None] = mapped_column(Date)
    relation: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PointsEntry(TenantScoped, Model):
    """One line of a customer's points ledger; the balance is the sum."""

    __tablename__ = "points_entries"
    __table_args__ = (Index(None, "tenant_id", "customer_id"),)
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what decides money, capacity or who may book.
    __audited__ = ("id", "customer_id", "delta", "booking_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(60))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BanSubject(enum.StrEnum):
    customer = "customer"
    id_number = "id_number"
    phone = "phone"


class Ban(TenantScoped, Model):
    """A period during which a customer, an ID number or a phone may not book."""

    __tablename__ = "bans"
    __table_args__ = (Index(None, "tenant_id", "subject_kind", "subject", "ends_at"),)
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what decides money, capacity or who may book.
    __audited__ = ("id", "subject_kind", "subject", "starts_at", "ends_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[BanSubject] = mapped_column(string_enum(BanSubject, "ban_subject"))
    subject: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
