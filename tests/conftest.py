"""Fixtures: a migrated database per test session (SQLite file, or PostgreSQL when
``YUYUE_TEST_DATABASE_URL`` is set), an application per test, emptied afterwards;
and what the API test folders share: tenants, clients carrying operator, staff or
customer credentials, and the check of a problem document."""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from tenant_setup import phone
from werkzeug.test import TestResponse

from yuyue.api.auth import customer_tokens
from yuyue.app import create_app, normalize_database_url
from yuyue.audit.operations import check_chains
from yuyue.cli import init_database
from yuyue.customers.operations import customer_for_phone
from yuyue.db import db, tenant_scope
from yuyue.events.channels import build_channels
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant, create_token, get_tenant
from yuyue.sealing import KEY_FILE
from yuyue.tenancy.models import StaffRole, Tenant, TokenKind
from yuyue.testing import EnglishReaderClient, empty_tables

# Long enough for HS256 (PyJWT warns, and warnings are errors here, below 32 bytes).
TEST_SECRET_KEY = "test-secret-key-of-at-least-32-bytes"

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "errors", "request_id"}
TWO_TENANTS = ("tenant-a", "tenant-b")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("YUYUE_TEST_DATABASE_URL")
    if url:
        engine = create_engine(normalize_database_url(url))
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'yuyue.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")), "SECRET_KEY": "test"})
    with app.app_context():
        init_database()
        db.session.remove()
        db.engine.dispose()
    return url


def _settings(database_url: str, instance_path: Path, overrides: dict) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TESTING": True,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": TEST_SECRET_KEY,
        "RATELIMIT_ENABLED": False,
        # Staff passwords hashed cheaply: scrypt's cost (the production default) was most of the admin tests' time.
        "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        **overrides,
    }


def _built(settings: dict) -> Flask:
    app = create_app(settings)
    # Tests read the English the messages are written in, unless a request asks for another language.
    app.test_client_class = EnglishReaderClient
    app.before_request_funcs.setdefault(None, []).insert(0, _forget_the_last_requests_user)
    return app


def _setting_key(value: object) -> str:
    """Plain data is compared by value; any other object (a clock, a fake service) by identity: the same object, the
    same application, since what ``create_app`` made of it cannot be told from outside."""
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return f"object {id(value)}"


def _shape(app: Flask) -> tuple:
    """What a test could add to an application that putting its settings back would not undo: routes, hooks,
    handlers, extensions replaced, plugins registered, the WSGI stack."""
    hooks = (
        app.before_request_funcs,
        app.after_request_funcs,
        app.teardown_request_funcs,
        app.url_value_preprocessors,
        app.url_default_functions,
        app.template_context_processors,
    )
    return (
        len(app.url_map._rules),
        tuple(app.view_functions.items()),
        tuple(app.blueprints),
        tuple((name, id(extension)) for name, extension in app.extensions.items()),
        # Flask's registries are defaultdicts: looking a blueprint up adds an empty entry, which changes nothing.
        tuple((scope, tuple(functions)) for hook in hooks for scope, functions in hook.items() if functions),
        tuple(app.teardown_appcontext_funcs),
        tuple((scope, code, tuple(handlers.items())) for scope, codes in app.error_handler_spec.items() for code, handlers in codes.items() if handlers),
        tuple(map(id, plugin_host(app).manager.get_plugins())),
        tuple(app.jinja_env.globals),
        (app.wsgi_app, app.json, app.test_client_class, app.session_interface, app.jinja_env),
    )


KEPT_APPS = 3


def _what_an_app_is_built_from(database_url: str) -> tuple:
    """What ``create_app`` reads besides its settings: the environment's ``YUYUE_*`` and the plugins installed
    (``make_plugin`` installs one on a ``sys.path`` of the test's own)."""
    environment = tuple(sorted((name, value) for name, value in os.environ.items() if name.startswith("YUYUE_")))
    return database_url, tuple(sys.path), environment


