"""What every page of the customer site shares (decisions §50): the tenant, the theme, the language, the customer, and the page's security.

The site is served at ``/t/<tenant>/``. The tenant is resolved once, before any view runs, and the
request runs in its scope, as the API's do (an unknown tenant is a 404 page, a suspended one a 403
page). Pages are rendered with the tenant's theme (:func:`render_page`). Every ``POST`` carries the
session's CSRF token (a hidden ``csrf_token`` field: ``{{ csrf_field() }}``). Every page is sent with
a Content-Security-Policy that allows no inline script nor inline style and nothing from another
server. Views are thin: they read the form, call the operation the API calls, and render.

The customer: who logged in with a phone code on this browser (:func:`sign_in`), kept in the signed
session cookie per tenant, and which bookings this browser placed as a guest (:func:`remember_booking`),
so a guest's booking token never appears in a URL.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, g, request, send_file, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from yuyue.bookings.models import Booking
from yuyue.customers.models import Customer
from yuyue.customers.operations import logged_in_customer
from yuyue.db import db, tenant_scope
from yuyue.errors import DomainError, Refused
from yuyue.observability.logs import current_request_id
from yuyue.plugins import plugin_host
from yuyue.presenting.catalogs import CATALOG_LOCALES, LOCALE_COOKIE, locale_tag
from yuyue.provisioning.appearance import theme_in_use
from yuyue.site.theming import ThemeEnvironments, theme_static_file
from yuyue.tenancy.models import Tenant, TenantStatus
from yuyue.tenancy.queries import get_tenant

__all__ = [
    "SITE_POLICY",
    "assets",
    "current_tenant",
    "error_page",
    "may_see_booking",
    "remember_booking",
    "render_page",
    "sign_in",
    "sign_out",
    "signed_in_customer",
    "site",
    "tenant_theme",
]

log = logging.getLogger(__name__)

site = Blueprint("site", __name__, url_prefix="/t/<slug:tenant_slug>")
assets = Blueprint("site_assets", __name__)

SITE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)
HEADERS = {"Content-Security-Policy": SITE_POLICY, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Writes authorised by a signed token in their URL, not by the browser's session: RFC 8058's one-click unsubscribe comes from a mail client.
TOKEN_AUTHORISED_ENDPOINTS = frozenset({"site.unsubscribe"})
# How long a browser keeps a theme's files: a day (a new release may change them; no fingerprints in the URLs).
STATIC_MAX_AGE = 86400
LANGUAGE_NAMES = {"zh_Hans": "简体中文", "zh_Hant": "繁體中文", "en": "English"}


# --- the tenant -----------------------------------------------------------------------------------


@site.url_value_preprocessor
def _enter_tenant(endpoint: str | None, values: dict[str, Any] | None) -> None:
    tenant = get_tenant(db.session, (values or {}).pop("tenant_slug", ""))
    g.tenant = tenant
    if tenant.status is not TenantStatus.active:
        raise Refused(_("%(name)s is not taking bookings at the moment.", name=tenant.name), code="tenant_suspended")
    g.site_scope = ExitStack()
    g.site_scope.enter_context(tenant_scope(tenant.id))


@site.url_defaults
def _tenant_of_the_page(endpoint: str, values: dict[str, Any]) -> None:
    tenant = g.get("tenant")
    if tenant is not None and "tenant_slug" not in values:
        values["tenant_slug"] = tenant.slug


@site.teardown_request
def _leave_tenant(error: BaseException | None) -> None:
    scope: ExitStack | None = g.pop("site_scope", None)
    g.pop("site_customer", None)  # read afresh by the next request, even one sharing this application context (tests)
    if scope is not None:
        scope.close()


def current_tenant() -> Tenant:
    return g.tenant


def tenant_theme(tenant: Tenant | None) -> str:
    """The key of the theme ``tenant`` chose (``default`` until it chooses, for a page of no tenant, and once its theme is uninstalled)."""
    return theme_in_use(tenant, plugin_host().themes)


# --- the page's security ----------------------------------------------------------------------------


@site.before_request
def _check_csrf() -> None:
    """Every write carries the session's CSRF token; a page left open past the token's life says so and keeps nothing."""
    if request.method not in _WRITES or not current_app.config.get("WTF_CSRF_ENABLED", True) or request.endpoint in TOKEN_AUTHORISED_ENDPOINTS:
        return
    try:
        validate_csrf(request.form.get("csrf_token", ""))
    except ValidationError:
        raise CSRFError(_("This page has expired. Go back, reload the page and try again.")) from None


@site.after_request
def _send_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    chosen = request.args.get("lang", "").replace("-", "_")
    if chosen in CATALOG_LOCALES:
        # ?lang= is the reader's explicit choice: it holds for the next pages too.
        response.set_cookie(
            LOCALE_COOKIE, chosen, max_age=365 * 86400, secure=current_app.config.get("SESSION_COOKIE_SECURE", False), httponly=True, samesite="Lax"
        )
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(generate_csrf())


# --- errors as pages --------------------------------------------------------------------------------


def error_page(status: int, message: str, code: str, *, title: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """The error page: what went wrong, and the request's id as a reference the customer can quote to the merchant (who finds it in the logs)."""
    return render_page(
        "site/error.html", status=status, headers=headers, title=title or _("Sorry"), message=message, code=code, request_id=current_request_id()
    )


