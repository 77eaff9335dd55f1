"""Voucher codes and signed QR payloads for confirmed bookings."""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeSerializer

# No 0/O, 1/I/L: codes are read aloud and typed at the gate.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31**10 ≈ 8e14 codes: unguessable within any rate limit.
QR_SALT = "yuyue.voucher"


def new_voucher_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    return "".join(code.split()).upper().replace("-", "")


def qr_payload(secret_key: str, tenant_slug: str, public_id: str, code: str) -> str:
    """A signed, compact string for the QR image; the gate verifies it offline of any guessing."""
    return URLSafeSerializer(secret_key, salt=QR_SALT).dumps({"t": tenant_slug, "b": public_id, "c": code})


def read_qr_payload(secret_key: str, payload: str) -> dict[str, str] | None:
    """The payload's fields, or None when the signature does not match."""
    try:
        data = URLSafeSerializer(secret_key, salt=QR_SALT).loads(payload)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and {"t", "b", "c"} <= data.keys() else None
