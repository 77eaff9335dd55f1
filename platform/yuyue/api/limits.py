"""Rate limits on the API (Flask-Limiter): code sending, login and booking creation.

Views are marked with :func:`rate_limit` (or the ready-made :data:`booking_limit`)
when their module is imported; :func:`init_limits` gives each application its
own ``Limiter`` and applies the marks to that application's view functions, so
no limiter object is shared between applications or tests. Counters live where
every gunicorn worker sees them: in Redis when ``YUYUE_REDIS_URL`` is set, else
in ``rate-limits.db`` in the instance folder (:mod:`yuyue.api.limit_storage`),
which holds for one machine. Limits are moving windows, so "30/minute" means at
most 30 in any 60 seconds. A refused request answers 429 ``rate_limited`` as a
problem document with ``Retry-After``.

Settings (Flask config): ``RATELIMIT_ENABLED``, ``RATELIMIT_STORAGE_URI``,
``RATELIMIT_STRATEGY``, ``RATELIMIT_KEY_PREFIX`` (Flask-Limiter's own), and the
limit strings below.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from yuyue.api import limit_storage  # registers the yuyue-sqlite:// scheme with `limits`
from yuyue.api.auth import customer_id_from_request
from yuyue.api.body import json_body_or_none
from yuyue.api.problems import problem_response
from yuyue.customers.operations import normalize_phone
from yuyue.errors import InvalidInput
from yuyue.observability.metrics import record_rate_limited

__all__ = [
    "DEFAULT_LIMITS",
    "RateLimit",
    "booking_limit",
    "by_address",
    "by_customer_or_address",
    "by_phone",
    "feedback_limit",
    "init_limits",
    "rate_limit",
    "rate_limit_settings",
]

log = logging.getLogger(__name__)

LIMITER = "yuyue.limiter"
_MARKS = "__yuyue_rate_limits__"

# Flask-Limiter notation ("5/hour;10/day"). Per address limits are loose: mobile carriers put many people behind one IP.
DEFAULT_LIMITS: dict[str, str] = {
    "RATELIMIT_AUTH_CODE_PER_PHONE": "5/hour;10/day",
    "RATELIMIT_AUTH_CODE_PER_ADDRESS": "60/hour",
    "RATELIMIT_AUTH_LOGIN": "30/minute",
    "RATELIMIT_BOOKING": "30/minute",
    "RATELIMIT_FEEDBACK": "10/hour",
}


def rate_limit_settings(env: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Flask config for rate limits from the environment: on unless ``YUYUE_RATELIMIT_ENABLED=0``, moving windows, in Redis when ``YUYUE_REDIS_URL`` is set.

    Without Redis, ``RATELIMIT_STORAGE_URI`` is left out: the application counts in
    its instance folder (:func:`yuyue.api.limit_storage.node_storage_uri`). These must be in the config
    before Flask-AppBuilder starts, which builds a limiter of its own from the same keys.
    """
    settings: dict[str, Any] = {
        "RATELIMIT_ENABLED": env.get("YUYUE_RATELIMIT_ENABLED", "1").strip().lower() not in {"0", "false", "no", "off"},
        "RATELIMIT_STRATEGY": "moving-window",
    }
    if env.get("YUYUE_REDIS_URL"):
        settings["RATELIMIT_STORAGE_URI"] = env["YUYUE_REDIS_URL"]
    if env.get("YUYUE_RATELIMIT_KEY_PREFIX"):
        settings["RATELIMIT_KEY_PREFIX"] = env["YUYUE_RATELIMIT_KEY_PREFIX"]
    return settings


# -- whom a limit counts -------------------------------------------------------------------------


def by_address() -> str:
    return f"address:{get_remote_address()}"


def by_phone() -> str:
    """The tenant and the phone the body names, so one number cannot be flooded with codes from many addresses."""
    body = json_body_or_none()
    phone = body.get("phone") if isinstance(body, dict) else None
    try:
        phone = normalize_phone(phone)
    except InvalidInput:
        phone = "invalid"  # refused by the view anyway; one shared bucket keeps junk from costing storage
    return f"phone:{g.tenant.id}:{phone}"


