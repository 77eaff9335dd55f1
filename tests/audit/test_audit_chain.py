"""The audit log: every tenant's records form a hash chain that any edit breaks."""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from yuyue.audit import operations as audit
from yuyue.audit.models import AuditHead, AuditRecord
from yuyue.customers.models import BanSubject
from yuyue.db import TenantContextMissing, db, tenant_scope, write_transaction
from yuyue.types import utcnow

RECORDS = AuditRecord.__table__
pytestmark = pytest.mark.tampers


def edit_by_hand(record_id: int, **values) -> None:
    """Change a stored record behind the application's back, as someone with database access could."""
    with db.engine.begin() as connection:
        connection.execute(RECORDS.update().where(RECORDS.c.id == record_id).values(**values))


def test_appended_records_are_numbered_from_one_and_chain_each_to_the_previous(append, tenant):
    records = append(tenant, 4)
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[0].prev_hash == audit.GENESIS_HASH
    for previous, current in zip(records, records[1:], strict=False):
        assert current.prev_hash == previous.hash


def test_hash_is_sha256_of_prev_hash_and_canonical_json(append, tenant):
    (first,) = append(tenant, 1)
    body = (
        f'{{"action":"booking.created","actor":"staff:7","at":"{first.at.astimezone(UTC).isoformat(timespec="microseconds")}",'
        f'"data":{{"n":0,"名":"张三"}},"seq":1,"subject_id":"1","subject_type":"booking"}}'
    )
    assert first.hash == hashlib.sha256((audit.GENESIS_HASH + body).encode()).hexdigest()


def test_head_holds_the_last_link(session, append, tenant):
    records = append(tenant, 3)
    with tenant_scope(tenant.id):
        head = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    assert tuple(head) == (3, records[-1].hash)


def test_intact_chains_verify(session, append, tenant, make_tenant):
    append(tenant, 3)
    append(make_tenant("scenic"), 2)
    report = audit.check_chains(session)
    assert (report.breaks, report.records, report.tenants) == ([], 5, 2)
    assert audit.verify(session) == []


def test_data_with_datetimes_and_enums_is_stored_as_hashed(session, append, tenant):
    moment = datetime(2024, 10, 1, 9, 30, tzinfo=UTC)
    (entry,) = append(tenant, 1, data={"starts": moment, "kind": BanSubject.phone, "ids": (1, 2)})
    assert entry.data == {"starts": "2024-10-01T09:30:00.000000+00:00", "kind": "phone", "ids": [1, 2]}
    assert audit.verify(session) == []


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("data", {"n": 1, "名": "李四"}, "hash_mismatch"),
        ("actor", "staff:8", "hash_mismatch"),
        ("at", "shifted", "hash_mismatch"),
        ("action", "booking.cancelled", "hash_mismatch"),
        ("subject_type", "customer", "hash_mismatch"),
        ("subject_id", "999", "hash_mismatch"),
        ("hash", "f" * 64, "hash_mismatch"),
        ("prev_hash", "e" * 64, "prev_hash_mismatch"),
    ],
)
def test_editing_an_audited_column_by_hand_names_the_edited_record(session, append, tenant, column, value, reason):
    records = append(tenant, 3)
    edited = records[1]
    edit_by_hand(edited.id, **{column: edited.at + timedelta(seconds=1) if value == "shifted" else value})
    assert audit.verify(session) == [audit.AuditBreak(tenant.slug, 2, edited.id, reason)]


def test_editing_the_last_records_hash_is_caught_even_though_nothing_follows(session, append, tenant):
    records = append(tenant, 2)
    edit_by_hand(records[-1].id, data={"n": 42})
    assert audit.verify(session) == [audit.AuditBreak(tenant.slug, 2, records[-1].id, "hash_mismatch")]


def test_deleting_a_record_is_reported_as_a_missing_seq(session, append, tenant):
    records = append(tenant, 4)
    with db.engine.begin() as connection:
        connection.execute(RECORDS.delete().where(RECORDS.c.id == records[1].id))
    assert audit.verify(session) == [audit.AuditBreak(tenant.slug, 2, records[2].id, "missing_seq")]


