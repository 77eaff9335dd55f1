"""Customer login sessions: refresh tokens that rotate on every use, reuse detection, logout.

Refresh-token rotation as the OAuth 2.0 Security BCP (RFC 9700 §4.14) and
OAuth 2.1 describe it for public clients. A login starts a *family* with one
token; each refresh uses its token up by compare-and-set and issues the
family's next one, so two requests can never both use one token. A token that
was already used and comes back means a copy exists somewhere (the legitimate
client or an attacker, and the server cannot tell which), so the whole family
is revoked and both must log in again. Logout revokes the family; an account
under a ban gets no new tokens and its family is revoked at the next refresh.
A login lasts at most :data:`LOGIN_LIFETIME`, however often it refreshes, and
the rows of logins that have ended are deleted by :func:`purge_ended_logins`.

Tokens are ``yyr_`` plus 256 random bits; only their SHA-256 digest is stored.
They are looked up in the tenant in context, so a token of another tenant is
simply unknown there.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from yuyue.audit import operations as audit
from yuyue.customers.models import Customer, RefreshToken
from yuyue.customers.operations import SYSTEM_ACTOR, active_bans
from yuyue.db import all_tenants, tenant_scope, write_transaction
from yuyue.errors import DomainError, Refused

__all__ = [
    "LOGIN_LIFETIME",
    "REFRESH_TTL",
    "TOKEN_PREFIX",
    "AccountBanned",
    "InvalidRefreshToken",
    "RefreshTokenReused",
    "end_session",
    "purge_ended_logins",
    "refuse_banned",
    "rotate_refresh_token",
    "start_session",
]

# Idle lifetime: every refresh issues a token that lives this long again,
REFRESH_TTL = timedelta(days=30)
# but never beyond this long after the login: then the customer logs in again.
LOGIN_LIFETIME = timedelta(days=180)
TOKEN_PREFIX = "yyr_"


class InvalidRefreshToken(DomainError):
    """The refresh token is unknown (or of another tenant), expired, or revoked: log in again."""

    code = "invalid_token"


class RefreshTokenReused(InvalidRefreshToken):
    """The refresh token was used before; its whole family has just been revoked."""

    code = "refresh_token_reused"


class AccountBanned(Refused):
    """The customer's account is under a ban and gets no tokens until it ends."""

    code = "banned"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_aware(now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ValueError(f"now must be an aware datetime, got {now!r}")


def _account_ban(session: Session, customer: Customer, now: datetime) -> AccountBanned | None:
    """The refusal for a customer whose account (its id or its own phone) is banned at ``now``, else None."""
    bans = active_bans(session, customer_id=customer.id, phones=[customer.phone] if customer.phone else [], now=now)
    if not bans:
        return None
    return AccountBanned(
        _l("this account is suspended until %(ends_at)s: %(reason)s", ends_at=bans[0].ends_at.isoformat(timespec="minutes"), reason=bans[0].reason)
    )


def refuse_banned(session: Session, customer: Customer, *, now: datetime) -> None:
    """Raise :class:`AccountBanned` when the account is under a ban at ``now``: a login without tokens (the site's) refuses as :func:`start_session` does."""
    refusal = _account_ban(session, customer, now)
    if refusal is not None:
        raise refusal


def _issue(session: Session, customer_id: int, family: str, now: datetime, logged_in_at: datetime) -> str:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = min(now + REFRESH_TTL, logged_in_at + LOGIN_LIFETIME)
    session.add(RefreshToken(customer_id=customer_id, family=family, digest=_digest(secret), issued_at=now, expires_at=expires_at))
    session.flush()
    return secret


def _logged_in_at(session: Session, family: str) -> datetime:
    """When the login began: its first token's issue time (a family keeps its rows until it has ended)."""
    return session.scalar(select(func.min(RefreshToken.issued_at)).where(RefreshToken.family == family))


def _revoke_family(session: Session, family: str, reason: str, now: datetime) -> int:
    return session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount


def start_session(session: Session, customer: Customer, *, now: datetime) -> str:
    """The first refresh token of a new family for ``customer`` (a login).

    :raises AccountBanned: the account is under a ban.
    """
    _check_aware(now)
    with tenant_scope(customer.tenant_id), write_transaction(session) as session:
        refusal = _account_ban(session, customer, now)
        if refusal is None:
            return _issue(session, customer.id, uuid.uuid4().hex, now, logged_in_at=now)
    raise refusal


def rotate_refresh_token(session: Session, secret: str, *, now: datetime) -> tuple[Customer, str]:
    """Use ``secret`` up and return its customer with the family's next refresh token.

    :raises RefreshTokenReused: the token was used before; its family is revoked (and stays so).
    :raises AccountBanned: the account is under a ban; its family is revoked.
    :raises InvalidRefreshToken: the token is unknown here, expired or revoked.
    """
    _check_aware(now)
    digest = _digest(secret) if isinstance(secret, str) and secret.startswith(TOKEN_PREFIX) else None
    failure: DomainError = InvalidRefreshToken(_l("the refresh token is invalid or expired; log in again"))
    if digest is None:
        raise failure
    with write_transaction(session) as session:
        used_now = session.execute(
            update(RefreshToken)
            .where(RefreshToken.digest == digest, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None), RefreshToken.expires_at > now)
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        token = session.scalar(select(RefreshToken).where(RefreshToken.digest == digest).execution_options(populate_existing=True))
        if used_now:
            customer = session.get(Customer, token.customer_id)
            refusal = _account_ban(session, customer, now)
            if refusal is None:
                return customer, _issue(session, customer.id, token.family, now, _logged_in_at(session, token.family))
            _revoke_family(session, token.family, "banned", now)
            failure = refusal
        elif token is not None and token.used_at is not None and token.revoked_at is None:
            # Used before and presented again: whoever holds the family's live token may be the thief.
            _revoke_family(session, token.family, "reused", now)
            audit.record(
                session,
                actor=SYSTEM_ACTOR,
                action="customer.refresh_token_reused",
                subject_type="customer",
                subject_id=token.customer_id,
                data={"family": token.family, "used_at": token.used_at},
            )
            failure = RefreshTokenReused("this refresh token was already used; every session of this login is revoked, log in again")
    # Raised after the transaction commits, so a revocation is kept.
    raise failure


def end_session(session: Session, secret: str, *, now: datetime) -> bool:
    """Log out: revoke the family of ``secret`` (whether or not that token is still live); False if it is unknown here."""
    _check_aware(now)
    if not isinstance(secret, str) or not secret.startswith(TOKEN_PREFIX):
        return False
    with write_transaction(session) as session:
        family = session.scalar(select(RefreshToken.family).where(RefreshToken.digest == _digest(secret)))
        if family is None:
            return False
        _revoke_family(session, family, "logout", now)
    return True


def purge_ended_logins(session: Session, *, now: datetime) -> int:
    """Delete the refresh tokens of every tenant's logins that have ended (every token of the family expired); returns how many.

    A login still running keeps all its rows, used ones too, so a stolen copy
    presented again is still recognised as reuse. Once every token has expired
    nothing of the login can be used or revoked, and keeping its rows would only
    grow the table by one row per customer per quarter hour.
    """
    _check_aware(now)
    with all_tenants(), write_transaction(session) as session:
        ended = select(RefreshToken.family).group_by(RefreshToken.tenant_id, RefreshToken.family).having(func.max(RefreshToken.expires_at) <= now)
        return session.execute(delete(RefreshToken).where(RefreshToken.family.in_(ended)).execution_options(synchronize_session=False)).rowcount
