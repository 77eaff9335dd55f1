"""Customer login: one-time codes sent to a mainland mobile, and finding the customer behind a WeChat openid.

A phone has at most one live code. Issuing and accepting a code are each one
conditional UPDATE (compare-and-set), so two concurrent requests can neither
both send a code within the resend interval nor both log in with one code, on
SQLite and PostgreSQL alike. Codes are kept only as an HMAC keyed with the
application's secret, the tenant and the phone.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from yuyue.audit import operations as audit
from yuyue.customers.models import Customer, LoginCode
from yuyue.customers.operations import SYSTEM_ACTOR, customer_for_phone, normalize_phone
from yuyue.db import current_tenant_id, insert_unless_exists, write_transaction
from yuyue.errors import DomainError, FieldProblem, InvalidInput

__all__ = [
    "CODE_DIGITS",
    "CODE_TTL",
    "MAX_ATTEMPTS",
    "RESEND_AFTER",
    "CodeRecentlySent",
    "InvalidCode",
    "IssuedCode",
    "TooManyAttempts",
    "customer_for_wechat_openid",
    "issue_login_code",
    "login_with_code",
    "normalize_mobile",
    "withdraw_login_code",
]

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
RESEND_AFTER = timedelta(seconds=60)
MAX_ATTEMPTS = 5
_CN_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_CODE = re.compile(rf"^[0-9]{{{CODE_DIGITS}}}$")


class CodeRecentlySent(DomainError):
    """A code was sent to this phone less than :data:`RESEND_AFTER` ago."""

    code = "code_recently_sent"

    def __init__(self, retry_after: int):
        super().__init__(_l("a code was sent to this phone moments ago; ask again in %(seconds)s s", seconds=retry_after))
        self.retry_after = retry_after


class InvalidCode(DomainError):
    """The code is wrong, expired, already used, or was never sent."""

    code = "invalid_code"


class TooManyAttempts(DomainError):
    """The code was guessed at :data:`MAX_ATTEMPTS` times; only a new code can log in."""

    code = "too_many_attempts"


@dataclass(frozen=True)
class IssuedCode:
    phone: str
    code: str
    expires_at: datetime
    resend_at: datetime


def normalize_mobile(phone: str, pointer: str = "/phone") -> str:
    """A mainland mobile number in its one spelling (see :func:`normalize_phone`); only mobiles receive codes."""
    compact = normalize_phone(phone, pointer)
    if not _CN_MOBILE.match(compact):
        raise InvalidInput(
            _l("the phone number is not a mainland mobile"), errors=[FieldProblem(pointer, _l("enter a mobile number, e.g. 13800138000"), "invalid_phone")]
        )
    return compact


def _digest(secret: str, phone: str, code: str) -> str:
    message = f"{current_tenant_id()}:{phone}:{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _check_aware(now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ValueError(f"now must be an aware datetime, got {now!r}")


def issue_login_code(session: Session, phone: str, *, secret: str, now: datetime) -> IssuedCode:
    """A new code for ``phone`` of the tenant in context, replacing any earlier one.

    Raises :class:`CodeRecentlySent` (with ``retry_after`` seconds) if the last
    code is younger than :data:`RESEND_AFTER`. The caller sends the code.
    """
    _check_aware(now)
    phone = normalize_mobile(phone)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    values = {"code_hash": _digest(secret, phone, code), "attempts": 0, "created_at": now, "expires_at": now + CODE_TTL, "used_at": None}
    with write_transaction(session) as session:
        replaced = session.execute(
            update(LoginCode)
            .where(LoginCode.phone == phone, LoginCode.created_at <= now - RESEND_AFTER)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if (
            not replaced
            and insert_unless_exists(session, LoginCode, {"tenant_id": current_tenant_id(), "phone": phone, **values}, ["tenant_id", "phone"]) is None
        ):
            last_sent = session.scalar(select(LoginCode.created_at).where(LoginCode.phone == phone))
            wait = (last_sent + RESEND_AFTER - now).total_seconds() if last_sent else RESEND_AFTER.total_seconds()
            raise CodeRecentlySent(max(1, math.ceil(wait)))
    return IssuedCode(phone, code, now + CODE_TTL, now + RESEND_AFTER)


def withdraw_login_code(session: Session, issued: IssuedCode, *, secret: str) -> None:
    """Forget a code that could not be delivered, so the customer may ask again at once."""
    with write_transaction(session) as session:
        session.execute(
            delete(LoginCode)
            .where(LoginCode.phone == issued.phone, LoginCode.code_hash == _digest(secret, issued.phone, issued.code))
            .execution_options(synchronize_session=False)
        )


def login_with_code(session: Session, phone: str, code: str, *, secret: str, now: datetime) -> Customer:
    """The customer with ``phone`` (created on first login) if ``code`` is the phone's live code; it is used up.

    Raises :class:`InvalidCode` for a wrong, expired, used or unknown code and
    :class:`TooManyAttempts` once the code was guessed at :data:`MAX_ATTEMPTS` times.
    A wrong guess is counted even though the call fails.
    """
    _check_aware(now)
    phone = normalize_mobile(phone)
    live = (LoginCode.phone == phone, LoginCode.used_at.is_(None), LoginCode.expires_at > now, LoginCode.attempts < MAX_ATTEMPTS)
    failure: DomainError
    with write_transaction(session) as session:
        if isinstance(code, str) and _CODE.match(code):
            accepted = session.execute(
                update(LoginCode)
                .where(*live, LoginCode.code_hash == _digest(secret, phone, code))
                .values(used_at=now, attempts=LoginCode.attempts + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if accepted:
                return customer_for_phone(session, phone)
        counted = session.execute(update(LoginCode).where(*live).values(attempts=LoginCode.attempts + 1).execution_options(synchronize_session=False)).rowcount
        if counted:
            failure = InvalidCode(_l("the code is not right"))
        else:
            row = session.execute(select(LoginCode.attempts, LoginCode.used_at, LoginCode.expires_at).where(LoginCode.phone == phone)).one_or_none()
            exhausted = row is not None and row.used_at is None and row.expires_at > now and row.attempts >= MAX_ATTEMPTS
            failure = (
                TooManyAttempts(_l("too many wrong codes; ask for a new one")) if exhausted else InvalidCode(_l("the code is wrong, expired or already used"))
            )
    # Raised after the transaction commits, so the counted attempt is kept.
    raise failure


def customer_for_wechat_openid(session: Session, openid: str, *, actor: str = SYSTEM_ACTOR) -> Customer:
    """The tenant's customer with this WeChat openid, created (without a phone) if there is none; safe against a concurrent create."""
    if not isinstance(openid, str) or not 1 <= len(openid) <= Customer.__table__.c.wechat_openid.type.length:
        raise InvalidInput(
            _l("the WeChat openid is not valid"), errors=[FieldProblem("/openid", _l("an openid of 1-64 characters is required"), "invalid_openid")]
        )
    with write_transaction(session) as session:
        created_id = insert_unless_exists(session, Customer, {"tenant_id": current_tenant_id(), "wechat_openid": openid}, ["tenant_id", "wechat_openid"])
        customer = session.scalar(select(Customer).where(Customer.wechat_openid == openid))
        if created_id is not None:
            audit.touched(session, customer)
            audit.record(session, actor=actor, action="customer.created", subject_type="customer", subject_id=customer.id, data={"wechat": True})
    return customer