class KeptApp:
    """The default application of this test process, handed from test to test and put back as it was built.

    ``create_app`` costs some 0.2 s of CPU (330 URL rules, Flask-AppBuilder's views, the plugins' declarations),
    more than most tests themselves; building it once per process instead of once per test is most of what makes
    the suite fast (decisions §72). Between tests the database is emptied (as for any application), the settings
    are put back, per-application state that is filled lazily is dropped (a tenant's plugins by id, the channels'
    state such as WeChat access tokens, the log channel's sent messages), and the instance folder moves to the next
    test's ``tmp_path``. An application is kept for what it was built from (:func:`_what_an_app_is_built_from`). A test that changed the application in a way that cannot be put back (a route, a hook, an extension replaced,
    a plugin registered) leaves it to be thrown away: the next test gets a new one.
    """

    _kept: ClassVar[dict[tuple, KeptApp]] = {}  # oldest first
    _lent: ClassVar[dict[int, tuple[tuple, KeptApp]]] = {}

    def __init__(self, app: Flask, overrides: dict) -> None:
        self.app = app
        self.overrides = overrides  # held, so that no other object takes an identity its key names (_setting_key)
        self.home = app.instance_path
        self.settings = copy.deepcopy(dict(app.config))
        self.extensions = set(app.extensions)
        self.shape = _shape(app)

    @classmethod
    def lend(cls, database_url: str, instance_path: Path, overrides: dict | None = None) -> Flask:
        """An application with ``overrides`` on the test settings: one kept for the same ones, or a new one.

        An application with rate limits on is always new: its limiter's counts would carry over to the next test.
        """
        overrides = overrides or {}
        instance_path = Path(overrides.get("INSTANCE_PATH", instance_path))
        if overrides.get("RATELIMIT_ENABLED"):
            return _built(_settings(database_url, instance_path, overrides))
        key = (*_what_an_app_is_built_from(database_url), tuple(sorted((name, _setting_key(value)) for name, value in overrides.items())))
        kept = cls._kept.pop(key, None)
        if kept is None:
            home = Path(tempfile.mkdtemp(prefix="yuyue-kept-app-"))
            kept = cls(_built(_settings(database_url, home, overrides)), overrides)
        cls._lent[id(kept.app)] = (key, kept)
        kept.app.config.update(overrides)  # the test's own objects (a clock), not the copies put back
        kept.app.instance_path = kept.app.config["INSTANCE_PATH"] = str(instance_path)
        kept.hand_over_the_key(instance_path)
        return kept.app

    def hand_over_the_key(self, instance_path: Path) -> None:
        """The secrets key the application made in its own folder, in the test's: a worker, a server or a command the
        test starts on that instance folder must open what the application sealed, as with a new application there."""
        key = Path(self.home, KEY_FILE)
        if key.exists() and not (instance_path / KEY_FILE).exists():
            instance_path.mkdir(parents=True, exist_ok=True)
            shutil.copy2(key, instance_path / KEY_FILE)

    @classmethod
    def take_back(cls, app: Flask) -> None:
        key, kept = cls._lent.pop(id(app), (None, None))
        if kept is not None and kept.put_back():
            cls._kept[key] = kept
            while len(cls._kept) > KEPT_APPS:
                del cls._kept[next(iter(cls._kept))]

    def put_back(self) -> bool:
        """Undo what the test did to the application; False if it cannot be."""
        app = self.app
        for lazily_added in set(app.extensions) - self.extensions:
            del app.extensions[lazily_added]
        if _shape(app) != self.shape:
            return False
        app.instance_path = app.config["INSTANCE_PATH"] = self.home
        if app.config != self.settings:
            app.config.clear()
            app.config.update(copy.deepcopy(self.settings))
        app._got_first_request = False  # so a test may still add a hook (and the app is then thrown away)
        host = plugin_host(app)
        host.forget_tenants()
        app.extensions["yuyue.channels"] = build_channels(host, required=(app.config["NOTIFICATION_CHANNEL"],))
        self.shape = _shape(app)
        return True


@pytest.fixture
def made_apps(request: pytest.FixtureRequest) -> Iterator[list[Flask]]:
    """Every application the test used; afterwards the audit chains and the audited rows must verify (decisions §34).

    A code path that writes an audited row without the audit log learning of it fails the test that took it.
    Tests that edit the database behind the application's back say so with ``@pytest.mark.tampers``.
    """
    apps: list[Flask] = []
    yield apps
    findings: list[str] = []
    for app in apps:
        with app.app_context():
            db.session.remove()
            if not findings and request.node.get_closest_marker("tampers") is None:
                findings = [str(found) for found in check_chains(db.session).findings]
                db.session.remove()
            empty_tables()
            db.engine.dispose()
        KeptApp.take_back(app)
    if findings:
        pytest.fail("yuyue audit verify after the test:\n" + "\n".join(findings), pytrace=False)


@pytest.fixture
def make_app(database_url: str, tmp_path: Path, made_apps: list[Flask]) -> Callable[..., Flask]:
    """An application on the test database with settings of the test's own: ``make_app(PLUGINS=[...])``.

    Kept from an earlier test that asked for the same settings, like the ``app`` fixture's (:class:`KeptApp`); a second
    call in one test gets a second application.
    """

    def build(**overrides) -> Flask:
        app = KeptApp.lend(database_url, tmp_path, overrides)
        made_apps.append(app)
        return app

    return build


