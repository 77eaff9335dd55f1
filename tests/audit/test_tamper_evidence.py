"""``yuyue audit verify`` finds edits to the rows the audit log vouches for, and, with signed checkpoints, rewritten or truncated chains.

Bookings are made through the operations; each tamper edits the database with
raw SQL, as someone with database access could, and verify must name what was
edited: the table and row id, or the checkpoint's seq and line.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
import tenant_setup
from payment_setup import make_priced_type, make_tenant, slot_start
from sqlalchemy import event, select, text, update
from tenant_setup import phone, windows

from yuyue.audit import operations as audit
from yuyue.audit.cli import audit_cli
from yuyue.audit.models import AuditHead, AuditRecord
from yuyue.bookings import operations as ops
from yuyue.bookings import waitlist
from yuyue.bookings.models import Booking, WaitlistEntry, WaitlistStatus
from yuyue.bookings.placement import Actor
from yuyue.catalog.operations import update_booking_type
from yuyue.customers.models import Customer
from yuyue.db import db, tenant_scope, write_transaction
from yuyue.forms.registry import form_registry
from yuyue.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from yuyue.payments.operations import record_offline_payment, send_refunds, set_payment_provider
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant
from yuyue.scheduling.models import SlotInventory
from yuyue.scheduling.registry import current_registry
from yuyue.types import utcnow

RECORDS = AuditRecord.__table__
HEADS = AuditHead.__table__


@pytest.fixture
def tenant(session):
    return make_tenant(session)


@pytest.fixture
def forms(app):
    return form_registry()


def book(session, forms, tenant, n: int, slug: str = "entry", hour: int = 9) -> Booking:
    return ops.book(session, forms, tenant, booking_type_slug=slug, starts_at=slot_start(hour=hour), phone=phone(n), answers={"name": f"Visitor {n}"})


@pytest.fixture
def bookings(session, forms, tenant) -> list[Booking]:
    """Three held bookings of a priced entry, the first paid at the counter (so it is confirmed and has a payment)."""
    make_priced_type(session, tenant)
    set_payment_provider(session, tenant, "offline")
    made = [book(session, forms, tenant, n) for n in (1, 2, 3)]
    record_offline_payment(session, tenant, made[0].public_id, actor=Actor("staff", 1))
    return made


@pytest.fixture
def free_bookings(session, forms, tenant) -> list[Booking]:
    """Three confirmed bookings of a free entry: rows no payment refers to, for edits a foreign key would refuse."""
    make_priced_type(session, tenant, "free", price=0)
    return [book(session, forms, tenant, n, slug="free") for n in (1, 2, 3)]


def verify(app, *args: str) -> tuple[int, list[str]]:
    result = app.test_cli_runner().invoke(audit_cli, ["verify", *args])
    return result.exit_code, result.output.splitlines()


def edit(sql: str, **params) -> None:
    """Change the database behind the application's back."""
    with db.engine.begin() as connection:
        connection.execute(text(sql), params)


# --- a clean database --------------------------------------------------------------------


def test_bookings_made_through_the_operations_verify(app, bookings):
    code, lines = verify(app)
    assert code == 0, lines
    assert lines[0].startswith("ok: ") and "rows" in lines[0]


