"""The admin inbox of reviews and feedback: filters, a manager replies, hides and marks handled; staff read only; hostile text inert."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from tenant_setup import make_booking_type, phone, windows

from yuyue.bookings import operations as ops
from yuyue.bookings.checkin import check_in
from yuyue.bookings.models import Feedback
from yuyue.bookings.placement import Actor
from yuyue.bookings.reviews import write_review
from yuyue.customers.operations import customer_for_phone
from yuyue.db import tenant_scope
from yuyue.forms.registry import form_registry
from yuyue.provisioning.operations import get_tenant
from yuyue.types import utcnow

PAGE = "/admin/t/tenant-a/feedback/"
ZONE = ZoneInfo("Asia/Shanghai")
DAY = utcnow().astimezone(ZONE).date() + timedelta(days=10)
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture
def sent(signed_in_customer, admin_users) -> dict:
    """Customer 1's feedback, hostile text and all, and a harmless one."""
    ann = signed_in_customer(1)
    first = ann.post("/api/v1/t/tenant-a/me/feedback", json={"comment": HOSTILE, "category": "complaint"}).get_json()
    second = ann.post("/api/v1/t/tenant-a/me/feedback", json={"comment": "Lovely garden", "category": "praise"}).get_json()
    return {"hostile": first["id"], "praise": second["id"]}


def at(hour: int) -> datetime:
    return datetime.combine(DAY, time(hour), ZONE)


def item(session, feedback_id: int) -> Feedback:
    session.commit()
    session.expire_all()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        return session.scalar(select(Feedback).where(Feedback.id == feedback_id))


def test_the_inbox_lists_items_with_hostile_text_escaped(admin_login, sent):
    html = admin_login("staff-a", language="en").get(PAGE).get_data(as_text=True)

    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "Lovely garden" in html
    assert "138****0001" in html


def test_staff_read_without_the_forms_and_are_refused_the_actions(admin_login, session, sent):
    staff = admin_login("staff-a", language="en")

    assert "Send the reply" not in staff.get(PAGE).get_data(as_text=True)
    assert staff.post(f"{PAGE}{sent['praise']}/reply", {"reply": "hi"}).status_code == 403
    assert item(session, sent["praise"]).reply is None


def test_a_manager_replies_hides_and_marks_handled(admin_login, session, sent):
    manager = admin_login("manager-a", language="en")
    manager.get(PAGE)

    assert manager.post(f"{PAGE}{sent['praise']}/reply", {"reply": "Thank you!", "back": "kind=feedback"}).status_code == 303
    assert manager.post(f"{PAGE}{sent['hostile']}/hide", {"reason": "abusive"}).status_code == 303
    assert manager.post(f"{PAGE}{sent['hostile']}/handled", {"handled": "true"}).status_code == 303

    praise, hostile = item(session, sent["praise"]), item(session, sent["hostile"])
    assert praise.reply == "Thank you!" and praise.replied_by.startswith("staff:")
    assert (hostile.hidden, hostile.hidden_reason, hostile.handled) == (True, "abusive", True)
    html = manager.get(f"{PAGE}?hidden=true").get_data(as_text=True)
    assert "Hidden from customers: abusive" in html and "Lovely garden" not in html


def test_a_refused_action_is_shown_on_the_item_and_changes_nothing(admin_login, session, sent):
    manager = admin_login("manager-a", language="en")

    refused = manager.post(f"{PAGE}{sent['praise']}/reply", {"reply": "x" * 1001})

    assert refused.status_code == 422 and 'role="alert"' in refused.get_data(as_text=True)
    assert item(session, sent["praise"]).reply is None


def test_a_bad_filter_is_shown_not_failed(admin_login, sent):
    response = admin_login("staff-a", language="en").get(f"{PAGE}?rating=9&from=yesterday")

    assert response.status_code == 422 and "rating" in response.get_data(as_text=True)


def test_the_filters_narrow_the_list(admin_login, sent):
    html = admin_login("staff-a", language="en").get(f"{PAGE}?q=garden").get_data(as_text=True)

    assert "Lovely garden" in html and "&lt;script&gt;" not in html


def test_the_statistics_page_shows_the_average_rating_of_the_periods_bookings(app, admin_login, session, tenants):
    tenant = get_tenant(session, "tenant-a")
    make_booking_type(session, tenant, "entry", name={"zh-Hans": "门票A", "en": "Entry A"}, rules=windows(("09:00", "10:00")))
    for n, rating in ((1, 5), (2, 4)):
        booking = ops.book(session, form_registry(), tenant, booking_type_slug="entry", starts_at=at(9), phone=phone(n), answers={"name": f"Guest {n}"})
        booking = booking if booking.voucher_code else ops.confirm(session, tenant, booking.public_id)
        check_in(session, tenant, secret_key=app.config["SECRET_KEY"], code=booking.voucher_code, now=at(9) + timedelta(minutes=5))
        ops.complete(session, tenant, booking.public_id, now=at(10))
        with tenant_scope(tenant.id):
            customer = customer_for_phone(session, phone(n))
        write_review(session, tenant, customer, booking.public_id, rating=rating, now=at(11), actor=Actor("customer", phone(n)))
    session.commit()

    html = admin_login("manager-a", language="en").get(f"/admin/t/tenant-a/?from={DAY}&to={DAY}").get_data(as_text=True)

    table = html.split('<table class="ratings">', 1)[1].split("</table>", 1)[0]
    assert "Entry A" in table and "<td>2</td><td>4.5</td>" in table