def _forget_the_last_requests_user() -> None:
    """Each test client is its own browser: no request may reuse the user, customer or CSRF token cached for another.

    The ``app`` fixture holds one application context for the whole test, and a test client's request
    reuses it, so ``g`` outlives the request; in production every request has a ``g`` of its own.
    """
    for per_request in ("_login_user", "user", "site_customer", "csrf_token"):  # Flask-Login's, Flask-AppBuilder's, the site's, Flask-WTF's
        g.pop(per_request, None)


@pytest.fixture
def app(database_url: str, tmp_path: Path, made_apps: list[Flask]) -> Iterator[Flask]:
    """The default application, kept from the test before when that one left it as it was built (:class:`KeptApp`)."""
    app = KeptApp.lend(database_url, tmp_path)
    made_apps.append(app)
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def session(app: Flask):
    return db.session


@pytest.fixture
def make_plugin(tmp_path, monkeypatch):
    """Install an out-of-tree plugin the way pip would: a package plus a dist-info with an entry point.

    ``make_plugin("car_wash", source, files={"vertical/vertical.json": {...}})`` returns the entry-point name.
    Nothing in the host changes; discovery is through ``importlib.metadata`` alone.
    """
    import importlib
    import json
    import textwrap

    site = tmp_path / "site-packages"
    monkeypatch.syspath_prepend(str(site))

    def install(name: str, source: str, files: dict[str, object] | None = None, version: str = "1.2.3") -> str:
        package = f"yuyue_test_{name}_{tmp_path.name[-8:].replace('-', '_')}"
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text(textwrap.dedent(source))
        for relative, content in (files or {}).items():
            path = site / package / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False))
        dist_info = site / f"{package}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
        (dist_info / "entry_points.txt").write_text(f"[yuyue.plugins]\n{name} = {package}\n")
        importlib.invalidate_caches()
        return name

    return install


# --- what the API test folders share -----------------------------------------------------


def check_problem(response: TestResponse, status: int, code: str | None = None) -> dict:
    """Assert an RFC 9457 problem document with ``status`` (and ``code``); return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert PROBLEM_FIELDS <= body.keys()
    assert body["status"] == status
    assert body["request_id"] == response.headers["X-Request-ID"]  # what a caller quotes to an operator
    assert body["type"].endswith("/" + body["code"])
    assert isinstance(body["errors"], list)
    for error in body["errors"]:  # every field problem says where, what, and which rule, for a program
        assert error.keys() == {"pointer", "message", "code"} and isinstance(error["code"], str) and error["code"], error
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def problem() -> Callable[..., dict]:
    """``problem(response, 422, "validation_failed")`` asserts a problem document and returns its body."""
    return check_problem


@pytest.fixture
def make_tenant(app: Flask, session) -> Callable[[str], Tenant]:
    """``make_tenant("museum")``: a tenant with no plugin enabled."""

    def make(slug: str) -> Tenant:
        return create_tenant(session, app.extensions["yuyue.plugins"], slug=slug, name=slug.title())

    return make


@pytest.fixture
def tenants(session) -> dict[str, Tenant]:
    """``tenant-a`` and ``tenant-b`` by slug, each with the exhibition and course plugins."""
    return {slug: create_tenant(session, plugin_host(), slug=slug, name=slug.title(), plugins={"exhibition": {}, "course": {}}) for slug in TWO_TENANTS}


def _client_with_bearer(app: Flask, secret: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


@pytest.fixture
def operator_headers(session) -> dict[str, str]:
    _, secret = create_token(session, kind=TokenKind.operator, name="test operator")
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def operator(app: Flask, operator_headers: dict[str, str]) -> FlaskClient:
    """A test client of its own that sends an operator token with every request (``client`` sends none)."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = operator_headers["Authorization"]
    return client


@pytest.fixture
def staff_client(app: Flask, session) -> Callable[..., FlaskClient]:
    """``staff_client("tenant-a", StaffRole.manager)``: a client sending a staff token of that tenant and role (plain staff by default)."""

    def make(tenant_slug: str, role: StaffRole | None = None) -> FlaskClient:
        _, secret = create_token(session, kind=TokenKind.staff, name=f"{tenant_slug} {role or 'staff'}", tenant_slug=tenant_slug, role=role)
        return _client_with_bearer(app, secret)

    return make


@pytest.fixture
def signed_in_customer(app: Flask, session, tenants) -> Callable[..., FlaskClient]:
    """``signed_in_customer(1, tenant="tenant-b")``: a client with the access token of the customer with phone 138…01.

    ``client.customer`` is the customer's row.
    """

    def make(n: int, tenant: str = "tenant-a") -> FlaskClient:
        with tenant_scope(get_tenant(session, tenant).id):
            customer = customer_for_phone(session, phone(n))
        with app.test_request_context():
            tokens = customer_tokens(customer)
        client = _client_with_bearer(app, tokens["access_token"])
        client.customer = customer
        return client

    return make