def test_every_flow_leaves_rows_that_verify(app, session, forms, tenant):
    """Bookings, payments, refunds, cancellations, reschedules, expiries, waitlist offers and a rule change that resizes inventory."""
    make_priced_type(session, tenant)
    update_booking_type(
        session, plugin_host(), forms, current_registry(), tenant, "entry", availability_rules=windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=2)
    )
    set_payment_provider(session, tenant, "offline")
    first, second = book(session, forms, tenant, 1), book(session, forms, tenant, 2)
    record_offline_payment(session, tenant, first.public_id, actor=Actor("staff", 1))
    waiting = waitlist.join(session, forms, tenant, booking_type_slug="entry", starts_at=slot_start(hour=9), phone=phone(3), answers={"name": "Visitor 3"})
    ops.cancel(session, tenant, first.public_id, by_staff=True, actor=Actor("staff", 1))  # refund requested, place offered to the waitlist
    assert len(send_refunds(session, tenant)) == 1
    later = utcnow() + timedelta(hours=1)
    assert [entry.id for entry in waitlist.expire_offers(session, tenant, now=later)] == [waiting.id]  # the place passes on, nobody waits
    ops.reschedule(session, forms, tenant, second.public_id, starts_at=slot_start(hour=10))
    third = book(session, forms, tenant, 4)
    assert [b.public_id for b in ops.expire_holds(session, tenant, now=later)] == [second.public_id, third.public_id]
    book(session, forms, tenant, 5), book(session, forms, tenant, 6)
    queued = waitlist.join(session, forms, tenant, booking_type_slug="entry", starts_at=slot_start(hour=9), phone=phone(7), answers={"name": "Visitor 7"})
    update_booking_type(
        session, plugin_host(), forms, current_registry(), tenant, "entry", availability_rules=windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=3)
    )
    waitlist.accept_offer(session, tenant, queued.id)  # the added place was offered to the queue first
    with tenant_scope(tenant.id):
        assert session.scalars(select(Refund.status)).all() == [RefundStatus.succeeded]
        assert session.scalar(select(SlotInventory.capacity).where(SlotInventory.starts_at == slot_start(hour=9))) == 3
        assert session.get(WaitlistEntry, queued.id).status is WaitlistStatus.accepted
    code, lines = verify(app)
    assert code == 0, lines


def test_the_booking_hot_path_records_its_rows_without_reading_them_again(session, forms):
    # An event sign-up whose merchant allows several sign-ups per phone and ID number, so its vertical counts no bookings
    # (the exhibition's people-per-day limit, or the event's one sign-up per person, would read them).
    tenant = create_tenant(
        session, plugin_host(), slug="events", name="Events", plugins={"activity": {"one_signup_per_phone": False, "one_signup_per_id_number": False}}
    )
    tenant_setup.make_booking_type(session, tenant, "entry", vertical="activity", rules=windows(("09:00", "11:00")))
    book(session, forms, tenant, 1)  # the slot's first booking inserts its inventory row
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        booking = book(session, forms, tenant, 2)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert not [sql for sql in statements if sql.lstrip().upper().startswith("SELECT") and ("slot_inventory" in sql or "FROM bookings" in sql)]
    with tenant_scope(tenant.id):
        state = session.scalar(select(AuditRecord.state).order_by(AuditRecord.seq.desc()).limit(1))
    assert set(state) == {f"bookings:{booking.id}", f"customers:{booking.customer_id}", f"slot_inventory:{booking.inventory_id}"}


def test_a_transaction_that_records_nothing_still_records_the_rows_it_changed(session, tenant, bookings):
    with tenant_scope(tenant.id), write_transaction(session):
        session.get(Customer, bookings[0].customer_id).name = "Renamed"
    with tenant_scope(tenant.id):
        last = session.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
    assert (last.action, last.subject_type, last.subject_id) == ("state.changed", "customers", str(bookings[0].customer_id))
    assert audit.check_chains(session).ok


@pytest.mark.tampers
def test_a_core_update_nobody_reported_is_found(app, session, tenant, bookings):
    """What the after-test check of the whole suite relies on: a write the audit log was not told of fails verify."""
    with tenant_scope(tenant.id), write_transaction(session):
        session.execute(update(Booking).where(Booking.id == bookings[1].id).values(price_amount=1).execution_options(synchronize_session=False))
        audit.record(session, actor="system", action="booking.repriced", subject_type="booking", subject_id=bookings[1].public_id, data={})
    assert verify(app) == (1, [f"museum: bookings {bookings[1].id}: row_changed"])


# --- rows edited behind the application's back --------------------------------------------


@pytest.mark.tampers
def test_a_changed_booking_status_is_named(app, bookings):
    edit("UPDATE bookings SET status = 'confirmed' WHERE id = :id", id=bookings[1].id)
    assert verify(app) == (1, [f"museum: bookings {bookings[1].id}: row_changed"])


@pytest.mark.tampers
def test_a_changed_booking_price_is_named(app, bookings):
    edit("UPDATE bookings SET price_amount = 1 WHERE id = :id", id=bookings[2].id)
    assert verify(app) == (1, [f"museum: bookings {bookings[2].id}: row_changed"])


@pytest.mark.tampers
def test_a_changed_customer_phone_is_named(app, bookings):
    edit("UPDATE customers SET phone = '13900000000' WHERE id = :id", id=bookings[0].customer_id)
    assert verify(app) == (1, [f"museum: customers {bookings[0].customer_id}: row_changed"])


