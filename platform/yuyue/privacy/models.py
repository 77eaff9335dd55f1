"""A customer's data requests: each download of their data and each erasure, who asked, and what became of it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.types import UTCDateTime, string_enum, utcnow


class DataRequestKind(enum.StrEnum):
    download = "download"
    erasure = "erasure"


class Requester(enum.StrEnum):
    customer = "customer"
    staff = "staff"
    retention = "retention"


class DataRequestStatus(enum.StrEnum):
    completed = "completed"
    # An erasure that something of the customer's still in progress stopped (``refusal`` says what): nothing was erased.
    refused = "refused"


class DataRequest(TenantScoped, Model):
    """One request about a customer's personal data.

    ``reference`` is the request's own public name, random and personal to nobody: it is what the customer and staff quote,
    and it still names the request after the customer's personal data is erased (the customer row stays, anonymised, so
    ``customer_id`` does too; it is nulled only if the row is ever deleted).
    """

    __tablename__ = "data_requests"
    __table_args__ = (UniqueConstraint("tenant_id", "reference"), Index(None, "tenant_id", "customer_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    kind: Mapped[DataRequestKind] = mapped_column(string_enum(DataRequestKind, "data_request_kind"))
    requested_by: Mapped[Requester] = mapped_column(string_enum(Requester, "data_requester"))
    # The audit actor who asked (``customer:42``, ``staff:7``, ``system``): never a personal value.
    actor: Mapped[str] = mapped_column(String(100))
    # Why staff asked for an erasure; null otherwise.
    reason: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[DataRequestStatus] = mapped_column(string_enum(DataRequestStatus, "data_request_status"))
    # The problem code that refused an erasure (``erasure_blocked``); null when it was done.
    refusal: Mapped[str | None] = mapped_column(String(40))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