def by_customer_or_address() -> str:
    """The logged-in customer (whatever address they come from), else the address."""
    customer_id = customer_id_from_request()
    return f"customer:{customer_id}" if customer_id is not None else by_address()


# -- marking views -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    """A limit named by a config key (its value a Flask-Limiter limit string), counted per ``key()`` across every view it marks."""

    setting: str
    key: Callable[[], str] = by_address
    # The methods counted (None: every one), for a page whose GET shows the form its POST sends.
    methods: tuple[str, ...] | None = None

    def value(self) -> str:
        return current_app.config.get(self.setting) or DEFAULT_LIMITS[self.setting]


def rate_limit(
    setting: str, key: Callable[[], str] = by_address, *, methods: tuple[str, ...] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a view to be limited by ``config[setting]`` per ``key()`` (only ``methods``, if given); stack several for several limits.

    Place it anywhere under the route decorator: ``functools.wraps`` carries the
    mark to the outer view, and the check runs before the view and its other decorators.
    """
    if setting not in DEFAULT_LIMITS:
        raise ValueError(f"unknown rate limit setting {setting!r}; add a default to DEFAULT_LIMITS")

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view.__dict__[_MARKS] = (*view.__dict__.get(_MARKS, ()), RateLimit(setting, key, methods))
        return view

    return mark


booking_limit = rate_limit("RATELIMIT_BOOKING", by_customer_or_address)
"""For ``POST bookings``: ``RATELIMIT_BOOKING`` per logged-in customer, or per address for guests."""
feedback_limit = rate_limit("RATELIMIT_FEEDBACK", by_customer_or_address)
"""For reviews and feedback: ``RATELIMIT_FEEDBACK`` writes per customer, so an inbox cannot be flooded."""


# -- the application's limiter -------------------------------------------------------------------


def init_limits(app: Flask) -> Limiter | None:
    """Give ``app`` a limiter and apply every marked view's limits; call after all blueprints are registered.

    With ``RATELIMIT_ENABLED`` false nothing is wrapped and requests pay nothing.
    """
    for setting, value in DEFAULT_LIMITS.items():
        app.config.setdefault(setting, value)
    if not app.config.get("RATELIMIT_ENABLED"):
        return None
    storage = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or limit_storage.node_storage_uri(app.instance_path)
    if storage.startswith("memory:") and not app.testing:
        log.warning("rate limits are counted in memory, once per process: each gunicorn worker lets the full limit through")
    limiter = Limiter(by_address, storage_uri=storage, key_prefix=app.config.get("RATELIMIT_KEY_PREFIX") or "yuyue", headers_enabled=False)
    limiter.init_app(app)
    app.extensions[LIMITER] = limiter
    for endpoint, view in list(app.view_functions.items()):
        limited = view
        for mark in getattr(view, _MARKS, ()):
            # One count per setting and key, whichever views it marks: the site's login form and the API's login endpoint
            # take from the same allowance, so switching between them gains nothing.
            limited = limiter.shared_limit(mark.value, mark.setting, key_func=mark.key, methods=list(mark.methods) if mark.methods else None)(limited)
        app.view_functions[endpoint] = limited

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(error: RateLimitExceeded) -> Response:
        breached = limiter.current_limit
        # Every limit is a shared one named by its setting (rate_limit above): a bounded label.
        record_rate_limited(error.limit.scope if isinstance(error.limit.scope, str) else "other")
        # The window's own reset time (Flask-Limiter's reset_at adds a second): the first moment a request would pass again.
        retry_after = max(1, math.ceil(breached.window.reset_time - time.time())) if breached else 1
        if breached:
            detail = _l(
                "too many requests (at most %(amount)s in %(seconds)s s); try again in %(retry)s s",
                amount=breached.limit.amount,
                seconds=breached.limit.get_expiry(),
                retry=retry_after,
            )
        else:
            detail = _l("too many requests; try again in %(retry)s s", retry=retry_after)
        return problem_response(429, "rate_limited", detail, headers={"Retry-After": str(retry_after)})

    return limiter
