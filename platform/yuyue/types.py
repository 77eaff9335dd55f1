"""Column types shared by every area."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, TypeDecorator

import yuyue_schemas

# The largest whole number an ``Integer`` column holds on every database yuyue runs on (PostgreSQL ``integer``);
# every number a client or merchant sends is bounded by it, or by a tighter bound of its own.
MAX_INTEGER = yuyue_schemas.MAX_INTEGER


def bounded_integer(minimum: int = 0, maximum: int = MAX_INTEGER, **keywords: Any) -> dict[str, Any]:
    """The JSON Schema of a whole number from ``minimum`` to ``maximum`` (what an integer column holds, by default)."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum, **keywords}


def utcnow() -> datetime:
    return datetime.now(UTC)


def string_enum(cls: type[enum.Enum], name: str) -> Enum:
    """Stored as plain strings (no native enum type), so adding a value needs no ALTER TYPE."""
    return Enum(cls, name=name, native_enum=False, length=20, validate_strings=True, values_callable=lambda e: [m.value for m in e])


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset; without this, values read back naive and compare
    wrongly with aware ones.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def looks_like_email(email: str) -> bool:
    """An address a mail server could take: something@domain.tld, no spaces, quotes, brackets or control characters."""
    local, at, domain = email.rpartition("@")
    return bool(at and local and "." in domain and not domain.startswith(".") and not domain.endswith(".")) and not any(
        c.isspace() or c in '<>,;"\\' or ord(c) < 32 for c in email
    )
