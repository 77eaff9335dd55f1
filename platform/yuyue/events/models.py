"""Outbox records, written in the same transaction as the change they announce."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.types import UTCDateTime, utcnow


class OutboxEvent(TenantScoped, Model):
    __tablename__ = "outbox_events"
    __table_args__ = (Index(None, "tenant_id", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