@pytest.mark.tampers
def test_a_changed_payment_amount_is_named(app, session, tenant, bookings):
    with tenant_scope(tenant.id):
        payment = session.scalar(select(Payment).where(Payment.booking_id == bookings[0].id))
    session.commit()  # end the read, so verify sees the edit
    assert payment.status is PaymentStatus.paid
    edit("UPDATE payments SET amount = 1 WHERE id = :id", id=payment.id)
    assert verify(app) == (1, [f"museum: payments {payment.id}: row_changed"])


@pytest.mark.tampers
def test_a_changed_booking_type_price_is_named(app, session, tenant, bookings):
    booking_type_id = bookings[0].booking_type_id
    edit("UPDATE booking_types SET price_amount = 1 WHERE id = :id", id=booking_type_id)
    assert verify(app) == (1, [f"museum: booking_types {booking_type_id}: row_changed"])


@pytest.mark.tampers
def test_a_deleted_booking_is_named(app, free_bookings):
    edit("DELETE FROM bookings WHERE id = :id", id=free_bookings[2].id)
    assert verify(app) == (1, [f"museum: bookings {free_bookings[2].id}: row_missing"])


@pytest.mark.tampers
def test_two_bookings_with_their_public_ids_swapped_are_both_named(app, bookings):
    second, third = bookings[1], bookings[2]
    edit("UPDATE bookings SET public_id = 'spare' WHERE id = :a", a=second.id)
    edit("UPDATE bookings SET public_id = :public WHERE id = :b", public=second.public_id, b=third.id)
    edit("UPDATE bookings SET public_id = :public WHERE id = :a", public=third.public_id, a=second.id)
    assert verify(app) == (1, [f"museum: bookings {second.id}: row_changed", f"museum: bookings {third.id}: row_changed"])


@pytest.mark.tampers
def test_two_bookings_with_their_ids_swapped_are_both_named(app, free_bookings):
    second, third = free_bookings[1], free_bookings[2]
    spare = third.id + 1000
    edit("UPDATE bookings SET id = :spare WHERE id = :a", spare=spare, a=second.id)
    edit("UPDATE bookings SET id = :a WHERE id = :b", a=second.id, b=third.id)
    edit("UPDATE bookings SET id = :b WHERE id = :spare", b=third.id, spare=spare)
    assert verify(app) == (1, [f"museum: bookings {second.id}: row_changed", f"museum: bookings {third.id}: row_changed"])


@pytest.mark.tampers
def test_changed_taken_places_of_a_slot_are_named(app, bookings):
    edit("UPDATE slot_inventory SET taken = 0 WHERE id = :id", id=bookings[0].inventory_id)
    assert verify(app) == (1, [f"museum: slot_inventory {bookings[0].inventory_id}: row_changed"])


@pytest.mark.tampers
def test_a_row_no_record_covers_is_named(app, tenant, bookings):
    edit("INSERT INTO customers (tenant_id, phone, created_at) VALUES (:tenant, '13911112222', :now)", tenant=tenant.id, now=utcnow())
    code, lines = verify(app)
    assert code == 1 and len(lines) == 1 and lines[0].startswith("museum: customers ") and lines[0].endswith(": row_unrecorded")


@pytest.mark.tampers
def test_rows_of_a_tenant_whose_chain_is_broken_are_not_compared(app, session, tenant, bookings):
    edit("UPDATE bookings SET price_amount = 1 WHERE id = :id", id=bookings[2].id)
    edit("UPDATE audit_records SET actor = 'someone' WHERE tenant_id = :tenant AND seq = 1", tenant=tenant.id)
    code, lines = verify(app)
    assert code == 1 and len(lines) == 1 and lines[0].endswith(": hash_mismatch")


# --- the chain rewritten or truncated: signed checkpoints ----------------------------------


@pytest.fixture
def signing_key(app, tmp_path) -> tuple[Path, str]:
    """A signing key made with ``yuyue audit keygen``, and the public key it printed."""
    path = tmp_path / "audit-signing.pem"
    result = app.test_cli_runner().invoke(audit_cli, ["keygen", "--output", str(path)])
    assert result.exit_code == 0, result.output
    public = result.output.splitlines()[0].removeprefix("public key: ")
    return path, public


