"""Who may reach which admin page, generated from the registered views: no page is left out because nobody listed it.

Every URL rule of every registered :class:`TenantAdminView` and :class:`OperatorView` is called
with each of its methods, and its least role is read from the view (``min_role``) and the method
(``@requires``):

- signed out, every rule sends the visitor to the login page;
- a user of tenant B only gets 404 under tenant A's prefix, as if tenant A did not exist;
- ``staff-a`` gets 403 where the least role is manager or owner, ``manager-a`` where it is owner,
  and the least role itself gets the page (so the refusals are the role's, not a broken URL);
- operator pages refuse every merchant user with 403;
- a rule naming an object is called under tenant A with tenant B's object (``ID_SOURCES`` maps each
  URL parameter name to one): 404 for tenant A's users.

Then a crawl: ``owner-a`` opens every parameterless page and every link on the pages under
``/admin/t/tenant-a/``, while tenant B's rows carry a marker that must never appear.

A view with a new kind of URL parameter fails here until it is added to ``ID_SOURCES``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from flask_appbuilder import expose
from sqlalchemy import select
from tenant_setup import make_booking_type, make_coach, windows
from werkzeug.test import TestResponse

from yuyue.admin.base import OperatorView, TenantAdminView, requires
from yuyue.bookings.customer_records import impose_ban
from yuyue.bookings.placement import SYSTEM
from yuyue.catalog.models import BookingType
from yuyue.catalog.stops import create_stop
from yuyue.credits.operations import create_package
from yuyue.db import all_tenants, db, tenant_scope, write_transaction
from yuyue.events import webhooks
from yuyue.events.models import Delivery, DeliveryKind, DeliveryStatus
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_token, get_tenant, set_tenant_plugins
from yuyue.tenancy.models import ROLE_RANK, StaffRole, TokenKind
from yuyue.types import utcnow

PASSWORD = "pass-word-1"  # the admin conftest's
_CSRF = re.compile(r'name="csrf[-_]token"[^>]*?(?:content|value)="([^"]+)"')

MARKER = "zzb-mark"
ZONE = ZoneInfo("Asia/Shanghai")
SLOT_DAY = datetime.now(ZONE).date() + timedelta(days=7)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Under tenant A: the users below the least role, who must get 403.
BELOW = {StaffRole.manager: ("staff-a",), StaffRole.owner: ("staff-a", "manager-a")}
LEAST = {StaffRole.staff: "staff-a", StaffRole.manager: "manager-a", StaffRole.owner: "owner-a"}
MERCHANT_USERS = ("owner-a", "staff-a", "owner-b")
CRAWL_LIMIT = 400


@dataclass(frozen=True)
class Seeded:
    """One object of every kind a tenant owns, by the URL parameter that names it."""

    booking_type: str
    booking: str
    resource: str
    stop: str
    version: str
    tenant: str
    token_id: str
    plugin: str
    package: str
    webhook: str
    delivery: str
    customer: str
    ban: str
    feedback: str


# URL parameter name (common brief) → that parameter's value for a seeded tenant.
ID_SOURCES: dict[str, Callable[[Seeded], str]] = {
    "booking_type": lambda seeded: seeded.booking_type,
    "booking": lambda seeded: seeded.booking,
    "resource": lambda seeded: seeded.resource,
    "stop": lambda seeded: seeded.stop,
    "version": lambda seeded: seeded.version,
    "tenant": lambda seeded: seeded.tenant,
    "token_id": lambda seeded: seeded.token_id,
    "plugin": lambda seeded: seeded.plugin,
    "package": lambda seeded: seeded.package,
    "webhook": lambda seeded: seeded.webhook,
    "delivery": lambda seeded: seeded.delivery,
    "customer": lambda seeded: seeded.customer,
    "ban": lambda seeded: seeded.ban,
    "feedback_id": lambda seeded: seeded.feedback,
}

# URL parameters that name no row of any tenant (a figure's table, a file's format): one fixed value each, and a route
# with only these is checked as a page without ids.
# A message template is named by (event, channel, locale), the same names at every tenant.
CONSTANT_PARAMETERS = {"table": "summary", "extension": "csv", "event": "booking.confirmed", "channel": "log", "locale": "en"}


@dataclass(frozen=True)
class AdminRoute:
    """One method of one rule of a registered admin view."""

    rule: str
    method: str
    operator: bool
    least: StaffRole | None  # None on operator pages
    parameters: tuple[str, ...]

    def path(self, seeded: Seeded, tenant_slug: str = "tenant-a") -> str:
        def value(match: re.Match) -> str:
            name = match.group(1)
            if name == "tenant_slug":
                return tenant_slug
            if name in CONSTANT_PARAMETERS:
                return CONSTANT_PARAMETERS[name]
            assert name in ID_SOURCES, f"{self.rule}: URL parameter <{name}> is unknown: add it to ID_SOURCES in tests/admin/test_admin_matrix.py"
            return ID_SOURCES[name](seeded)

        return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", value, self.rule)

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def admin_routes(app: Flask) -> list[AdminRoute]:
    """Every (rule, method) of every registered merchant and operator view, with its least role."""
    routes = []
    for view in app.extensions["yuyue.admin_views"]:
        if not isinstance(view, TenantAdminView | OperatorView):
            continue
        for rule in app.url_map.iter_rules():
            blueprint, _, method_name = rule.endpoint.partition(".")
            if blueprint != view.endpoint or method_name == "static":
                continue
            page = getattr(view, method_name)
            operator = isinstance(view, OperatorView)
            least = None if operator else max(view.min_role, getattr(page, "yuyue_min_role", StaffRole.staff), key=ROLE_RANK.__getitem__)
            parameters = tuple(sorted(rule.arguments - {"tenant_slug"} - CONSTANT_PARAMETERS.keys()))
            routes.extend(AdminRoute(rule.rule, method, operator, least, parameters) for method in sorted(rule.methods & set(METHODS)))
    return sorted(routes, key=lambda route: (route.rule, route.method))


# --- set-up ----------------------------------------------------------------------------


def _seed(session, slug: str, prefix: str, label: str, customer) -> Seeded:
    """A booking type with a booking, a coach, a stop, a class package and a staff token at tenant ``slug``."""
    tenant = get_tenant(session, slug)
    make_booking_type(session, tenant, f"{prefix}-type", name={"zh-Hans": f"{label} 类型", "en": f"{label} type"}, rules=windows(("09:00", "10:00")))
    make_coach(session, tenant, f"{prefix}-coach")
    create_stop(session, tenant, f"{prefix}-type", code=f"{prefix}-stop", name=f"{label} stop")
    create_package(session, tenant, code=f"{prefix}-pack", name=f"{label} package", credits=3, actor="test")
    token, _ = create_token(session, kind=TokenKind.staff, name=f"{label} token", tenant_slug=slug, role=StaffRole.staff)
    webhook, delivery = _seed_webhook(session, tenant, prefix)
    starts_at = datetime.combine(SLOT_DAY, time(9), ZONE).isoformat()
    response = customer.post(
        f"/api/v1/t/{slug}/bookings", json={"booking_type": f"{prefix}-type", "starts_at": starts_at, "answers": {"name": f"{label} guest"}}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    ban = impose_ban(session, tenant, customer.customer.id, reason=f"{label} ban", now=utcnow(), days=30, actor=SYSTEM)
    feedback = customer.post(f"/api/v1/t/{slug}/me/feedback", json={"comment": f"{label} feedback"})
    assert feedback.status_code == 201, feedback.get_data(as_text=True)
    return Seeded(
        booking_type=f"{prefix}-type",
        booking=response.get_json()["id"],
        resource=f"{prefix}-coach",
        stop=f"{prefix}-stop",
        version="1",
        tenant=slug,
        token_id=str(token.id),
        plugin="exhibition",
        package=f"{prefix}-pack",
        webhook=str(webhook),
        delivery=str(delivery),
        customer=str(customer.customer.id),
        ban=str(ban.id),
        feedback=str(feedback.get_json()["id"]),
    )


def _seed_webhook(session, tenant, prefix: str) -> tuple[int, int]:
    """A webhook endpoint whose URL names the tenant's prefix, pinged once, with the ping's delivery."""
    with tenant_scope(tenant.id):
        endpoint = webhooks.create_endpoint(session, url=f"https://{prefix}.example.com/hooks", topics=["*"], description=f"{prefix} crm", actor="test")
        event_id = webhooks.ping_endpoint(session, endpoint.id, actor="test")
        with write_transaction(session):
            delivery = Delivery(
                message_id=f"msg_{prefix}",
                event_id=event_id,
                topic=webhooks.TEST_TOPIC,
                subscriber=webhooks.subscriber_key(endpoint.id),
                kind=DeliveryKind.webhook,
                target=str(endpoint.id),
                recipient=endpoint.url,
                payload={"body": "{}"},
                status=DeliveryStatus.dead,
                attempts=1,
                last_error=f"{prefix} failed",
            )
            session.add(delivery)
        return endpoint.id, delivery.id


@pytest.fixture
def seeded(app: Flask, session, admin_users, signed_in_customer) -> dict[str, Seeded]:
    """Tenant A's objects, and tenant B's with :data:`MARKER` in every name and code; tenant B alone has the scenic plugin."""
    seeds = {
        "tenant-a": _seed(session, "tenant-a", "a", "Ann", signed_in_customer(1)),
        "tenant-b": _seed(session, "tenant-b", MARKER, MARKER.upper(), signed_in_customer(4, tenant="tenant-b")),
    }
    set_tenant_plugins(session, plugin_host(), "tenant-b", {"exhibition": {}, "course": {}, "scenic": {}})
    seeds["tenant-b"] = Seeded(**{**seeds["tenant-b"].__dict__, "plugin": "scenic"})
    db.session.remove()
    return seeds


def _log_in(app: Flask, username: str) -> FlaskClient:
    """Sign in through the login form, as a browser does (the admin conftest's ``log_in``, for any application)."""
    client = app.test_client()
    token = _CSRF.search(client.get("/login/").get_data(as_text=True)).group(1)
    response = client.post("/login/", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and "/login" not in response.headers["Location"], f"{username} could not log in"
    return client


class Users:
    """Clients signed in as the admin users; each request in an application context of its own.

    The test's application context stays pushed, so without a fresh one ``g`` (where Flask-WTF
    keeps the CSRF token it last made) would be shared by every client of the test.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.clients: dict[str, tuple[FlaskClient, str]] = {}

    def _signed_in(self, username: str) -> tuple[FlaskClient, str]:
        if username not in self.clients:
            with self.app.app_context():
                client = _log_in(self.app, username)
            with self.app.app_context():
                page = client.get("/login/", follow_redirects=True).get_data(as_text=True)
                self.clients[username] = (client, _CSRF.search(page).group(1))
        return self.clients[username]

    def call(self, username: str | None, method: str, path: str) -> TestResponse:
        with self.app.app_context():
            if username is None:
                response = self.app.test_client().open(path, method=method)
            else:
                client, token = self._signed_in(username)
                if method == "GET":
                    response = client.get(path)
                else:
                    response = client.open(path, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token})
            # Read the body inside this context: a streamed download read later would pop its contexts out of order.
            response.get_data()
            return response


@pytest.fixture
def users(app: Flask, admin_users) -> Users:
    return Users(app)


Check = tuple[AdminRoute, str, TestResponse, Callable[[int], bool], object]


def _failures(checks: list[Check]) -> list[str]:
    return [f"{route} as {who}: {response.status_code}, expected {expected}" for route, who, response, ok, expected in checks if not ok(response.status_code)]


# Each check calls the routes it applies to and returns what went wrong, one line per route and user.


def signed_out_failures(routes: list[AdminRoute], seeded: dict[str, Seeded], users: Users) -> list[str]:
    failures = []
    for route in routes:
        response = users.call(None, route.method, route.path(seeded["tenant-a"]))
        if response.status_code != 302 or "/login/" not in response.headers.get("Location", ""):
            failures.append(f"{route} signed out: {response.status_code} {response.headers.get('Location')}, expected the login page")
    return failures


def other_tenant_failures(routes: list[AdminRoute], seeded: dict[str, Seeded], users: Users) -> list[str]:
    checks: list[Check] = []
    for route in (route for route in routes if not route.operator):
        for seeds in ("tenant-a", "tenant-b"):
            response = users.call("owner-b", route.method, route.path(seeded[seeds]))
            checks.append((route, f"owner-b with {seeds}'s ids", response, lambda status: status == 404, 404))
    return _failures(checks)


def role_failures(routes: list[AdminRoute], seeded: dict[str, Seeded], users: Users) -> list[str]:
    checks: list[Check] = []
    for route in (route for route in routes if not route.operator):
        for username in BELOW.get(route.least, ()):
            response = users.call(username, route.method, route.path(seeded["tenant-a"]))
            checks.append((route, username, response, lambda status: status == 403, 403))
        if route.method == "GET":
            response = users.call(LEAST[route.least], "GET", route.path(seeded["tenant-a"]))
            checks.append((route, LEAST[route.least], response, lambda status: status < 400, "the page"))
    return _failures(checks)


def operator_failures(routes: list[AdminRoute], seeded: dict[str, Seeded], users: Users) -> list[str]:
    checks: list[Check] = []
    for route in (route for route in routes if route.operator):
        for username in MERCHANT_USERS:
            response = users.call(username, route.method, route.path(seeded["tenant-a"]))
            checks.append((route, username, response, lambda status: status == 403, 403))
        if route.method == "GET":
            response = users.call("operator", "GET", route.path(seeded["tenant-b"]))
            checks.append((route, "operator", response, lambda status: status < 400, "the page"))
    return _failures(checks)


def foreign_id_failures(routes: list[AdminRoute], seeded: dict[str, Seeded], users: Users) -> list[str]:
    checks: list[Check] = []
    leaks = []
    for route in (route for route in routes if not route.operator and route.parameters):
        for username in ("owner-a", "both") if ROLE_RANK[route.least] <= ROLE_RANK[StaffRole.manager] else ("owner-a",):
            path = route.path(seeded["tenant-b"])
            response = users.call(username, route.method, path)
            checks.append((route, f"{username} with tenant-b's ids", response, lambda status: status == 404, 404))
            # The page may repeat its own address (the language links return to it): only what else it shows counts.
            if MARKER in response.get_data(as_text=True).replace(path, "").lower():
                leaks.append(f"{route} as {username} shows tenant B's data")
    return _failures(checks) + leaks


# --- the matrix ------------------------------------------------------------------------


def test_every_admin_view_is_in_the_matrix(app, seeded):
    routes = admin_routes(app)
    assert any(route.rule == "/admin/t/<slug:tenant_slug>/" for route in routes), "the dashboard is a registered TenantAdminView"
    for route in routes:
        route.path(seeded["tenant-b"])  # an unknown URL parameter fails here, naming ID_SOURCES


def test_signed_out_visitors_are_sent_to_the_login_page(app, seeded, users):
    assert not (failures := signed_out_failures(admin_routes(app), seeded, users)), "\n".join(failures)


def test_a_user_of_another_tenant_finds_nothing_under_tenant_a(app, seeded, users):
    assert not (failures := other_tenant_failures(admin_routes(app), seeded, users)), "\n".join(failures)


def test_roles_below_a_pages_least_role_are_refused(app, seeded, users):
    assert not (failures := role_failures(admin_routes(app), seeded, users)), "\n".join(failures)


def test_operator_pages_refuse_every_merchant_user(app, seeded, users):
    assert not (failures := operator_failures(admin_routes(app), seeded, users)), "\n".join(failures)


def test_tenant_bs_objects_are_not_found_under_tenant_a(app, seeded, users):
    assert not (failures := foreign_id_failures(admin_routes(app), seeded, users)), "\n".join(failures)


# --- the crawl -------------------------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "href" or (tag == "form" and name == "action" and dict(attrs).get("method", "get").lower() == "get")):
                self.hrefs.append(value)


def crawl(users: Users, username: str, starts: list[str], inside: str) -> dict[str, TestResponse]:
    """Every page reachable by links from ``starts`` whose path is under ``inside``, by URL (at most :data:`CRAWL_LIMIT`)."""
    seen: dict[str, TestResponse] = {}
    queue = list(starts)
    while queue and len(seen) < CRAWL_LIMIT:
        url = queue.pop(0)
        if url in seen:
            continue
        response = seen[url] = users.call(username, "GET", url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = _Links()
        parser.feed(response.get_data(as_text=True))
        for href in parser.hrefs:
            target = urlsplit(urljoin(url, href))
            if target.netloc in ("", "localhost") and target.path.startswith(inside):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


def test_tenant_a_pages_never_show_tenant_bs_rows(app, seeded, users):
    starts = [route.path(seeded["tenant-a"]) for route in admin_routes(app) if not route.operator and route.method == "GET" and not route.parameters]
    # owner-a sees every page; "both" also works at tenant B, so a page mixing up a user's memberships shows here.
    pages = crawl(users, "owner-a", starts, "/admin/t/tenant-a/")
    pages.update({f"{url} (as both)": response for url, response in crawl(users, "both", starts, "/admin/t/tenant-a/").items()})
    assert len(pages) >= 2 * len(starts)
    errors = [f"{url}: {response.status_code}" for url, response in pages.items() if response.status_code >= 500]
    leaks = [url for url, response in pages.items() if MARKER in response.get_data().decode("utf-8", "replace").lower()]
    assert not errors, "\n".join(errors)
    assert not leaks, "tenant B's rows on:\n" + "\n".join(leaks)
    # The crawl sees tenant A's own rows where a page lists them, so a page that showed nothing would not pass unseen.
    assert all("Tenant-A" in response.get_data(as_text=True) for response in pages.values() if response.status_code == 200 and response.mimetype == "text/html")


# --- the matrix catches what it should (views registered by these tests only) ----------


class ProbeView(TenantAdminView):
    """A page per kind of check: a booking type by slug, a manager's write and an owner's page."""

    area = "probe"
    default_view = "index"

    @expose("/")
    def index(self) -> Any:
        return "<p>Tenant-A " + " ".join(db.session.scalars(select(BookingType.slug))) + "</p>"

    @expose("/types/<slug:booking_type>", methods=["GET", "POST"])
    @requires(StaffRole.manager)
    def booking_type(self, booking_type: str) -> Any:
        found = db.session.scalar(select(BookingType).where(BookingType.slug == booking_type))
        if found is None:
            abort(404)
        return f"<p>Tenant-A {found.slug}</p>"

    @expose("/owner")
    @requires(StaffRole.owner)
    def owner(self) -> Any:
        return "<p>Tenant-A owner</p>"


class LeakyView(TenantAdminView):
    """Looks a booking type up in every tenant and lets staff write: the matrix must report both."""

    area = "leaky"
    default_view = "index"

    @expose("/")
    def index(self) -> Any:
        return "<p>Tenant-A</p>"

    @expose("/types/<slug:booking_type>", methods=["GET"])
    def booking_type(self, booking_type: str) -> Any:
        with all_tenants():
            found = db.session.scalar(select(BookingType).where(BookingType.slug == booking_type))
        return f"<p>Tenant-A {found.slug if found else ''}</p>"

    @expose("/reference/<name:reference>")
    def reference(self, reference: str) -> Any:
        return "<p>Tenant-A</p>"


@pytest.fixture
def probe_app(make_app) -> Flask:
    """An application with :class:`ProbeView` and :class:`LeakyView` registered beside the real views."""
    app = make_app()
    with app.app_context():
        views = app.extensions["yuyue.admin_views"]
        views.extend(app.appbuilder.add_view_no_menu(view_class()) for view_class in (ProbeView, LeakyView))
    return app


def test_the_matrix_reads_least_roles_from_views_and_methods(probe_app):
    least = {str(route): route.least for route in admin_routes(probe_app) if "/probe" in route.rule}
    assert least == {
        "GET /admin/t/<slug:tenant_slug>/probe/": StaffRole.staff,
        "GET /admin/t/<slug:tenant_slug>/probe/owner": StaffRole.owner,
        "GET /admin/t/<slug:tenant_slug>/probe/types/<slug:booking_type>": StaffRole.manager,
        "POST /admin/t/<slug:tenant_slug>/probe/types/<slug:booking_type>": StaffRole.manager,
    }


def test_an_unknown_url_parameter_asks_for_id_sources(probe_app):
    route = next(route for route in admin_routes(probe_app) if "<name:reference>" in route.rule)
    with pytest.raises(AssertionError, match="add it to ID_SOURCES"):
        route.path(Seeded(*"abcdefghijklmn"))


def test_the_matrix_passes_a_scoped_view_and_reports_a_leaking_one(probe_app, seeded):
    users = Users(probe_app)
    checks = (signed_out_failures, other_tenant_failures, role_failures, foreign_id_failures)
    probe = [route for route in admin_routes(probe_app) if "/probe" in route.rule]
    leaky = [route for route in admin_routes(probe_app) if "/leaky/types" in route.rule]
    assert len(probe) == 4 and len(leaky) == 1
    assert [failure for check in checks for failure in check(probe, seeded, users)] == []
    assert foreign_id_failures(leaky, seeded, users) == [
        "GET /admin/t/<slug:tenant_slug>/leaky/types/<slug:booking_type> as owner-a with tenant-b's ids: 200, expected 404",
        "GET /admin/t/<slug:tenant_slug>/leaky/types/<slug:booking_type> as both with tenant-b's ids: 200, expected 404",
        "GET /admin/t/<slug:tenant_slug>/leaky/types/<slug:booking_type> as owner-a shows tenant B's data",
        "GET /admin/t/<slug:tenant_slug>/leaky/types/<slug:booking_type> as both shows tenant B's data",
    ]
