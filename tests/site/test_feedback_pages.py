"""Reviews and feedback on the site: rating a finished booking on its page and seeing the reply; the feedback page; hostile text inert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from account_setup import SITE, Browser, make_visit, phone, place, slot
from sqlalchemy import select
from test_site_languages import english_msgids, visible_text

from yuyue.bookings import operations as bookings
from yuyue.bookings.checkin import check_in
from yuyue.bookings.models import Feedback
from yuyue.bookings.placement import Actor
from yuyue.bookings.reviews import reply_to_feedback, write_review
from yuyue.customers.operations import customer_for_phone
from yuyue.db import tenant_scope
from yuyue.provisioning.operations import get_tenant

pytestmark = pytest.mark.usefixtures("tenants")

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture
def finished(app, session):
    """Customer 1's visit, checked in and completed; the application's clock after it."""
    make_visit(session)
    tenant = get_tenant(session, "tenant-a")
    booking = place(session, 1)
    if booking.voucher_code is None:
        booking = bookings.confirm(session, tenant, booking.public_id)
    check_in(session, tenant, secret_key=app.config["SECRET_KEY"], code=booking.voucher_code, now=slot(9) + timedelta(minutes=5))
    bookings.complete(session, tenant, booking.public_id, now=slot(10))
    app.config["CLOCK"] = lambda: slot(12)
    return booking


@pytest.fixture
def browser(app) -> Browser:
    browser = Browser(app)
    browser.log_in(1)
    return browser


def items(session) -> list[Feedback]:
    session.commit()
    session.expire_all()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        return list(session.scalars(select(Feedback).order_by(Feedback.id)))


def test_a_finished_booking_is_rated_on_its_page_and_shows_the_reply(browser, session, finished):
    page = browser.page(f"{SITE}/bookings/{finished.public_id}")
    assert 'action="/t/tenant-a/bookings/' in page and 'name="rating"' in page

    sent = browser.post(f"{SITE}/bookings/{finished.public_id}/review", {"rating": "4", "comment": "Lovely"})
    assert sent.status_code == 303
    (review,) = items(session)
    assert (review.rating, review.comment, review.booking_id) == (4, "Lovely", finished.id)

    with tenant_scope(review.tenant_id):
        reply_to_feedback(session, get_tenant(session, "tenant-a"), review.id, reply="Thank you, come again", now=slot(13), actor=Actor("staff", 1))
    page = browser.page(f"{SITE}/bookings/{finished.public_id}")
    assert "Thank you, come again" in page and "Lovely" in page
    assert 'name="rating"' not in page  # replied to: no longer changed


def test_a_booking_not_over_offers_no_review(browser, session, app):
    make_visit(session)
    booking = place(session, 1)

    assert 'name="rating"' not in browser.page(f"{SITE}/bookings/{booking.public_id}")
    refused = browser.post(f"{SITE}/bookings/{booking.public_id}/review", {"rating": "5"})
    assert refused.status_code == 409 and items(session) == []


def test_a_bad_rating_is_refused_next_to_the_field_with_the_comment_kept(browser, session, finished):
    refused = browser.post(f"{SITE}/bookings/{finished.public_id}/review", {"rating": "9", "comment": "kept text"})

    assert refused.status_code == 422
    assert "kept text" in refused.get_data(as_text=True) and items(session) == []


def test_another_customers_booking_cannot_be_reviewed(app, session, finished):
    other = Browser(app, address="10.0.0.2")
    other.log_in(2)

    assert other.post(f"{SITE}/bookings/{finished.public_id}/review", {"rating": "1"}).status_code == 404
    assert items(session) == []


def test_hostile_text_is_shown_inert_on_the_booking_and_feedback_pages(browser, session, finished):
    browser.page(f"{SITE}/bookings/{finished.public_id}")
    browser.post(f"{SITE}/bookings/{finished.public_id}/review", {"rating": "1", "comment": HOSTILE})
    browser.page(f"{SITE}/me/feedback")
    browser.post(f"{SITE}/me/feedback", {"comment": HOSTILE + "x" * 900})

    for path in (f"/bookings/{finished.public_id}", "/me/feedback"):
        html = browser.page(SITE + path)
        assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
    assert [i.comment for i in items(session)] == [HOSTILE, HOSTILE + "x" * 900]


def test_feedback_is_sent_with_a_category_and_listed(browser, session):
    browser.page(f"{SITE}/me/feedback")
    sent = browser.post(f"{SITE}/me/feedback", {"comment": "More benches, please", "category": "suggestion"})
    assert sent.status_code == 303

    page = browser.page(f"{SITE}/me/feedback?sent=1")
    assert "More benches, please" in page and "A suggestion" in page
    assert [(i.kind.value, i.category) for i in items(session)] == [("feedback", "suggestion")]


@pytest.mark.parametrize("comment", ["", "   ", "x" * 5000])
def test_bad_feedback_is_refused_next_to_the_field(browser, session, comment):
    browser.page(f"{SITE}/me/feedback")
    refused = browser.post(f"{SITE}/me/feedback", {"comment": comment})

    assert refused.status_code == 422 and 'id="feedback-comment-error"' in refused.get_data(as_text=True)
    assert items(session) == []


def test_a_nul_character_is_refused_and_nothing_is_stored(browser, session):
    browser.page(f"{SITE}/me/feedback")

    assert browser.post(f"{SITE}/me/feedback", {"comment": "a\x00b"}).status_code == 400
    assert items(session) == []


def test_the_feedback_page_needs_a_signed_in_customer(app):
    assert Browser(app).get(f"{SITE}/me/feedback").status_code == 302


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_no_english_message_on_the_feedback_pages_in_chinese(app, session, finished, locale):
    browser = Browser(app)
    browser.get(f"{SITE}/?lang={locale}")
    browser.log_in(1)
    pages = {
        "booking": browser.get(f"{SITE}/bookings/{finished.public_id}"),
        "refused review": browser.post(f"{SITE}/bookings/{finished.public_id}/review", {"rating": "0"}),
        "feedback": browser.get(f"{SITE}/me/feedback"),
        "refused feedback": browser.post(f"{SITE}/me/feedback", {"comment": " "}),
    }

    english = english_msgids(locale)
    for name, page in pages.items():
        text = visible_text(page.get_data(as_text=True)).replace("Tenant-A", "")
        assert [msgid for msgid, pattern in english if pattern.search(text)] == [], name


def test_the_booking_types_page_shows_its_rating_from_three_reviews(app, session):
    make_visit(session)
    tenant = get_tenant(session, "tenant-a")
    for n, rating in ((1, 5), (2, 4), (3, 4)):
        booking = place(session, n)
        booking = booking if booking.voucher_code else bookings.confirm(session, tenant, booking.public_id)
        check_in(session, tenant, secret_key=app.config["SECRET_KEY"], code=booking.voucher_code, now=slot(9) + timedelta(minutes=5))
        bookings.complete(session, tenant, booking.public_id, now=slot(10))
        with tenant_scope(tenant.id):
            customer = customer_for_phone(session, phone(n))
        write_review(session, tenant, customer, booking.public_id, rating=rating, now=slot(12), actor=Actor("customer", phone(n)))
        if n == 2:
            assert "of 5" not in Browser(app).page(f"{SITE}/book/visit/")
    session.commit()

    page = Browser(app).page(f"{SITE}/book/visit/")

    assert "4.33 of 5 (3 reviews)" in page
