"""The pytest plugin for yuyue plugin authors: a booking platform with your plugin, in a fixture.

Loaded by every pytest run where yuyue is installed (the ``pytest11`` entry
point ``yuyue``); its fixtures are all named ``yuyue_*`` and cost nothing until
a test asks for one. Name your plugin in your ``conftest.py``::

    @pytest.fixture
    def yuyue_plugin():
        return "dental"  # the entry-point name in yuyue.plugins

and a test books through the public API::

    def test_an_adult_books(yuyue_customer):
        assert yuyue_customer.book({"patient_name": "Li Lei"}).status_code == 201

Override ``yuyue_settings`` for the tenant's settings of your plugin, and
change them mid-test with ``yuyue_set_settings``. The database is SQLite in a
temporary folder, or ``YUYUE_TEST_DATABASE_URL`` (a database for tests only:
it is migrated to the newest schema and emptied after every test).
:func:`check_vertical_declaration` checks a plugin's vertical files.

The application's test clients read the API in English (``Accept-Language: en``,
see :class:`EnglishReaderClient`), so a test can assert a message as written in
the code; a request that sends its own ``Accept-Language`` or ``?lang=`` reads that.

The fixtures import the host when first used, not when pytest loads this
plugin: a pytest run that uses none of them does not pay for importing yuyue.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import import_module, resources
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

import yuyue_schemas
from yuyue.declarations import VerticalFile

__all__ = ["CustomerClient", "EnglishReaderClient", "check_vertical_declaration", "empty_tables", "on_database_server", "vertical_declaration_problems"]

LANGUAGES = {"zh-Hans", "zh-Hant", "en"}
TENANT = "clinic"
BOOKING_TYPE = "visit"
GUEST_PHONE = "13800138000"
# Long enough for HS256: PyJWT warns below 32 bytes.
SECRET_KEY = "yuyue-testing-secret-key-of-32-bytes"
# Rows that migrating creates and every application needs; the rest is emptied after each test.
KEPT_TABLES = {"ab_permission", "ab_view_menu", "ab_permission_view", "ab_role", "ab_permission_view_role", "alembic_version"}
# Open every day, so a test finds a slot whatever day it runs on.
EVERY_DAY = {day: [{"start": "09:00", "end": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SLOT_SEARCH_DAYS = 14


# --- the declaration check ---------------------------------------------------------------


def check_vertical_declaration(package: str) -> None:
    """Assert that the verticals ``package`` registers are valid for yuyue and agree with themselves.

    Call it from a plugin's tests: ``check_vertical_declaration("yuyue_dental")``.
    Every problem is listed at once, each with the file it is in.
    """
    problems = vertical_declaration_problems(package)
    assert not problems, f"{package} declares its vertical wrongly:\n" + "\n".join(problems)


def vertical_declaration_problems(package: str) -> list[str]:
    """What :func:`check_vertical_declaration` finds wrong, one line each; empty when all is well.

    ``register_verticals()`` must return at least one :class:`~yuyue.plugin_api.VerticalFile`
    of ``package``. Each vertical.json must match the ``vertical`` schema; its
    form the form dialect and JSON Schema; its UI schema the ``ui-schema``; its
    settings schema JSON Schema, with defaults that are valid settings. And they
    must agree: the UI orders and describes exactly the form's fields, labels
    each in zh-Hans, zh-Hant and en; fields named by ``required``, conditions
    and ``dependentRequired`` exist; ``x-options`` list exactly the ``enum``.
    """
    refs = import_module(package).register_verticals() or []
    if not refs or any(not isinstance(ref, VerticalFile) or ref.package != package for ref in refs):
        return [f"{package}: register_verticals() must return VerticalFile({package!r}, …) for each vertical, got {refs!r}"]
    return [problem for ref in refs for problem in _vertical_problems(ref)]


def _vertical_problems(ref: VerticalFile) -> list[str]:
    vertical = _load(ref)
    found = _schema_problems(ref, "vertical", vertical)
    if found:
        return found
    form_ref, ui_ref, settings_ref = ref.sibling(vertical["form"]["schema"]), ref.sibling(vertical["form"]["ui"]), ref.sibling(vertical["settings_schema"])
    form, ui, settings = _load(form_ref), _load(ui_ref), _load(settings_ref)
    found += _schema_problems(form_ref, "form-dialect", form) + _listed(form_ref, yuyue_schemas.check_json_schema(form))
    found += _schema_problems(ui_ref, "ui-schema", ui)
    found += _listed(settings_ref, yuyue_schemas.check_json_schema(settings))
    if found:
        return found
    defaults = {name: spec["default"] for name, spec in settings.get("properties", {}).items() if "default" in spec}
    found += [f"{settings_ref}: the defaults are not valid settings: {error.message}" for error in Draft202012Validator(settings).iter_errors(defaults)]
    fields = form["properties"]
    if sorted(ui["order"]) != sorted(fields):
        found.append(f"{ui_ref}: /order lists {sorted(ui['order'])}, the form's fields are {sorted(fields)}")
    for name, shown in ui["fields"].items():
        if name not in fields:
            found.append(f"{ui_ref}: /fields/{name} describes no field of the form")
            continue
        item_fields = fields[name].get("items", {}).get("properties", {})
        found += [f"{ui_ref}: /fields/{name}/fields/{inner} describes no field of the items" for inner in shown.get("fields", {}) if inner not in item_fields]
    for name in ui["order"]:
        languages = set(ui["fields"].get(name, {}).get("label", {}))
        if languages != LANGUAGES:
            found.append(f"{ui_ref}: /fields/{name}/label has {sorted(languages)}, needs exactly {sorted(LANGUAGES)}")
    found += [f"{form_ref}: names field {name!r}, which it does not define" for name in sorted(_named_fields(form) - set(fields))]
    for name, field in fields.items():
        if "x-options" in field and [option["value"] for option in field["x-options"]] != field.get("enum"):
            found.append(f"{form_ref}: /properties/{name}: the values of x-options must be exactly its enum, in order")
    return found


def _load(ref: VerticalFile) -> Any:
    return json.loads(resources.files(ref.package).joinpath(ref.path).read_text("utf-8"))


def _schema_problems(ref: VerticalFile, schema: str, instance: Any) -> list[str]:
    return _listed(ref, yuyue_schemas.problems(schema, instance))


def _listed(ref: VerticalFile, problems: list[Any]) -> list[str]:
    return [f"{ref}: {problem.pointer or '/'}: {problem.message}" for problem in problems]


def _named_fields(form: Mapping[str, Any]) -> set[str]:
    """Fields that ``required``, ``dependentRequired`` and ``if``/``then``/``else`` (at the top or in ``allOf``) name."""
    names = set(form.get("required", []))
    for dependent, needed in form.get("dependentRequired", {}).items():
        names |= {dependent, *needed}
    for block in [form, *form.get("allOf", [])]:
        for part in ("if", "then", "else"):
            clause = block.get(part, {})
            names |= set(clause.get("properties", {})) | set(clause.get("required", []))
            for dependent, needed in clause.get("dependentRequired", {}).items():
                names |= {dependent, *needed}
    return names


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def yuyue_plugin() -> str:
    """The entry-point name of the plugin under test; define this fixture in your conftest.py."""
    pytest.fail("define a fixture yuyue_plugin in your conftest.py that returns your plugin's name in the yuyue.plugins entry-point group", pytrace=False)


@pytest.fixture
def yuyue_settings() -> dict[str, Any]:
    """The settings of the plugin under test for ``yuyue_tenant``; override to test other settings (default: none, so schema defaults)."""
    return {}


@pytest.fixture(scope="session")
def yuyue_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to the newest schema: ``YUYUE_TEST_DATABASE_URL``, or SQLite in a temporary folder."""
    from yuyue.app import create_app
    from yuyue.cli import init_database
    from yuyue.db import db

    url = os.environ.get("YUYUE_TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('yuyue-db') / 'yuyue.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path_factory.mktemp("yuyue-instance")), "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        init_database()
        empty_tables()
        db.session.remove()
        db.engine.dispose()
    return url


@pytest.fixture
def yuyue_app(yuyue_database_url: str, yuyue_plugin: str, tmp_path: Path) -> Iterator[Flask]:
    """An application that loads the host's built-ins and the plugin under test only, inside its app context; emptied afterwards."""
    from yuyue.app import create_app
    from yuyue.db import db

    config = {
        "SQLALCHEMY_DATABASE_URI": yuyue_database_url,
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": SECRET_KEY,
        "RATELIMIT_ENABLED": False,
        "PLUGINS": [yuyue_plugin],
    }
    app = create_app(config)
    app.test_client_class = EnglishReaderClient
    try:
        with app.app_context():
            yield app
    finally:
        with app.app_context():
            db.session.remove()
            empty_tables()
            db.engine.dispose()


def empty_tables() -> None:
    """Delete every row but what migrating created (roles, permissions, the schema version), in the current app's database."""
    from yuyue.db import Model, db

    with db.engine.begin() as connection:
        # Plain SQL in one transaction: the ORM's statements would be compiled again for every test's new engine.
        # DELETE, not TRUNCATE: on PostgreSQL a TRUNCATE of the few rows a test leaves is some 30 times slower.
        quote = connection.dialect.identifier_preparer.quote
        deletes = [f"DELETE FROM {quote(table.name)}" for table in reversed(Model.metadata.sorted_tables) if table.name not in KEPT_TABLES]
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("; ".join(deletes))  # one round trip
        else:
            for delete in deletes:
                connection.exec_driver_sql(delete)


def on_database_server(url: str, *statements: str) -> None:
    """Run ``statements`` outside a transaction (``CREATE DATABASE`` and ``DROP DATABASE`` need that), connected to ``url``.

    ``url`` names a database that exists and is not one the statements drop (``YUYUE_TEST_DATABASE_URL``'s, say):
    PostgreSQL refuses to drop the database a connection is in.
    """
    from sqlalchemy import create_engine, text

    from yuyue.app import normalize_database_url

    engine = create_engine(normalize_database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def yuyue_vertical(yuyue_app: Flask, yuyue_plugin: str) -> str:
    """The key of the (first) vertical the plugin under test declares."""
    from yuyue.plugins import plugin_host

    [info] = [info for info in plugin_host(yuyue_app).info() if info.name == yuyue_plugin]
    if not info.verticals:
        pytest.fail(f"plugin {yuyue_plugin!r} declares no vertical", pytrace=False)
    return info.verticals[0]


@pytest.fixture
def yuyue_operator(yuyue_app: Flask) -> FlaskClient:
    """A client sending an operator token: it provisions tenants and chooses their plugins (``/api/v1/operator/…``)."""
    from yuyue.db import db
    from yuyue.provisioning.operations import create_token
    from yuyue.tenancy.models import TokenKind

    _, secret = create_token(db.session, kind=TokenKind.operator, name="yuyue.testing operator")
    return _bearer_client(yuyue_app, secret)


@pytest.fixture
def yuyue_make_tenant(yuyue_operator: FlaskClient) -> Callable[..., dict[str, Any]]:
    """``yuyue_make_tenant("other", {"dental": {...}})``: a tenant provisioned through the operator API; returns its JSON."""

    def make(slug: str, plugins: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        response = yuyue_operator.post("/api/v1/operator/tenants", json={"slug": slug, "name": slug.title(), "plugins": plugins})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def yuyue_tenant(yuyue_make_tenant: Callable[..., dict[str, Any]], yuyue_plugin: str, yuyue_settings: dict[str, Any]) -> dict[str, Any]:
    """Tenant ``clinic`` with the plugin under test enabled with ``yuyue_settings``; its operator API JSON."""
    return yuyue_make_tenant(TENANT, {yuyue_plugin: yuyue_settings})


@pytest.fixture
def yuyue_set_settings(yuyue_operator: FlaskClient, yuyue_plugin: str, yuyue_tenant: dict[str, Any]) -> Callable[..., TestResponse]:
    """``yuyue_set_settings({"min_age_years": 5})``: change the plugin's settings for a tenant through the operator API.

    The tenant's other plugins keep theirs. Returns the response (200, or a problem for settings the schema refuses).
    """

    def set_settings(settings: Mapping[str, Any], tenant: str = TENANT) -> TestResponse:
        enabled = yuyue_operator.get(f"/api/v1/operator/tenants/{tenant}").get_json()["plugins"]
        return yuyue_operator.put(f"/api/v1/operator/tenants/{tenant}/plugins", json={"plugins": {**enabled, yuyue_plugin: dict(settings)}})

    return set_settings


@pytest.fixture
def yuyue_merchant(yuyue_app: Flask, yuyue_tenant: dict[str, Any]) -> FlaskClient:
    """A client sending a manager's staff token of ``yuyue_tenant`` (``/api/v1/t/clinic/admin/…``)."""
    from yuyue.db import db
    from yuyue.provisioning.operations import create_token
    from yuyue.tenancy.models import StaffRole, TokenKind

    _, secret = create_token(db.session, kind=TokenKind.staff, name="yuyue.testing manager", tenant_slug=yuyue_tenant["slug"], role=StaffRole.manager)
    return _bearer_client(yuyue_app, secret)


@pytest.fixture
def yuyue_booking_type(yuyue_merchant: FlaskClient, yuyue_tenant: dict[str, Any], yuyue_vertical: str) -> dict[str, Any]:
    """Booking type ``visit`` of the plugin's vertical, created through the merchant API (active, so published at once), open 09:00-17:00 every day.

    Its form, UI and policies are the vertical's; its JSON as the merchant API answers.
    """
    body = {
        "vertical": yuyue_vertical,
        "slug": BOOKING_TYPE,
        "name": {"zh-Hans": "预约", "zh-Hant": "預約", "en": "Visit"},
        "availability_rules": [{"type": "weekly_hours", "params": {"weekdays": EVERY_DAY, "slot_minutes": 60, "capacity": 10}}],
    }
    created = yuyue_merchant.post(f"/api/v1/t/{yuyue_tenant['slug']}/admin/booking-types", json=body)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


class EnglishReaderClient(FlaskClient):
    """A test client whose API requests say ``Accept-Language: en`` unless they send their own.

    Without the header the API answers in the tenant's language or zh_Hans; tests assert the
    English the code is written in. Other pages (the admin, the site) get no default: they are
    tested in the language a browser would ask for. A test of the API's default language passes
    ``environ_base={"HTTP_ACCEPT_LANGUAGE": ""}``.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
        if isinstance(path, str) and path.startswith("/api/"):
            kwargs["environ_base"] = {"HTTP_ACCEPT_LANGUAGE": "en", **(kwargs.get("environ_base") or {})}
        return super().open(*args, **kwargs)


@dataclass
class CustomerClient:
    """A guest of one tenant, booking through the customer API with a phone number and reading bookings with their booking token."""

    client: FlaskClient
    tenant: str
    booking_type: str
    phone: str = GUEST_PHONE

    def book(self, answers: Mapping[str, Any], *, starts_at: str | None = None, booking_type: str | None = None, **fields: Any) -> TestResponse:
        """POST a booking with ``answers`` (and any other body field, e.g. ``party_size``) at ``starts_at`` (default: the first open slot)."""
        slug = booking_type or self.booking_type
        body = {"booking_type": slug, "starts_at": starts_at or self.first_slot(slug), "answers": dict(answers), "phone": self.phone, **fields}
        return self.client.post(f"/api/v1/t/{self.tenant}/bookings", json=body)

    def booking(self, placed: Mapping[str, Any]) -> TestResponse:
        """GET the booking that ``book`` answered with, showing its booking token."""
        return self.client.get(f"/api/v1/t/{self.tenant}/bookings/{placed['id']}", headers={"X-Booking-Token": placed["booking_token"]})

    def first_slot(self, booking_type: str | None = None) -> str:
        """The start of the first bookable slot from tomorrow on, as the availability endpoint gives it."""
        first = date.today() + timedelta(days=1)
        last = first + timedelta(days=SLOT_SEARCH_DAYS - 1)
        answer = self.client.get(f"/api/v1/t/{self.tenant}/booking-types/{booking_type or self.booking_type}/availability?from={first}&to={last}")
        assert answer.status_code == 200, answer.get_json()
        slots = [slot["starts_at"] for slot in answer.get_json()["slots"] if slot["bookable"]]
        assert slots, f"no bookable slot from {first} to {last}"
        return slots[0]


@pytest.fixture
def yuyue_customer(yuyue_app: Flask, yuyue_tenant: dict[str, Any], yuyue_booking_type: dict[str, Any]) -> CustomerClient:
    """A guest customer of ``yuyue_tenant`` who books ``yuyue_booking_type``: ``yuyue_customer.book(answers)``."""
    return CustomerClient(yuyue_app.test_client(), yuyue_tenant["slug"], yuyue_booking_type["slug"])


def _bearer_client(app: Flask, secret: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client
