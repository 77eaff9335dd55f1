"""``yuyue audit verify``: one line when every chain holds, one line per broken tenant and exit 1 otherwise."""

from __future__ import annotations

import pytest

from yuyue.audit.cli import audit_cli
from yuyue.audit.models import AuditRecord
from yuyue.db import db

RECORDS = AuditRecord.__table__
pytestmark = pytest.mark.tampers


def test_verify_reports_records_and_tenants_when_intact(app, append, tenant, make_tenant):
    append(tenant, 3)
    append(make_tenant("scenic"), 1)
    result = app.test_cli_runner().invoke(audit_cli, ["verify"])
    assert (result.exit_code, result.output) == (0, "ok: 4 records in 2 tenants, 0 rows, 0 in the operator chain\n")


def test_verify_names_each_broken_link_and_exits_1(app, append, tenant):
    records = append(tenant, 3)
    with db.engine.begin() as connection:
        connection.execute(RECORDS.update().where(RECORDS.c.id == records[1].id).values(data={}))
    result = app.test_cli_runner().invoke(audit_cli, ["verify"])
    assert result.exit_code == 1
    assert result.output == f"museum: seq 2 (record {records[1].id}): hash_mismatch\n"


def test_verify_one_tenant(app, append, tenant, make_tenant):
    append(tenant, 2)
    other = make_tenant("scenic")
    records = append(other, 1)
    with db.engine.begin() as connection:
        connection.execute(RECORDS.update().where(RECORDS.c.id == records[0].id).values(actor="x"))
    result = app.test_cli_runner().invoke(audit_cli, ["verify", "--tenant", "museum"])
    assert (result.exit_code, result.output) == (0, "ok: 2 records in 1 tenants, 0 rows\n")


def test_verify_unknown_tenant_is_a_not_found_error(app):
    result = app.test_cli_runner().invoke(audit_cli, ["verify", "--tenant", "nope"])
    assert result.exit_code != 0
    assert "no tenant 'nope'" in str(result.exception)
