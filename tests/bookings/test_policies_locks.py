"""Identity locks: advisory locks on PostgreSQL, nothing on SQLite."""

from __future__ import annotations

import os
import threading
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import event

from yuyue.bookings import policies
from yuyue.db import db, tenant_scope


class RecordingSession:
    """Stands in for a PostgreSQL session: records what would be executed."""

    def __init__(self, dialect: str):
        self.dialect = dialect
        self.executed: list[tuple[str, dict]] = []

    def get_bind(self):
        return SimpleNamespace(dialect=SimpleNamespace(name=self.dialect))

    def execute(self, statement, parameters):
        self.executed.append((str(statement), parameters))


def test_advisory_lock_id_is_stable_across_processes():
    # A regression pin: changing the hash would let old and new app nodes lock different numbers during a deploy.
    assert policies.advisory_lock_id(1, "id_number:110105200803010010") == policies.advisory_lock_id(1, "id_number:110105200803010010")
    assert policies.advisory_lock_id(1, "customer:7") == -7128333982427772363


def test_advisory_lock_id_differs_per_tenant_and_fits_a_bigint():
    ids = {policies.advisory_lock_id(tenant, "customer:7") for tenant in range(1, 200)}
    assert len(ids) == 199
    assert all(-(2**63) <= lock_id < 2**63 for lock_id in ids)


def test_postgresql_takes_one_transaction_lock_per_key_in_sorted_order():
    session = RecordingSession("postgresql")
    with tenant_scope(3):
        policies.lock_identities(session, ["customer:1", "id_number:A", "customer:1", "", "phone:139"])
    expected = sorted({policies.advisory_lock_id(3, key) for key in ("customer:1", "id_number:A", "phone:139")})
    assert [parameters["lock_id"] for _, parameters in session.executed] == expected
    assert all("pg_advisory_xact_lock" in statement for statement, _ in session.executed)


def test_sqlite_takes_no_lock(session, tenant):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("runs on SQLite")
    seen = []

    def record(connection, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with tenant_scope(tenant.id):
            policies.lock_identities(session, ["customer:1"])
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert seen == []


def test_identity_keys_name_the_account_the_id_numbers_and_the_phones(make_customer, make_person):
    customer = make_customer("13800000000")
    people = [make_person("Li", phone="13900000000"), make_person("Baby", with_id=False, birth_date=date(2024, 1, 1))]
    counting = {"max_persons_per_account_per_day": 5}
    assert policies.identity_keys(customer, people, counting) == [f"customer:{customer.id}", f"id_number:{people[0].id_number}", "phone:13900000000"]


def test_policies_that_count_nothing_lock_nothing(make_customer, make_person):
    customer = make_customer("13800000000")
    people = [make_person("Li", phone="13900000000")]
    assert policies.identity_keys(customer, people, {}) == []
    assert policies.identity_keys(customer, people, None) == []
    assert policies.identity_keys(customer, people, {"minors": {"adult_age": 18}}) == []
    assert policies.identity_keys(customer, people, {"quotas": [{"scope": "id_number", "max": 1, "per": "day"}]}) != []


@pytest.mark.skipif("postgresql" not in os.environ.get("YUYUE_TEST_DATABASE_URL", ""), reason="advisory locks need PostgreSQL")
def test_second_transaction_with_the_same_id_number_waits_for_the_first(app, session, tenant):
    locked = threading.Event()
    done = threading.Event()

    def contender():
        with app.app_context(), tenant_scope(tenant.id):
            other = db.session()
            locked.wait()
            policies.lock_identities(other, ["id_number:X"])
            done.set()
            other.rollback()
            db.session.remove()

    thread = threading.Thread(target=contender)
    thread.start()
    with tenant_scope(tenant.id):
        session.connection()
        policies.lock_identities(session, ["id_number:X"])
        locked.set()
        assert not done.wait(0.5)
        session.rollback()
    assert done.wait(5)
    thread.join()
