"""Audit records, hash-chained per tenant, and the head of each tenant's chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.types import UTCDateTime


class ChainLink:
    """The fields of one link of a hash chain, the same in every chain (a tenant's, the operator chain)."""

    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditRecord(ChainLink, TenantScoped, Model):
    """``hash = sha256(prev_hash + canonical JSON of this record)``; editing any field breaks the chain."""

    __tablename__ = "audit_records"
    # The subject index serves a booking's audit trail on the admin's booking page.
    __table_args__ = (UniqueConstraint("tenant_id", "seq"), Index(None, "tenant_id", "subject_type", "subject_id", "seq"))

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    # Digests of the audited rows its transaction left, by row key (decisions §34); None on records that vouch for no row.
    state: Mapped[dict[str, str | None] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class AuditHead(TenantScoped, Model):
    """The latest link of a tenant's chain; updating it serialises appends per tenant."""

    __tablename__ = "audit_heads"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