def test_deleting_the_last_record_disagrees_with_the_head(session, append, tenant):
    records = append(tenant, 3)
    with db.engine.begin() as connection:
        connection.execute(RECORDS.delete().where(RECORDS.c.id == records[-1].id))
    assert audit.verify(session) == [audit.AuditBreak(tenant.slug, 3, records[1].id, "head_mismatch")]


def test_deleting_every_record_disagrees_with_the_head(session, append, tenant):
    append(tenant, 2)
    with db.engine.begin() as connection:
        connection.execute(RECORDS.delete())
    assert audit.verify(session) == [audit.AuditBreak(tenant.slug, 1, None, "head_mismatch")]


def test_renumbering_a_record_is_reported(session, append, tenant):
    records = append(tenant, 3)
    edit_by_hand(records[2].id, seq=7)
    assert audit.verify(session) == [audit.AuditBreak(tenant.slug, 3, records[2].id, "missing_seq")]


def test_each_tenant_has_its_own_chain(append, tenant, make_tenant):
    other = make_tenant("scenic")
    append(tenant, 2)
    records = append(other, 2)
    assert [r.seq for r in records] == [1, 2]
    assert records[0].prev_hash == audit.GENESIS_HASH


def test_a_break_in_one_tenants_chain_leaves_the_others_valid(session, append, tenant, make_tenant):
    other = make_tenant("scenic")
    append(tenant, 2)
    records = append(other, 2)
    edit_by_hand(records[0].id, actor="intruder")
    assert audit.verify(session) == [audit.AuditBreak("scenic", 1, records[0].id, "hash_mismatch")]
    assert audit.verify(session, tenant.id) == []


def test_every_broken_tenant_is_reported_once(session, append, tenant, make_tenant):
    other = make_tenant("scenic")
    first = append(tenant, 3)
    second = append(other, 3)
    for record in (*first, *second):
        edit_by_hand(record.id, actor="intruder")
    assert [(b.tenant, b.seq) for b in audit.verify(session)] == [("museum", 1), ("scenic", 1)]


def test_a_rolled_back_change_leaves_no_record_and_no_gap(session, append, tenant):
    append(tenant, 1)
    with tenant_scope(tenant.id), pytest.raises(RuntimeError, match="boom"), write_transaction(session):
        audit.record(session, actor="staff:7", action="booking.created", subject_type="booking", subject_id=2, data={})
        raise RuntimeError("boom")
    (after,) = append(tenant, 1)
    assert after.seq == 2
    assert audit.verify(session) == []


def test_a_rolled_back_savepoint_drops_only_the_records_made_inside_it(session, append, tenant):
    with tenant_scope(tenant.id), write_transaction(session):
        audit.record(session, actor="staff:7", action="kept.before", subject_type="booking", subject_id=1, data={})
        with pytest.raises(RuntimeError, match="lost race"), session.begin_nested():
            audit.record(session, actor="staff:7", action="dropped", subject_type="booking", subject_id=2, data={})
            raise RuntimeError("lost race")
        with session.begin_nested():
            audit.record(session, actor="staff:7", action="kept.after", subject_type="booking", subject_id=3, data={})
    with tenant_scope(tenant.id):
        rows = session.execute(select(AuditRecord.seq, AuditRecord.action).order_by(AuditRecord.seq)).all()
    assert [tuple(row) for row in rows] == [(1, "kept.before"), (2, "kept.after")]
    assert audit.verify(session) == []


def test_records_are_chained_at_commit_consecutively_with_one_time(session, append, tenant):
    append(tenant, 1)
    with tenant_scope(tenant.id), write_transaction(session):
        entries = [audit.record(session, actor="staff:7", action="bulk", subject_type="booking", subject_id=n, data={}) for n in range(3)]
        assert session.scalar(select(AuditHead.seq)) == 1  # the head is not touched before the commit
        assert {entry.seq for entry in entries} == {None}
    assert [entry.seq for entry in entries] == [2, 3, 4]
    assert len({entry.at for entry in entries}) == 1
    assert audit.verify(session) == []


