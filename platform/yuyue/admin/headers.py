"""What the browser is told about the admin's pages: a Content-Security-Policy and two more headers.

No page of the admin, nor Flask-AppBuilder's own (the login page, the user screens), may run a
script it did not load from this server: ``script-src 'self'`` without ``'unsafe-inline'``.
Flask-AppBuilder's few inline scripts already carry a nonce when the template has a
``csp_nonce()`` (its ``baselib.get_nonce``); this module provides one, and a page that asked for
one gets ``'nonce-…'`` in its policy. Styles may be inline (``style=""`` attributes are all over
Flask-AppBuilder's templates, and server-drawn SVG charts carry their own): a style cannot run code.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

__all__ = ["ADMIN_POLICY", "init_security_headers"]

ADMIN_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def csp_nonce() -> str:
    """This response's script nonce (one per request), for the inline scripts of Flask-AppBuilder's templates."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _is_page(blueprints: frozenset[str]) -> bool:
    """An admin page or one of Flask-AppBuilder's views (its login page and user screens), not the API, its docs or a file."""
    if request.path.startswith("/admin/"):
        return True
    if request.path.startswith(("/api/", "/swagger")) or request.endpoint is None or request.endpoint.endswith(".static"):
        return False
    return request.blueprint in blueprints


def _policy(nonce: str | None) -> str:
    directives = list(ADMIN_POLICY)
    if nonce is not None:
        directives[1] += f" 'nonce-{nonce}'"
    return "; ".join(directives)


def init_security_headers(app: Flask) -> None:
    """Send the policy and headers with every admin and Flask-AppBuilder page (after ``AppBuilder.init_app``)."""
    blueprints = frozenset(view.blueprint.name for view in app.appbuilder.baseviews if getattr(view, "blueprint", None) is not None)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    # ``g`` outlives a request where an app context was already pushed (tests): a nonce is never reused.
    app.before_request(lambda: g.pop("csp_nonce", None))

    @app.after_request
    def _send_headers(response: Response) -> Response:
        if _is_page(blueprints):
            response.headers.setdefault("Content-Security-Policy", _policy(g.get("csp_nonce")))
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
        return response
