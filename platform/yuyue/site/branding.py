"""A tenant's look on its pages (decisions §53): its brand colour as a stylesheet of its own, and its logo.

The Content-Security-Policy allows no inline style, so the brand colour cannot be written into the
page: ``/t/<tenant>/brand.css`` sets the theme's ``--accent`` to it and ``--accent-text`` to black or
white, whichever reads better on it (WCAG contrast). The logo is served from the database at
``/t/<tenant>/logo`` with the media type its bytes were recognised as, so every application node
serves the same file. Both answer conditional requests by ETag, and the page links them with a
version in the query, so a change shows at once while an unchanged file is never fetched twice.
"""

from __future__ import annotations

import hashlib

from flask import Response, abort, request
from sqlalchemy import select

from yuyue.db import db
from yuyue.provisioning.appearance import BRAND_COLOUR
from yuyue.site.base import current_tenant, site
from yuyue.tenancy.models import Tenant

__all__ = ["accent_text", "brand_css", "logo"]

# How long a browser uses its copy before asking again (by ETag): the page's link changes when the file does.
BRAND_MAX_AGE = 300
DARK_TEXT, LIGHT_TEXT = "#111111", "#ffffff"


def _luminance(colour: str) -> float:
    """The relative luminance of ``#rrggbb`` (WCAG 2.x)."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def _contrast(one: float, other: float) -> float:
    light, dark = max(one, other), min(one, other)
    return (light + 0.05) / (dark + 0.05)


def accent_text(colour: str) -> str:
    """The text colour for a button of ``colour``: white or near-black, whichever contrasts more with it."""
    background = _luminance(colour)
    return LIGHT_TEXT if _contrast(background, _luminance(LIGHT_TEXT)) >= _contrast(background, _luminance(DARK_TEXT)) else DARK_TEXT


def _cached(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = BRAND_MAX_AGE
    return response.make_conditional(request)


@site.get("/brand.css")
def brand_css() -> Response:
    """The tenant's brand colour over its theme's accent; empty (the theme's own colours) when it has none."""
    colour = current_tenant().brand_colour
    # Only a colour the operation accepted is written into CSS, whatever else a row may hold.
    if colour and BRAND_COLOUR.fullmatch(colour):
        body = f":root {{ --accent: {colour}; --accent-text: {accent_text(colour)}; }}\n"
    else:
        body = "/* the theme's own colours */\n"
    return _cached(Response(body, mimetype="text/css"), hashlib.sha256(body.encode()).hexdigest()[:32])


@site.get("/logo")
def logo() -> Response:
    tenant = current_tenant()
    if tenant.logo_digest is None:
        abort(404)
    data = db.session.scalar(select(Tenant.logo).where(Tenant.id == tenant.id))
    if data is None:
        abort(404)
    response = Response(data, mimetype=tenant.logo_type)
    response.headers["Content-Disposition"] = "inline"
    return _cached(response, tenant.logo_digest)
