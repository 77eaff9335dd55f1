"""Check-in by voucher code or signed QR payload: idempotent, and refusing with a reason."""

from datetime import timedelta

import pytest
from booking_setup import NOW, at, make_booking_type, make_tenant, phone
from sqlalchemy import func, select

from yuyue.bookings import operations as ops
from yuyue.bookings.checkin import check_in, voucher_qr
from yuyue.bookings.models import BookingStatus, CheckIn
from yuyue.db import tenant_scope
from yuyue.errors import InvalidInput, NotFound, Refused
from yuyue.forms.registry import form_registry

SECRET = "test"


@pytest.fixture
def tenant(session):
    return make_tenant(session)


@pytest.fixture
def booking(session, tenant):
    make_booking_type(session, tenant, price_amount=100)
    held = ops.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(1), answers={"name": "A"}, now=NOW)
    return ops.confirm(session, tenant, held.public_id, now=NOW)


def test_check_in_by_code_logs_staff_time_and_place(session, tenant, booking):
    result = check_in(session, tenant, secret_key=SECRET, code=booking.voucher_code, staff_user_id=None, place="East gate", now=at(8, 45))
    assert result.booking.status is BookingStatus.checked_in and not result.already_checked_in
    assert (result.check_in.place, result.check_in.method, result.check_in.at) == ("East gate", "code", at(8, 45))


def test_code_is_accepted_in_lower_case_with_spaces(session, tenant, booking):
    messy = " ".join([booking.voucher_code[:5].lower(), booking.voucher_code[5:]])
    assert check_in(session, tenant, secret_key=SECRET, code=messy, now=at(9)).booking.public_id == booking.public_id


def test_check_in_by_signed_qr_payload(session, tenant, booking):
    payload = voucher_qr(SECRET, tenant, booking)
    assert check_in(session, tenant, secret_key=SECRET, qr=payload, now=at(9)).check_in.method == "qr"


def test_second_scan_answers_with_the_first_check_in(session, tenant, booking):
    first = check_in(session, tenant, secret_key=SECRET, code=booking.voucher_code, place="East gate", now=at(9))
    again = check_in(session, tenant, secret_key=SECRET, code=booking.voucher_code, place="West gate", now=at(9, 5))
    assert again.already_checked_in and again.check_in.id == first.check_in.id
    with tenant_scope(tenant.id):
        assert session.scalar(select(func.count()).select_from(CheckIn)) == 1


def test_altered_qr_payload_is_refused(session, tenant, booking):
    payload = voucher_qr(SECRET, tenant, booking)
    with pytest.raises(Refused) as refused:
        check_in(session, tenant, secret_key=SECRET, qr=payload[:-2] + "xx", now=at(9))
    assert refused.value.code == "invalid_voucher"


def test_qr_of_another_tenant_is_refused(session, tenant, booking):
    other = make_tenant(session, "other-museum")
    with pytest.raises(Refused) as refused:
        check_in(session, other, secret_key=SECRET, qr=voucher_qr(SECRET, tenant, booking), now=at(9))
    assert refused.value.code == "wrong_tenant"


def test_code_of_another_tenant_is_not_found(session, tenant, booking):
    other = make_tenant(session, "other-museum")
    with pytest.raises(NotFound):
        check_in(session, other, secret_key=SECRET, code=booking.voucher_code, now=at(9))


@pytest.mark.parametrize(
    "moment, code",
    # The slot is 09:00-11:00; the exhibition vertical admits latecomers for 30 minutes by default.
    [(at(9) - timedelta(days=1), "wrong_day"), (at(7, 30), "too_early"), (at(11, 31), "slot_ended")],
)
def test_wrong_day_or_time_is_refused_with_its_reason(session, tenant, booking, moment, code):
    with pytest.raises(Refused) as refused:
        check_in(session, tenant, secret_key=SECRET, code=booking.voucher_code, now=moment)
    assert refused.value.code == code


def test_the_exhibition_vertical_lets_latecomers_in_for_its_grace_minutes(session, tenant, booking):
    assert not check_in(session, tenant, secret_key=SECRET, code=booking.voucher_code, now=at(11, 30)).already_checked_in


def test_cancelled_booking_is_refused(session, tenant, booking):
    ops.cancel(session, tenant, booking.public_id, now=NOW)
    with pytest.raises(Refused) as refused:
        check_in(session, tenant, secret_key=SECRET, code=booking.voucher_code, now=at(9))
    assert refused.value.code == "booking_cancelled"


def test_neither_or_both_of_code_and_qr_is_invalid(session, tenant, booking):
    with pytest.raises(InvalidInput):
        check_in(session, tenant, secret_key=SECRET, now=at(9))


def test_checked_in_booking_can_be_completed(session, tenant, booking):
    check_in(session, tenant, secret_key=SECRET, code=booking.voucher_code, now=at(9))
    assert ops.complete(session, tenant, booking.public_id).status is BookingStatus.completed
