"""Who is calling a tenant's API: customers (JWT access tokens), guests (per-booking tokens), staff (API tokens).

Customer access tokens are short-lived JWTs signed with the application's
secret key and bound to one tenant, checked without a database read; refresh
tokens are opaque, stored (hashed) and rotated on every use
(:mod:`yuyue.customers.sessions`). A guest who booked without logging in gets
a token for that booking only.
Staff use API tokens issued by ``yuyue tokens create --tenant``, honoured only
under their own tenant's paths and only up to their role.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

import jwt
from flask import current_app, g, request
from flask_babel import lazy_gettext as _l

from yuyue.api.core import bearer_secret
from yuyue.api.problems import ApiProblem
from yuyue.api.tenant import current_tenant
from yuyue.bookings.models import Booking
from yuyue.customers import sessions
from yuyue.customers.models import Customer
from yuyue.customers.operations import logged_in_customer
from yuyue.db import db
from yuyue.provisioning.operations import TOKEN_PREFIX, authenticate_token
from yuyue.tenancy.models import ROLE_RANK, StaffRole, TokenKind
from yuyue.types import utcnow

ACCESS_TTL = timedelta(minutes=15)
BOOKING_TOKEN_TTL = timedelta(days=90)
ALGORITHM = "HS256"


def _encode(claims: dict[str, Any], ttl: timedelta) -> str:
    now = utcnow()
    return jwt.encode({**claims, "iat": now, "exp": now + ttl}, current_app.config["SECRET_KEY"], algorithm=ALGORITHM)


def _decode(token: str, expected_type: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired token of ``expected_type`` for the current tenant, or None."""
    try:
        claims = jwt.decode(token, current_app.config["SECRET_KEY"], algorithms=[ALGORITHM])
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != expected_type or claims.get("tid") != current_tenant().id:
        return None
    return claims


def request_now() -> datetime:
    """The current time; ``CLOCK`` (a callable returning an aware datetime) replaces it in tests."""
    return current_app.config.get("CLOCK", utcnow)()


def access_token(customer: Customer) -> str:
    """A stateless access token for ``customer``, valid for :data:`ACCESS_TTL` under its tenant's paths."""
    return _encode({"sub": str(customer.id), "tid": customer.tenant_id, "typ": "access"}, ACCESS_TTL)


def _token_pair(customer: Customer, refresh_token: str) -> dict[str, Any]:
    return {
        "access_token": access_token(customer),
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_TTL.total_seconds()),
    }


def _banned(error: sessions.AccountBanned) -> ApiProblem:
    return ApiProblem(403, error.code, error.lazy_message)


def customer_tokens(customer: Customer) -> dict[str, Any]:
    """Log ``customer`` in: an access token and the first refresh token of a new family; 403 ``banned`` for a banned account."""
    try:
        refresh_token = sessions.start_session(db.session, customer, now=request_now())
    except sessions.AccountBanned as error:
        raise _banned(error) from None
    return _token_pair(customer, refresh_token)


def rotated_tokens(refresh_token: str) -> dict[str, Any]:
    """A new pair for a live refresh token of this tenant, which is used up.

    401 ``invalid_token`` for an unknown (or other tenant's), expired or revoked
    token; 401 ``refresh_token_reused`` when it was used before (its family is
    revoked); 403 ``banned`` when the account is banned (its family is revoked).
    """
    try:
        customer, new_refresh_token = sessions.rotate_refresh_token(db.session, refresh_token, now=request_now())
    except sessions.AccountBanned as error:
        raise _banned(error) from None
    except sessions.InvalidRefreshToken as error:
        raise ApiProblem(401, error.code, error.lazy_message) from None
    return _token_pair(customer, new_refresh_token)


def booking_token(booking: Booking) -> str:
    """A token that lets a guest read and manage one booking, and nothing else."""
    return _encode({"typ": "booking", "tid": booking.tenant_id, "bid": booking.public_id}, BOOKING_TOKEN_TTL)


def customer_id_from_request() -> int | None:
    """The id of the customer whose valid access token of this tenant the request carries, else None; never raises."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    claims = _decode(secret.strip(), "access") if scheme.lower() == "bearer" and secret.strip() else None
    return int(claims["sub"]) if claims else None


def _customer_from_request() -> Customer | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    secret = bearer_secret()
    claims = _decode(secret, "access")
    customer = logged_in_customer(db.session, int(claims["sub"])) if claims else None
    if customer is None:
        raise ApiProblem(
            401,
            "invalid_token",
            _l("the access token is invalid or expired; refresh it or log in again"),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return customer


def customer_optional(view: Callable[..., Any]) -> Callable[..., Any]:
    """``g.customer`` is the logged-in customer, or None for a guest; a bad token is still a 401."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.customer = _customer_from_request()
        return view(*args, **kwargs)

    return wrapper


def customer_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only a logged-in customer of this tenant may call ``view``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.customer = _customer_from_request()
        if g.customer is None:
            raise ApiProblem(401, "unauthorized", _l("log in first: send 'Authorization: Bearer <access token>'"), headers={"WWW-Authenticate": "Bearer"})
        return view(*args, **kwargs)

    return wrapper


def may_access_booking(booking: Booking) -> bool:
    """The booking's own customer, or a guest holding its booking token (``X-Booking-Token``)."""
    customer = g.get("customer")
    if customer is not None and customer.id == booking.customer_id:
        return True
    token = request.headers.get("X-Booking-Token")
    claims = _decode(token, "booking") if token else None
    return bool(claims and claims.get("bid") == booking.public_id)


def staff_required(role: StaffRole = StaffRole.staff) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only a staff token of this tenant with at least ``role`` may call the view; ``g.staff_token`` is it."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            secret = bearer_secret()
            token = authenticate_token(db.session, secret) if secret.startswith(TOKEN_PREFIX) else None
            if token is None:
                raise ApiProblem(401, "invalid_token", _l("the API token is unknown or revoked"), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            if token.kind is not TokenKind.staff or token.tenant_id != current_tenant().id:
                raise ApiProblem(403, "forbidden", _l("this endpoint needs a staff token of this tenant"))
            if ROLE_RANK[token.role] < ROLE_RANK[role]:
                raise ApiProblem(403, "forbidden", _l("this endpoint needs the %(role)s role or higher", role=role.value))
            g.staff_token = token
            return view(*args, **kwargs)

        return wrapper

    return decorate
