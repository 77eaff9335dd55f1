"""Signed checkpoints of the audit chains: each tenant's head, signed with an Ed25519 key kept outside the database.

A checkpoint is one JSON line appended to a file the operator chooses:
``{"tenant", "tenant_id", "seq", "hash", "at", "key_id", "signature"}``, the
signature taken over the canonical JSON of the other fields. Someone who can
rewrite the database but holds neither the key nor the file cannot make a
rewritten or truncated chain agree with a checkpoint made before they did it
(decisions §34).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.audit.canonical import canonical_json, iso_utc
from yuyue.audit.models import AuditHead
from yuyue.audit.operations import CheckpointFinding, Pin
from yuyue.db import all_tenants
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

__all__ = [
    "CheckpointError",
    "generate_key",
    "key_id",
    "load_public_key",
    "load_signing_key",
    "public_key_text",
    "read_checkpoints",
    "write_checkpoints",
]

PUBLIC_KEY_PREFIX = "ed25519:"
_FIELDS = {"tenant": str, "tenant_id": int, "seq": int, "hash": str, "at": str, "key_id": str, "signature": str}


class CheckpointError(Exception):
    """A key or checkpoint file that cannot be used; the CLI prints it as one ``error:`` line."""


# --- keys -----------------------------------------------------------------------------------


def generate_key(path: Path) -> Ed25519PublicKey:
    """Write a new Ed25519 private key to ``path`` (PKCS#8 PEM, mode 0600, never over an existing file); returns its public key."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CheckpointError(f"{path} already exists; a signing key is never overwritten") from None
    except OSError as error:
        raise CheckpointError(f"cannot write the signing key to {path}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return key.public_key()


def load_signing_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file at ``path``."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise CheckpointError(f"cannot read the signing key {path}: {error.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise CheckpointError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} is not an Ed25519 key")
    return key


def public_key_text(key: Ed25519PublicKey) -> str:
    """The one-line form ``yuyue audit keygen`` prints: ``ed25519:`` and the base64 of the raw 32 bytes."""
    return PUBLIC_KEY_PREFIX + base64.b64encode(_raw(key)).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key: names the key in each checkpoint."""
    return hashlib.sha256(_raw(key)).hexdigest()[:16]


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_public_key(given: str) -> Ed25519PublicKey:
    """A public key from ``ed25519:BASE64`` (as keygen prints it), or from a file holding that, a PEM public key, or the PEM private key."""
    text = given.strip()
    if not text.startswith(PUBLIC_KEY_PREFIX):
        try:
            text = Path(given).read_text().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise CheckpointError(f"cannot read the public key {given}: {getattr(error, 'strerror', None) or error}") from None
    if text.startswith(PUBLIC_KEY_PREFIX):
        try:
            return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.removeprefix(PUBLIC_KEY_PREFIX), validate=True))
        except (binascii.Error, ValueError):
            raise CheckpointError(f"{given} is not an Ed25519 public key") from None
    if "PRIVATE KEY" in text:
        return load_signing_key(given).public_key()
    try:
        key = serialization.load_pem_public_key(text.encode())
    except ValueError:
        raise CheckpointError(f"{given} is not an Ed25519 public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{given} is not an Ed25519 public key")
    return key


# --- writing --------------------------------------------------------------------------------


def _signed_bytes(entry: dict[str, Any]) -> bytes:
    return canonical_json({name: value for name, value in entry.items() if name != "signature"}).encode()


def write_checkpoints(session: Session, key: Ed25519PrivateKey, path: str | Path, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Append a signed checkpoint of every tenant whose head moved since its last checkpoint in ``path``; returns them.

    The file is only ever appended to, each batch flushed to disk before returning.
    """
    path = Path(path)
    latest = _latest_per_tenant(path)
    with all_tenants():
        heads = session.execute(
            select(Tenant.id, Tenant.slug, AuditHead.seq, AuditHead.hash).join(AuditHead, AuditHead.tenant_id == Tenant.id).order_by(Tenant.id)
        ).all()
    session.commit()  # end the read before writing the file (unlike rollback it leaves loaded objects usable)
    signer = key_id(key.public_key())
    at = iso_utc(now or utcnow())
    written = []
    for head in heads:
        if head.seq == 0 or latest.get(head.id) == (head.seq, head.hash):
            continue
        entry = {"tenant": head.slug, "tenant_id": head.id, "seq": head.seq, "hash": head.hash, "at": at, "key_id": signer}
        entry["signature"] = base64.b64encode(key.sign(_signed_bytes(entry))).decode()
        written.append(entry)
    try:  # opened even with nothing to add: the file then exists, and a path that cannot be written fails now, not later
        with path.open("a", encoding="utf-8") as file:
            file.writelines(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n" for entry in written)
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        raise CheckpointError(f"cannot append to the checkpoint file {path}: {error.strerror}") from None
    return written


def _latest_per_tenant(path: Path) -> dict[int, tuple[int, str]]:
    """The last (seq, hash) checkpointed per tenant id; an unreadable line is skipped here (verify reports it)."""
    latest: dict[int, tuple[int, str]] = {}
    if not path.exists():
        return latest
    for _, entry in _lines(path):
        if isinstance(entry, dict) and isinstance(entry.get("tenant_id"), int):
            latest[entry["tenant_id"]] = (entry.get("seq"), entry.get("hash"))
    return latest


# --- reading --------------------------------------------------------------------------------


def _lines(path: Path):
    try:
        with path.open(encoding="utf-8") as file:
            for number, line in enumerate(file, start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except ValueError:
                        yield number, None
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointError(f"cannot read the checkpoint file {path}: {getattr(error, 'strerror', None) or error}") from None


@dataclass(frozen=True)
class CheckpointFile:
    """The checkpoints of a file whose signatures hold, by tenant id (``(slug, [Pin, …])``), and what was wrong with the others."""

    pins: dict[int, tuple[str, list[Pin]]]
    findings: list[CheckpointFinding]


def read_checkpoints(path: str | Path, public_key: Ed25519PublicKey) -> CheckpointFile:
    """Read every checkpoint of ``path`` and check its signature against ``public_key``."""
    path = Path(path)
    expected_key = key_id(public_key)
    pins: dict[int, tuple[str, list[Pin]]] = {}
    findings = []
    for number, entry in _lines(path):
        if not isinstance(entry, dict) or entry.keys() != _FIELDS.keys() or not all(_is(entry[name], kind) for name, kind in _FIELDS.items()):
            tenant = entry.get("tenant") if isinstance(entry, dict) and isinstance(entry.get("tenant"), str) else "?"
            findings.append(CheckpointFinding(tenant, None, number, "malformed_checkpoint"))
            continue
        if entry["key_id"] != expected_key or not _signature_holds(public_key, entry):
            findings.append(CheckpointFinding(entry["tenant"], entry["seq"], number, "bad_signature"))
            continue
        pins.setdefault(entry["tenant_id"], (entry["tenant"], []))[1].append(Pin(entry["seq"], entry["hash"], number))
    return CheckpointFile(pins, findings)


def _is(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def _signature_holds(public_key: Ed25519PublicKey, entry: dict[str, Any]) -> bool:
    try:
        public_key.verify(base64.b64decode(entry["signature"], validate=True), _signed_bytes(entry))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
