"""Operators are audited: each action through the operator API leaves one record naming the token that did it, never a secret.

Actions on one tenant go into that tenant's chain; installation-wide ones
(operator tokens) into the operator chain, which ``GET /api/v1/operator/audit``
shows and ``yuyue audit verify`` checks.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from yuyue.audit.cli import audit_cli
from yuyue.audit.models import AuditRecord
from yuyue.audit.operations import check_chains
from yuyue.audit.operator_chain import OperatorAuditHead, OperatorAuditRecord, check_operator_chain
from yuyue.db import db, tenant_scope, write_transaction
from yuyue.provisioning.operations import authenticate_token, create_token, get_tenant, revoke_token
from yuyue.tenancy.models import StaffRole, TokenKind

TENANTS = "/api/v1/operator/tenants"
AUDIT = "/api/v1/operator/audit"
EXHIBITION = {"max_persons_per_account_per_day": 4, "entry_grace_minutes": 15}


@pytest.fixture
def actor(session, operator_headers) -> str:
    """How the audit log names the operator whose token the ``operator`` client sends."""
    token = authenticate_token(session, operator_headers["Authorization"].removeprefix("Bearer "))
    return f"operator:{token.id}"


def tenant_records(session, slug: str) -> list[AuditRecord]:
    session.commit()
    with tenant_scope(get_tenant(session, slug).id):
        return list(session.scalars(select(AuditRecord).order_by(AuditRecord.seq)))


def operator_chain(session) -> list[OperatorAuditRecord]:
    session.commit()
    return list(session.scalars(select(OperatorAuditRecord).order_by(OperatorAuditRecord.seq)))


def summary(record) -> tuple[str, str, str, str]:
    return record.actor, record.action, record.subject_type, record.subject_id


# --- tenant actions, in the tenant's chain ----------------------------------------------


def test_creating_a_tenant_leaves_one_record_in_its_chain(operator, session, actor):
    operator.post(TENANTS, json={"slug": "museum", "name": "City Museum", "locales": ["en"], "plugins": {"exhibition": EXHIBITION}})

    [record] = tenant_records(session, "museum")
    assert summary(record) == (actor, "tenant.created", "tenant", "museum")
    assert record.data == {"name": "City Museum", "time_zone": "Asia/Shanghai", "locales": ["en"], "plugins": ["exhibition"]}


def test_suspending_a_tenant_leaves_one_record(operator, session, actor):
    operator.post(TENANTS, json={"slug": "museum", "name": "City Museum"})

    operator.post(f"{TENANTS}/museum/suspend")

    records = tenant_records(session, "museum")
    assert len(records) == 2
    assert (summary(records[-1]), records[-1].data) == ((actor, "tenant.suspended", "tenant", "museum"), {"previous": "active", "status": "suspended"})


def test_reinstating_a_tenant_leaves_one_record(operator, session, actor):
    operator.post(TENANTS, json={"slug": "museum", "name": "City Museum"})
    operator.post(f"{TENANTS}/museum/suspend")

    operator.post(f"{TENANTS}/museum/reinstate")

    records = tenant_records(session, "museum")
    assert [r.action for r in records] == ["tenant.created", "tenant.suspended", "tenant.reinstated"]
    assert (summary(records[-1]), records[-1].data) == ((actor, "tenant.reinstated", "tenant", "museum"), {"previous": "suspended", "status": "active"})


def test_changing_plugins_leaves_one_record_naming_the_changed_keys_not_their_values(operator, session, actor):
    operator.post(TENANTS, json={"slug": "museum", "name": "City Museum", "plugins": {"exhibition": EXHIBITION}})
    changed = {**EXHIBITION, "entry_grace_minutes": 47}

    response = operator.put(f"{TENANTS}/museum/plugins", json={"plugins": {"exhibition": changed, "course": {}}})

    assert response.status_code == 200
    records = tenant_records(session, "museum")
    assert len(records) == 2
    assert summary(records[-1]) == (actor, "tenant.plugins_changed", "tenant", "museum")
    assert records[-1].data == {"enabled": ["course"], "disabled": [], "reconfigured": {"exhibition": ["entry_grace_minutes"]}}
    assert "47" not in json.dumps(records[-1].data)


def test_disabling_a_plugin_is_recorded(operator, session):
    operator.post(TENANTS, json={"slug": "museum", "name": "City Museum", "plugins": {"exhibition": EXHIBITION}})

    operator.put(f"{TENANTS}/museum/plugins", json={"plugins": {}})

    assert tenant_records(session, "museum")[-1].data == {"enabled": [], "disabled": ["exhibition"], "reconfigured": {}}


def test_a_refused_action_leaves_no_record(operator, session):
    operator.post(TENANTS, json={"slug": "museum", "name": "City Museum"})

    assert operator.put(f"{TENANTS}/museum/plugins", json={"plugins": {"no-such-plugin": {}}}).status_code == 422
    assert operator.post(TENANTS, json={"slug": "museum", "name": "Again"}).status_code == 409

    assert [r.action for r in tenant_records(session, "museum")] == ["tenant.created"]


def test_operator_actions_keep_the_tenant_chain_valid(operator, session):
    operator.post(TENANTS, json={"slug": "museum", "name": "City Museum"})
    operator.post(f"{TENANTS}/museum/suspend")
    operator.put(f"{TENANTS}/museum/plugins", json={"plugins": {"exhibition": EXHIBITION}})

    report = check_chains(session)

    assert (report.ok, report.records) == (True, 3)


# --- tokens -----------------------------------------------------------------------------


def test_a_staff_token_is_recorded_in_its_tenants_chain_without_its_secret(session, make_tenant):
    make_tenant("museum")

    token, secret = create_token(session, kind=TokenKind.staff, name="front desk", tenant_slug="museum", role=StaffRole.manager, actor="operator:1")
    revoke_token(session, token.id, actor="operator:1")

    created, revoked = tenant_records(session, "museum")[-2:]
    assert summary(created) == ("operator:1", "token.created", "api_token", str(token.id))
    assert created.data == {"kind": "staff", "role": "manager", "name": "front desk"}
    assert summary(revoked) == ("operator:1", "token.revoked", "api_token", str(token.id))
    assert all(secret not in json.dumps(r.data) and token.digest not in json.dumps(r.data) for r in (created, revoked))
    assert operator_chain(session) == []


def test_an_operator_token_is_recorded_in_the_operator_chain(session):
    token, secret = create_token(session, kind=TokenKind.operator, name="ci", actor="cli")
    revoke_token(session, token.id, actor="cli")
    revoke_token(session, token.id, actor="cli")  # already revoked: nothing changes, nothing recorded

    records = operator_chain(session)
    assert [summary(r) for r in records] == [("cli", "token.created", "api_token", str(token.id)), ("cli", "token.revoked", "api_token", str(token.id))]
    assert records[0].data == {"kind": "operator", "role": None, "name": "ci"}
    assert all(secret not in json.dumps(r.data) for r in records)


# --- the operator chain -----------------------------------------------------------------


def operator_tokens(session, count: int) -> list[OperatorAuditRecord]:
    for n in range(count):
        create_token(session, kind=TokenKind.operator, name=f"ops {n}", actor="cli")
    return operator_chain(session)


def test_the_operator_chain_links_each_record_to_the_one_before(session):
    records = operator_tokens(session, 3)

    assert [r.seq for r in records] == [1, 2, 3]
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert check_operator_chain(session) == (None, 3)


def test_an_edit_of_the_operator_chain_is_detected_and_named(app, session):
    records = operator_tokens(session, 3)
    with write_transaction(session):
        session.execute(update(OperatorAuditRecord).where(OperatorAuditRecord.id == records[1].id).values(actor="someone else"))

    found, _ = check_operator_chain(session)

    assert (found.tenant, found.seq, found.record_id, found.reason) == ("(operator)", 2, records[1].id, "hash_mismatch")
    result = app.test_cli_runner().invoke(audit_cli, ["verify"])
    assert (result.exit_code, result.output) == (1, f"(operator): seq 2 (record {records[1].id}): hash_mismatch\n")


def test_deleting_the_last_operator_record_is_detected(session):
    records = operator_tokens(session, 2)
    with write_transaction(session):
        session.delete(session.get(OperatorAuditRecord, records[-1].id))

    found, _ = check_operator_chain(session)

    assert (found.seq, found.reason) == (2, "head_mismatch")


def test_audit_verify_counts_the_operator_chain(app, session, make_tenant):
    make_tenant("museum")
    operator_tokens(session, 2)

    result = app.test_cli_runner().invoke(audit_cli, ["verify"])

    assert (result.exit_code, result.output) == (0, "ok: 1 records in 1 tenants, 0 rows, 2 in the operator chain\n")


def test_the_operator_chain_is_one_head_row(session):
    operator_tokens(session, 2)

    assert [(h.seq, h.hash) for h in db.session.scalars(select(OperatorAuditHead))] == [(2, operator_chain(session)[-1].hash)]


# --- reading it -------------------------------------------------------------------------


def test_operators_read_the_operator_chain_oldest_first(operator, session, operator_headers):
    operator_tokens(session, 2)

    body = operator.get(AUDIT).get_json()

    # The first record is the token the operator client itself was given.
    assert [r["data"]["name"] for r in body["records"]] == ["test operator", "ops 0", "ops 1"]
    assert body["records"][0].keys() == {"seq", "at", "actor", "action", "subject_type", "subject_id", "data", "prev_hash", "hash"}
    assert body["next_after"] is None
    assert operator_headers["Authorization"].removeprefix("Bearer ") not in json.dumps(body)


def test_the_operator_chain_is_read_a_page_at_a_time(operator, session):
    operator_tokens(session, 2)

    first = operator.get(f"{AUDIT}?limit=2").get_json()
    rest = operator.get(f"{AUDIT}?limit=2&after={first['next_after']}").get_json()

    assert [r["seq"] for r in first["records"] + rest["records"]] == [1, 2, 3]
    assert rest["next_after"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "after=-1", "after=99999999999"])
def test_a_bad_page_is_a_422_at_the_parameter(operator, problem, query):
    body = problem(operator.get(f"{AUDIT}?{query}"), 422, "validation_failed")

    assert [e["pointer"] for e in body["errors"]] == ["/" + query.split("=")[0]]


def test_the_operator_chain_is_for_operators_only(client, staff_client, tenants, problem):
    problem(client.get(AUDIT), 401)
    problem(staff_client("tenant-a", StaffRole.owner).get(AUDIT), 403)
