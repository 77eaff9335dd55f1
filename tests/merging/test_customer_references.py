"""Every column that names a customer is handled by a merge: a table added with a foreign key to customers fails here
until it has its line in :data:`yuyue.merging.operations.CUSTOMER_REFERENCES`."""

from __future__ import annotations

import yuyue.models  # noqa: F401 - imports every area's models, so the metadata is complete
from yuyue.db import Model
from yuyue.merging.operations import CUSTOMER_REFERENCES


def foreign_keys_to_customers() -> set[tuple[str, str]]:
    return {
        (table.name, key.parent.name)
        for table in Model.metadata.tables.values()
        for key in table.foreign_keys
        if key.column.table.name == "customers" and key.column.name == "id"
    }


def test_every_foreign_key_to_a_customer_is_handled_by_a_merge():
    handled = {(model.__tablename__, column) for model, column, _ in CUSTOMER_REFERENCES}

    missing = foreign_keys_to_customers() - handled

    assert not missing, f"add a line to CUSTOMER_REFERENCES for {sorted(missing)}: what a merge does to those rows"


def test_the_check_sees_the_tables_it_guards():
    """A reflection that found nothing would pass the test above whatever the list held."""
    assert {("bookings", "customer_id"), ("companions", "customer_id"), ("refresh_tokens", "customer_id")} <= foreign_keys_to_customers()


def test_each_listed_column_exists_and_is_listed_once():
    listed = [(model.__tablename__, column) for model, column, _ in CUSTOMER_REFERENCES]

    assert len(listed) == len(set(listed))
    for model, column, _ in CUSTOMER_REFERENCES:
        assert column in model.__table__.c, (model.__tablename__, column)