@pytest.mark.skipif("postgresql" not in os.environ.get("YUYUE_TEST_DATABASE_URL", ""), reason="SQLite serialises every writer anyway")
def test_an_open_transaction_with_records_does_not_hold_the_tenants_chain(app, session, tenant):
    recorded, other_done = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with app.app_context():
                with tenant_scope(tenant.id), write_transaction(db.session):
                    audit.record(db.session, actor="slow", action="booking.created", subject_type="booking", subject_id=1, data={})
                    recorded.set()
                    assert other_done.wait(10), "the other writer waited for this transaction"
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert recorded.wait(10)
    with tenant_scope(tenant.id), write_transaction(session):
        audit.record(session, actor="fast", action="booking.created", subject_type="booking", subject_id=2, data={})
    other_done.set()
    thread.join()
    assert failures == []
    with tenant_scope(tenant.id):
        assert session.execute(select(AuditRecord.actor).order_by(AuditRecord.seq)).scalars().all() == ["fast", "slow"]
    assert audit.verify(session) == []


def test_record_outside_a_write_transaction_is_refused(session, tenant):
    with tenant_scope(tenant.id), pytest.raises(RuntimeError, match="write_transaction"):
        audit.record(session, actor="a", action="b", subject_type="c", subject_id=1, data={})


def test_record_with_no_tenant_in_context_is_refused(session, tenant):
    with pytest.raises(TenantContextMissing), write_transaction(session):
        audit.record(session, actor="a", action="b", subject_type="c", subject_id=1, data={})


def test_naive_datetimes_in_data_are_refused(session, tenant):
    with tenant_scope(tenant.id), pytest.raises(ValueError, match="naive"), write_transaction(session):
        audit.record(session, actor="a", action="b", subject_type="c", subject_id=1, data={"at": datetime(2024, 1, 1)})  # noqa: DTZ001


def test_concurrent_appends_from_many_threads_form_one_gap_free_chain(app, session, tenant):
    threads, appends = 16, 5
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            with app.app_context(), tenant_scope(tenant.id):
                start.wait()
                for n in range(appends):
                    with write_transaction(db.session):
                        audit.record(
                            db.session, actor=f"worker:{worker}", action="booking.created", subject_type="booking", subject_id=n, data={"at": utcnow()}
                        )
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert failures == []
    with tenant_scope(tenant.id):
        rows = session.execute(select(AuditRecord.seq, AuditRecord.at).order_by(AuditRecord.seq)).all()
        assert session.scalar(select(func.count()).select_from(AuditHead)) == 1
    assert [row.seq for row in rows] == list(range(1, threads * appends + 1))
    assert [row.at for row in rows] == sorted(row.at for row in rows)
    assert audit.verify(session) == []


def test_verify_streams_long_chains(session, append, tenant, monkeypatch):
    monkeypatch.setattr(audit, "STREAM_BATCH", 2)
    records = append(tenant, 7)
    edit_by_hand(records[5].id, action="edited")
    assert audit.verify(session) == [audit.AuditBreak(tenant.slug, 6, records[5].id, "hash_mismatch")]


def test_editing_the_head_is_reported(session, append, tenant):
    records = append(tenant, 2)
    with db.engine.begin() as connection:
        connection.execute(update(AuditHead.__table__).values(hash="0" * 64))
    assert audit.verify(session) == [audit.AuditBreak(tenant.slug, 2, records[-1].id, "head_mismatch")]


def test_a_missing_head_with_records_is_reported(session, append, tenant):
    records = append(tenant, 1)
    with db.engine.begin() as connection:
        connection.execute(delete(AuditHead.__table__))
    assert audit.verify(session) == [audit.AuditBreak(tenant.slug, 1, records[0].id, "head_mismatch")]


@pytest.mark.parametrize(("field", "value"), [("actor", ""), ("action", "x" * 61), ("subject_id", "1" * 41)])
def test_fields_that_do_not_fit_are_refused(session, tenant, field, value):
    fields = {"actor": "a", "action": "b", "subject_type": "c", "subject_id": 1, "data": {}} | {field: value}
    with tenant_scope(tenant.id), pytest.raises(ValueError, match=field), write_transaction(session):
        audit.record(session, **fields)