@pytest.fixture
def checkpoints(app, tmp_path, signing_key) -> Path:
    return tmp_path / "checkpoints.jsonl"


def checkpoint(app, signing_key, path: Path) -> str:
    result = app.test_cli_runner().invoke(audit_cli, ["checkpoint", "--output", str(path), "--key", str(signing_key[0])])
    assert result.exit_code == 0, result.output
    return result.output


def note(session, tenant, count: int) -> None:
    """Records that vouch for no row: dropping or rewriting them changes no row, so only a checkpoint can tell."""
    with tenant_scope(tenant.id):
        for n in range(count):
            with write_transaction(session):
                audit.record(session, actor="staff:1", action="note.added", subject_type="note", subject_id=n + 1, data={"n": n})


def head(tenant) -> tuple[int, str]:
    with db.engine.connect() as connection:
        return tuple(connection.execute(select(HEADS.c.seq, HEADS.c.hash).where(HEADS.c.tenant_id == tenant.id)).one())


def rewrite_chain(tenant, seq: int, **values) -> None:
    """Change record ``seq`` and recompute its hash, every later hash and the head, as someone who knows the hash rule could."""
    with db.engine.begin() as connection:
        rows = connection.execute(select(RECORDS).where(RECORDS.c.tenant_id == tenant.id, RECORDS.c.seq >= seq).order_by(RECORDS.c.seq)).all()
        prev_hash = rows[0].prev_hash
        for row in rows:
            fields = {name: getattr(row, name) for name in ("at", "actor", "action", "subject_type", "subject_id", "data", "state")}
            if row.seq == seq:
                fields.update(values)
            digest = audit.record_hash(prev_hash, seq=row.seq, **fields)
            connection.execute(RECORDS.update().where(RECORDS.c.id == row.id).values(prev_hash=prev_hash, hash=digest, **values if row.seq == seq else {}))
            prev_hash = digest
        connection.execute(HEADS.update().where(HEADS.c.tenant_id == tenant.id).values(hash=prev_hash))


def test_checkpoint_signs_each_tenants_head_once_until_it_moves(app, session, tenant, bookings, signing_key, checkpoints):
    assert checkpoint(app, signing_key, checkpoints) == f"checkpointed 1 tenants to {checkpoints}\n"
    assert checkpoint(app, signing_key, checkpoints) == f"checkpointed 0 tenants to {checkpoints}\n"
    note(session, tenant, 1)
    checkpoint(app, signing_key, checkpoints)
    lines = [json.loads(line) for line in checkpoints.read_text().splitlines()]
    assert [(line["tenant"], line["seq"], line["hash"]) for line in lines][-1] == ("museum", *head(tenant))
    assert len(lines) == 2 and lines[0].keys() == {"tenant", "tenant_id", "seq", "hash", "at", "key_id", "signature"}
    assert verify(app, "--checkpoints", str(checkpoints), "--public-key", signing_key[1])[0] == 0


@pytest.mark.tampers
def test_a_chain_rewritten_before_the_last_checkpoint_is_named(app, session, tenant, bookings, signing_key, checkpoints):
    note(session, tenant, 2)
    checkpoint(app, signing_key, checkpoints)
    seq, _ = head(tenant)
    rewrite_chain(tenant, seq - 1, actor="staff:2")
    assert verify(app)[0] == 0  # consistent again: without checkpoints nothing shows
    code, lines = verify(app, "--checkpoints", str(checkpoints), "--public-key", signing_key[1])
    assert (code, lines) == (1, [f"museum: seq {seq}: checkpoint_mismatch (checkpoint line 1)"])


@pytest.mark.tampers
def test_a_chain_truncated_with_its_head_rewound_is_named(app, session, tenant, bookings, signing_key, checkpoints):
    note(session, tenant, 2)
    checkpoint(app, signing_key, checkpoints)
    seq, _ = head(tenant)
    with db.engine.begin() as connection:
        kept = connection.execute(select(RECORDS.c.hash).where(RECORDS.c.tenant_id == tenant.id, RECORDS.c.seq == seq - 2)).scalar_one()
        connection.execute(RECORDS.delete().where(RECORDS.c.tenant_id == tenant.id, RECORDS.c.seq > seq - 2))
        connection.execute(HEADS.update().where(HEADS.c.tenant_id == tenant.id).values(seq=seq - 2, hash=kept))
    assert verify(app)[0] == 0  # consistent again: without checkpoints nothing shows
    code, lines = verify(app, "--checkpoints", str(checkpoints), "--public-key", signing_key[1])
    assert (code, lines) == (1, [f"museum: seq {seq}: checkpoint_beyond_head (checkpoint line 1)"])