@site.errorhandler(DomainError)
def _domain_error(error: DomainError) -> Response:
    status = 403 if error.code == "tenant_suspended" else error.http_status
    return error_page(status, str(error.message), error.code)


@site.errorhandler(429)  # before the API's problem document for a refused rate limit, which Flask would pick by code
@site.errorhandler(HTTPException)
def http_error_page(error: HTTPException) -> Response:
    status = error.code or 500
    message = (
        str(error.description) if isinstance(error, CSRFError) else _("This page does not exist.") if status == 404 else _("This request cannot be served.")
    )
    return error_page(status, message, str(status))


@site.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    """A bug or an outage: logged with its traceback (the record carries the request id the page shows), then the error page.

    The session is rolled back first: a failed statement leaves it unusable (PostgreSQL), and the page reads the customer.
    """
    log.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return error_page(500, _("Something went wrong on our side. It has been logged; please try again later."), "internal_error")


# --- the customer -----------------------------------------------------------------------------------


def _customer_state(create: bool = False) -> dict[str, Any]:
    """This browser's state at the current tenant, in the signed session cookie: ``{"customer": id, "bookings": [...]}``."""
    key = str(current_tenant().id)
    state = session.get("site", {}).get(key)
    if state is None and create:
        state = {}
        session["site"] = {**session.get("site", {}), key: state}
    return state or {}


def _save_state(state: dict[str, Any]) -> None:
    session["site"] = {**session.get("site", {}), str(current_tenant().id): state}


def signed_in_customer() -> Customer | None:
    """The customer who logged in on this browser at the current tenant, or None (never logged in, logged out, or gone)."""
    if "site_customer" not in g:
        customer_id = _customer_state().get("customer")
        g.site_customer = logged_in_customer(db.session, customer_id) if isinstance(customer_id, int) else None
    return g.site_customer


def sign_in(customer: Customer) -> None:
    """Remember ``customer`` on this browser; a fresh session (the old one's data, a guest's bookings included, carried over)."""
    state = dict(_customer_state())
    state["customer"] = customer.id
    _save_state(state)
    g.site_customer = customer


def sign_out() -> None:
    state = dict(_customer_state())
    state.pop("customer", None)
    state.pop("bookings", None)
    _save_state(state)
    g.site_customer = None


# A guest keeps the last bookings they placed on this browser (the cookie has room for a few).
GUEST_BOOKINGS_KEPT = 20


def remember_booking(booking: Booking) -> None:
    """Let this browser see ``booking`` again without logging in (a guest's booking; the session cookie holds it, never a URL)."""
    state = dict(_customer_state())
    kept = [public_id for public_id in state.get("bookings", []) if public_id != booking.public_id]
    state["bookings"] = [booking.public_id, *kept][:GUEST_BOOKINGS_KEPT]
    _save_state(state)


def may_see_booking(booking: Booking) -> bool:
    """The signed-in customer's own booking, or one this browser placed."""
    customer = signed_in_customer()
    if customer is not None and booking.customer_id == customer.id:
        return True
    return booking.public_id in _customer_state().get("bookings", [])


# --- rendering --------------------------------------------------------------------------------------


def _language_links() -> list[dict[str, Any]]:
    current = str(get_locale())
    args = {key: value for key, value in request.args.items() if key != "lang"}
    return [
        {
            "locale": locale,
            "tag": locale.replace("_", "-"),
            "name": LANGUAGE_NAMES[locale],
            "current": locale == current,
            "url": f"{request.path}?{urlencode({**args, 'lang': locale})}",
        }
        for locale in CATALOG_LOCALES
    ]


def _theme_static(filename: str) -> str:
    return url_for("site_assets.theme_file", key=tenant_theme(g.get("tenant")), filename=filename)


def page_context() -> dict[str, Any]:
    """What every page's template may use, beside the view's own values.

    ``tenant`` is None on the page that says a tenant does not exist; ``customer`` is None outside the tenant's scope (its error pages).
    """
    tenant = g.get("tenant")
    return {
        "tenant": tenant,
        "theme_key": tenant_theme(tenant),
        "lang": locale_tag(),
        "languages": _language_links(),
        "customer": signed_in_customer() if "site_scope" in g else None,
        "csrf_field": csrf_field,
        "theme_static": _theme_static,
    }


def render_page(template: str, *, status: int = 200, headers: dict[str, str] | None = None, **context: Any) -> Response:
    """``template`` rendered with the tenant's theme (falling back to ``default`` for what the theme leaves out)."""
    environments: ThemeEnvironments = current_app.extensions["yuyue.site_themes"]
    values = {**page_context(), **context}
    current_app.update_template_context(values)
    html = environments.get(tenant_theme(g.get("tenant"))).get_template(template).render(values)
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(headers or {})
    return response


# --- the themes' files ------------------------------------------------------------------------------


@assets.get("/themes/<name:key>/<path:filename>")
def theme_file(key: str, filename: str) -> Response:
    found = theme_static_file(current_app._get_current_object(), key, filename)
    if found is None:
        abort(404)
    return send_file(found, max_age=STATIC_MAX_AGE)
