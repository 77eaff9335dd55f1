"""Secrets at rest: the columns that hold merchants' secrets are sealed with Fernet, so a database file or dump reveals none.

The keys come from ``YUYUE_SECRETS_KEY`` (comma-separated Fernet keys: the first
seals, every one opens), or, without it, from a key generated once into
``<instance>/secrets_key``. A sealed value is :data:`PREFIX` followed by a
Fernet token, so a value stored before sealing existed (clear text) is told
apart and read as it is until ``yuyue secrets rotate`` or migration 0025 (0028 for plugins' settings) seals it.

The column types (:class:`SealedJSON`, :class:`SealedString`) find the keys of
the application in context; migrations and the CLI use :class:`Sealer` directly.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, TypeDecorator, text
from sqlalchemy.engine import Connection

from yuyue.config import instance_path
from yuyue.errors import DomainError

__all__ = [
    "EXTENSION",
    "KEY_FILE",
    "PREFIX",
    "SEALED_COLUMNS",
    "SealedColumn",
    "SealedJSON",
    "SealedString",
    "Sealer",
    "SecretUnreadable",
    "SecretsKeyError",
    "count_sealed_rows",
    "ResealCount",
    "init_sealing",
    "reseal_all",
    "is_sealed",
    "new_key",
    "sealer_from_env",
]

# Marks a sealed value; the version leaves room for another scheme without guessing.
PREFIX = "sealed:v1:"
KEY_FILE = "secrets_key"
ENV_VAR = "YUYUE_SECRETS_KEY"
EXTENSION = "yuyue.sealing"


@dataclass(frozen=True)
class SealedColumn:
    """One column that holds secrets: what ``yuyue secrets rotate`` walks through (migrations 0025 and 0028 sealed them)."""

    table: str
    column: str
    json: bool

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


# Every secret-holding column of the host (docs/secrets.md says why these and no others).
SEALED_COLUMNS = (
    SealedColumn("login_settings", "config", json=True),
    SealedColumn("payment_settings", "config", json=True),
    SealedColumn("channel_settings", "config", json=True),
    SealedColumn("tenant_plugins", "config", json=True),
    SealedColumn("webhook_endpoints", "secret", json=False),
    SealedColumn("webhook_endpoints", "previous_secret", json=False),
)


class SecretsKeyError(ValueError):
    """``YUYUE_SECRETS_KEY`` or the key file holds something that is not a Fernet key: the application does not start."""


class SecretUnreadable(DomainError):
    """A stored secret that none of the configured keys opens: its key was removed from ``YUYUE_SECRETS_KEY``."""

    code = "secret_unreadable"
    http_status = 503

    def __init__(self, where: str, row_id: int | None = None):
        place = where if row_id is None else f"{where} of row {row_id}"
        super().__init__(
            _l(
                "a stored secret (%(place)s) cannot be decrypted with the keys in YUYUE_SECRETS_KEY; the operator must add the key it was sealed with",
                place=place,
            ),
            extensions={"secret": where},
        )
        self.where, self.row_id = where, row_id


def new_key() -> str:
    """A fresh Fernet key, as ``YUYUE_SECRETS_KEY`` takes it."""
    return Fernet.generate_key().decode()


def is_sealed(value: str | None) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


class Sealer:
    """Seals with the first key, opens with any; :meth:`reseal` moves a value to the first key."""

    def __init__(self, keys: list[str], *, source: str = ENV_VAR):
        if not keys:
            raise SecretsKeyError(f"{source} holds no key; make one with `yuyue secrets new-key`")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode()))
            except (ValueError, TypeError):
                raise SecretsKeyError(
                    f"{source}: key {position} is not a Fernet key (32 bytes in URL-safe base64); make one with `yuyue secrets new-key`"
                ) from None
        self.key_count = len(fernets)
        self._fernet = MultiFernet(fernets)

    @classmethod
    def from_setting(cls, value: str, *, source: str = ENV_VAR) -> Sealer:
        return cls([key for key in value.split(",") if key.strip()], source=source)

    def seal(self, text: str) -> str:
        return PREFIX + self._fernet.encrypt(text.encode()).decode()

    def open(self, stored: str, where: str = "a secret", row_id: int | None = None) -> str:
        """The clear text of ``stored``; a value stored before sealing is returned as it is."""
        if not is_sealed(stored):
            return stored
        try:
            return self._fernet.decrypt(stored.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(where, row_id) from None

    def reseal(self, stored: str, where: str = "a secret", row_id: int | None = None) -> str:
        """``stored`` sealed with the first key (clear text is sealed; a sealed value keeps its time stamp)."""
        if not is_sealed(stored):
            return self.seal(stored)
        try:
            return PREFIX + self._fernet.rotate(stored.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(where, row_id) from None


def _key_file(instance: Path) -> str:
    """The key in ``instance``/secrets_key, generated (mode 0600) if there is none yet.

    Written to a temporary file and linked into place, so gunicorn workers starting together
    all end up with the one key that won, never with a half-written file.
    """
    path = instance / KEY_FILE
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=instance, prefix=".secrets_key.")
        try:
            with os.fdopen(fd, "w") as out:  # mkstemp creates it 0600
                out.write(new_key() + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


def _sealer(setting: str | None, instance: Path) -> Sealer:
    if setting and setting.strip():
        return Sealer.from_setting(setting)
    return Sealer.from_setting(_key_file(instance), source=str(instance / KEY_FILE))


def sealer_from_env(env: Mapping[str, str] = os.environ) -> Sealer:
    """The keys as the application started from ``env`` has them (for migrations run outside an application)."""
    return _sealer(env.get(ENV_VAR), instance_path(env))


def init_sealing(app) -> None:
    """Give ``app`` its keys (``SECRETS_KEY``, else the instance's key file); a malformed key stops it here."""
    app.extensions[EXTENSION] = _sealer(app.config.get("SECRETS_KEY"), Path(app.config["INSTANCE_PATH"]))


def current_sealer() -> Sealer:
    """The keys of the application in context, else those of the environment."""
    if has_app_context() and EXTENSION in current_app.extensions:
        return current_app.extensions[EXTENSION]
    return sealer_from_env()


class SealedString(TypeDecorator):
    """A string stored sealed; ``where`` (``table.column``) names it when it cannot be opened."""

    impl = Text
    cache_ok = True

    def __init__(self, where: str):
        super().__init__()
        self.where = where

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else current_sealer().seal(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        return None if value is None else current_sealer().open(value, self.where)


class SealedJSON(TypeDecorator):
    """A JSON document stored sealed; the code reading it gets the dict back."""

    impl = Text
    cache_ok = True

    def __init__(self, where: str):
        super().__init__()
        self.where = where

    def process_bind_param(self, value: Any, dialect) -> str | None:
        return None if value is None else current_sealer().seal(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def process_result_value(self, value: str | None, dialect) -> Any:
        return None if value is None else json.loads(current_sealer().open(value, self.where))


@dataclass
class ResealCount:
    """What ``yuyue secrets rotate`` did to one column: values moved to the first key, and values found in clear text and sealed."""

    column: str
    resealed: int = 0
    were_clear: int = 0


def reseal_all(connection: Connection, sealer: Sealer, on_row: Callable[[], None] | None = None) -> list[ResealCount]:
    """Seal every secret of :data:`SEALED_COLUMNS` with the first key, on ``connection`` (in the caller's transaction).

    Runs below the ORM, so neither the tenant filter nor the column types stand in the way: a value none of the
    keys opens raises :class:`SecretUnreadable` naming its table and row, and the caller's transaction is rolled back.
    """
    counts = []
    for sealed in SEALED_COLUMNS:
        count = ResealCount(sealed.name)
        select = text(f"SELECT id, {sealed.column} FROM {sealed.table} WHERE {sealed.column} IS NOT NULL ORDER BY id")
        update = text(f"UPDATE {sealed.table} SET {sealed.column} = :value WHERE id = :id")
        for row_id, value in connection.execute(select).fetchall():
            if not is_sealed(value):
                count.were_clear += 1
            connection.execute(update, {"id": row_id, "value": sealer.reseal(value, sealed.name, row_id)})
            count.resealed += 1
            if on_row is not None:
                on_row()
        counts.append(count)
    return counts


def count_sealed_rows(connection: Connection) -> int:
    """How many values :func:`reseal_all` will visit (for a progress bar)."""
    return sum(connection.execute(text(f"SELECT count(*) FROM {sealed.table} WHERE {sealed.column} IS NOT NULL")).scalar_one() for sealed in SEALED_COLUMNS)