@pytest.mark.parametrize("field, value", [("seq", 1), ("hash", "0" * 64), ("tenant_id", 999)])
def test_an_edited_checkpoint_line_has_a_bad_signature(app, tenant, bookings, signing_key, checkpoints, field, value):
    checkpoint(app, signing_key, checkpoints)
    line = json.loads(checkpoints.read_text())
    seq = value if field == "seq" else line["seq"]
    checkpoints.write_text(json.dumps({**line, field: value}) + "\n")
    code, lines = verify(app, "--checkpoints", str(checkpoints), "--public-key", signing_key[1])
    assert (code, lines) == (1, [f"museum: seq {seq}: bad_signature (checkpoint line 1)"])


def test_a_checkpoint_signed_by_another_key_has_a_bad_signature(app, tmp_path, tenant, bookings, signing_key, checkpoints):
    checkpoint(app, signing_key, checkpoints)
    other = app.test_cli_runner().invoke(audit_cli, ["keygen", "--output", str(tmp_path / "other.pem")]).output.splitlines()[0].removeprefix("public key: ")
    code, lines = verify(app, "--checkpoints", str(checkpoints), "--public-key", other)
    assert code == 1 and lines[0].endswith("bad_signature (checkpoint line 1)")


def test_a_line_that_is_no_checkpoint_is_named(app, tenant, bookings, signing_key, checkpoints):
    checkpoints.write_text("not json\n")
    assert verify(app, "--checkpoints", str(checkpoints), "--public-key", signing_key[1]) == (1, ["?: seq ?: malformed_checkpoint (checkpoint line 1)"])


def test_verify_takes_the_public_key_of_the_configured_signing_key(make_app, tenant, bookings, signing_key, checkpoints):
    configured = make_app(AUDIT_SIGNING_KEY=str(signing_key[0]))
    with configured.app_context():
        checkpoint(configured, signing_key, checkpoints)
        assert verify(configured, "--checkpoints", str(checkpoints))[0] == 0


def test_checkpoints_without_a_public_key_are_refused(app, checkpoints):
    result = app.test_cli_runner().invoke(audit_cli, ["verify", "--checkpoints", str(checkpoints)])
    assert result.exit_code != 0 and "--public-key" in result.output


def test_keygen_writes_a_private_key_only_its_owner_can_read_and_never_overwrites_it(app, signing_key):
    path, public = signing_key
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert public.startswith("ed25519:")
    again = app.test_cli_runner().invoke(audit_cli, ["keygen", "--output", str(path)])
    assert again.exit_code != 0 and "already exists" in again.output


def test_the_worker_signs_checkpoints_when_a_key_and_a_file_are_configured(make_app, session, tmp_path, signing_key):
    from yuyue.worker import make_queue, sign_checkpoints

    path = tmp_path / "worker-checkpoints.jsonl"
    configured = make_app(AUDIT_SIGNING_KEY=str(signing_key[0]), AUDIT_CHECKPOINTS=str(path), AUDIT_CHECKPOINT_MINUTES=5)
    queue = make_queue(configured)
    assert queue.audit_checkpoint is not None
    with configured.app_context():
        museum = make_tenant(db.session)
        note(db.session, museum, 1)
        assert sign_checkpoints(configured) == 1
    assert json.loads(path.read_text())["tenant"] == "museum"
    assert make_queue(make_app()).audit_checkpoint is None


@pytest.mark.parametrize("minutes", [0, 61])
def test_the_worker_refuses_a_checkpoint_interval_outside_an_hour(make_app, signing_key, tmp_path, minutes):
    from yuyue.worker import make_queue

    configured = make_app(AUDIT_SIGNING_KEY=str(signing_key[0]), AUDIT_CHECKPOINTS=str(tmp_path / "c.jsonl"), AUDIT_CHECKPOINT_MINUTES=minutes)
    with pytest.raises(ValueError, match="1-60"):
        make_queue(configured)
