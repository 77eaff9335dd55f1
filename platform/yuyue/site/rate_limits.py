"""The API's rate limits on the site's forms: whom a limit counts when the request is a posted form, and the page a refused request gets.

The limits themselves are the API's (:func:`yuyue.api.limits.rate_limit`, the same settings), so a
customer cannot get around a limit by switching from the API to the site. The API's key functions
read JSON bodies; these read the form.
"""

from __future__ import annotations

import math
import time

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded

from yuyue.api.limits import LIMITER
from yuyue.customers.operations import normalize_phone
from yuyue.errors import InvalidInput
from yuyue.site.base import error_page, site

__all__ = ["by_form_phone"]


def by_form_phone() -> str:
    """The tenant and the phone the form names (as ``by_phone`` counts the API's body), so the site and the API share one count per number."""
    try:
        phone = normalize_phone(request.form.get("phone", "")[:64])
    except InvalidInput:
        phone = "invalid"  # refused by the view anyway; one shared bucket keeps junk from costing storage
    return f"phone:{g.tenant.id}:{phone}"


@site.errorhandler(RateLimitExceeded)
def _rate_limited(error: RateLimitExceeded) -> Response:
    """A page, not the API's problem document (the application's handler would answer every 429 so)."""
    breached = current_app.extensions[LIMITER].current_limit
    retry_after = max(1, math.ceil(breached.window.reset_time - time.time())) if breached else 1
    message = _("Too many tries. Please wait %(seconds)s seconds and try again.", seconds=retry_after)
    return error_page(429, message, "rate_limited", title=_("Please wait a moment"), headers={"Retry-After": str(retry_after)})
