"""Fixtures: reading a scrape, a tenant with a bookable type, and an empty database of a test's own."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator

import pytest
from flask.testing import FlaskClient
from observability_setup import Scrape, slot
from sqlalchemy import create_engine, make_url, text
from tenant_setup import make_booking_type, make_tenant, windows

from yuyue.app import normalize_database_url

# The served tests start the real server as tests/serving does, with its helpers (test folders are not packages).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "serving"))


@pytest.fixture
def scrape() -> Callable[[FlaskClient], Scrape]:
    def read(client: FlaskClient, **headers: str) -> Scrape:
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return Scrape(response.get_data(as_text=True))

    return read


@pytest.fixture
def museum(app, session):
    """Tenant ``museum`` with booking type ``entry``: 09:00-10:00, 4 places, up to 4 people a booking."""
    tenant = make_tenant(session, "museum")
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "10:00"), capacity=4), max_party_size=4)
    return tenant


@pytest.fixture
def guest_books(client) -> Callable[..., object]:
    """``guest_books(2)``: a guest's POST bookings for ``party_size`` people at 09:00; the response."""

    def book(party_size: int = 1, n: int = 1, **fields):
        body = {"booking_type": "entry", "starts_at": slot(9), "answers": {"name": "Li Lei"}, "phone": f"138{n:08d}", "party_size": party_size, **fields}
        return client.post("/api/v1/t/museum/bookings", json=body)

    return book


@pytest.fixture
def own_database_url(tmp_path) -> Iterator[str]:
    """A database nobody else uses, empty: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    test_url = os.environ.get("YUYUE_TEST_DATABASE_URL")
    if not test_url:
        yield f"sqlite:///{tmp_path / 'own.db'}"
        return
    server = make_url(normalize_database_url(test_url))
    own = server.set(database=f"{server.database}_own_{uuid.uuid4().hex[:8]}")
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{own.database}"'))
        yield own.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
        admin.dispose()
