"""One booking per vertical of the demo in Chromium, from the front page to the voucher, at phone and tablet sizes.

Each journey sends the form once with a mobile number the server refuses, reads the problem next to
that field with every other value kept, corrects it and books. On every page: nothing scrolls
sideways and every visible form control has a label. One journey runs with JavaScript off. The
timed entries (exhibition, scenic) are priced: their booking is held and the form leads to the pay
page; the customer pays in the sandbox provider's checkout and is returned to the voucher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from tenant_setup import id_number, make_booking_type, make_tenant, windows

from yuyue.credits.operations import sell_package
from yuyue.db import db
from yuyue.demo import DEMO_SLUG, seed_demo
from yuyue.payments.operations import set_payment_provider
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import get_tenant

BAD_MOBILE = "12345"
# How many days of the date strip a journey walks to find a slot that can be booked.
DAYS_WALKED = 14


@dataclass(frozen=True)
class Journey:
    vertical: str
    slug: str
    viewport: tuple[int, int]
    fields: dict[str, str]
    mobile: str
    checks: tuple[str, ...] = ()
    selects: dict[str, str] = field(default_factory=dict)
    javascript: bool = True
    paid: bool = False


ADULT_ID = id_number(date(1988, 3, 14))
JOURNEYS = [
    Journey("course", "course", (360, 800), {"answers.student_name": "李雷"}, "13900000001"),
    Journey(
        "vehicle",
        "vehicle",
        (375, 667),
        {"answers.passenger_name": "韩梅梅", "answers.seats": "1"},
        "13900000002",
        selects={"answers.pickup_point": "civic_centre", "answers.dropoff_point": "airport_t3"},
    ),
    Journey("exhibition", "exhibition", (390, 844), {"answers.visitor_name": "王芳", "answers.id_card": ADULT_ID}, "13900000003", paid=True),
    Journey("scenic", "scenic", (768, 1024), {"answers.visitor_name": "张伟", "answers.id_card": id_number(date(1979, 8, 2))}, "13900000004", paid=True),
    Journey(
        "activity", "activity", (375, 667), {"answers.name": "刘洋", "answers.attendees": "1"}, "13900000005", checks=("answers.consent",), javascript=False
    ),
]


@pytest.fixture
def demo(app, session) -> None:
    """The demo tenant with every vertical; payments through the sandbox provider; the course student holds a class pass."""
    list(seed_demo(session, plugin_host()))
    tenant = get_tenant(session, DEMO_SLUG)
    set_payment_provider(session, tenant, "sandbox", config={"secret": "sandbox-secret-of-the-demo"})
    sell_package(session, tenant, phone=JOURNEYS[0].mobile, package_code="ten-classes", actor="test")
    db.session.remove()


@pytest.fixture
def open_page(browser, live_server) -> Iterator[Callable[[Journey], Page]]:
    """A page for a journey: its viewport, JavaScript on or off; requests may reach only the live server."""
    contexts = []
    origin = urlsplit(live_server).netloc

    def make(journey: Journey) -> Page:
        width, height = journey.viewport
        context = browser.new_context(viewport={"width": width, "height": height}, java_script_enabled=journey.javascript, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.foreign = []
        page.errors = []

        def only_the_server(route) -> None:
            if urlsplit(route.request.url).netloc == origin:
                route.continue_()
            else:
                page.foreign.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_server)
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


def check_page(page: Page) -> None:
    """Nothing scrolls sideways; every visible control is named by a label."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{page.url} scrolls sideways"
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(c => c.type !== 'hidden' && c.offsetParent !== null)
            .filter(c => !(c.labels && c.labels.length))
            .map(c => c.name || c.id)"""
    )
    assert unlabelled == [], f"{page.url}: controls without a label: {unlabelled}"


def follow(page: Page, link) -> None:
    """Click a link or a form's button and wait for the page it leads to (after any redirect)."""
    with page.expect_navigation():
        link.click()


def submit(page: Page) -> None:
    with page.expect_navigation():
        page.locator('form.booking button[type="submit"]').click()


def choose_a_slot(page: Page, journey: Journey) -> None:
    """From the front page to the form: the booking type's card, then the first day of the strip with a slot to book."""
    follow(page, page.locator(f'.booking-type-card h2 a[href$="/book/{journey.slug}/"]'))
    check_page(page)
    for _ in range(DAYS_WALKED):
        book = page.locator("a.slot-book")
        if book.count():
            follow(page, book.first)
            return
        follow(page, page.locator(".date-strip-days a[aria-current] >> xpath=../following-sibling::li[1]/a"))
        check_page(page)
    pytest.fail(f"no slot of {journey.slug} can be booked in {DAYS_WALKED} days")


def fill(page: Page, journey: Journey, mobile: str) -> None:
    for name, value in journey.fields.items():
        page.locator(f'[name="{name}"]').fill(value)
    for name, value in journey.selects.items():
        page.locator(f'select[name="{name}"]').select_option(value)
    for name in journey.checks:
        page.locator(f'input[type="checkbox"][name="{name}"]').check()
    page.locator('[name="answers.mobile"]').fill(mobile)
    page.locator('[name="phone"]').fill(journey.mobile)


@pytest.mark.parametrize("journey", JOURNEYS, ids=[j.vertical for j in JOURNEYS])
def test_a_customer_books_from_the_front_page_to_the_voucher(open_page, live_server, demo, journey):
    page = open_page(journey)
    page.goto(f"{live_server}/t/{DEMO_SLUG}/")
    check_page(page)
    choose_a_slot(page, journey)
    check_page(page)

    # A mobile number the server refuses: the problem sits next to that field, every other value is kept.
    fill(page, journey, BAD_MOBILE)
    submit(page)
    expect(page.locator("#f-answers-mobile-error")).to_be_visible()
    check_page(page)
    for name, value in journey.fields.items():
        expect(page.locator(f'[name="{name}"]')).to_have_value(value)
    expect(page.locator('[name="answers.mobile"]')).to_have_value(BAD_MOBILE)

    page.locator('[name="answers.mobile"]').fill(journey.mobile)
    submit(page)
    assert "/bookings/" in page.url, page.locator(".field-error").all_inner_texts()
    public_id = urlsplit(page.url).path.split("/bookings/")[1].split("/")[0]
    if journey.paid:
        # The pay page opens the payment and redirects to the provider, whose checkout returns to the voucher.
        assert page.url.endswith("/pay"), page.url
        check_page(page)
        follow(page, page.locator("form.account-form button.button"))
        assert "/pay/sandbox/" in page.url, page.url
        check_page(page)
        follow(page, page.locator("form.account-form button.button"))
        assert page.url.endswith(f"/bookings/{public_id}"), page.url
    expect(page.locator(".voucher .booking-status")).to_have_text("已确认")
    expect(page.locator("svg.voucher-qr")).to_be_visible()
    expect(page.locator(".voucher-code .code")).not_to_be_empty()
    check_page(page)
    assert page.foreign == [] and page.errors == []


SHOW_IF_FORM = {
    "type": "object",
    "properties": {
        "visitor_type": {"x-field": "select", "x-options": [{"value": "adult", "label": "成人"}, {"value": "student", "label": "学生"}]},
        "school": {"x-field": "text", "minLength": 2, "x-show-if": {"field": "visitor_type", "enum": ["student"]}},
    },
    "required": ["visitor_type", "school"],
}


def test_a_field_shown_only_for_an_answer_follows_that_answer_with_javascript(open_page, live_server, session):
    tenant = make_tenant(session, "museum")
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00")), form=SHOW_IF_FORM, ui=None)
    db.session.remove()
    page = open_page(Journey("show-if", "entry", (360, 800), {}, ""))
    page.goto(f"{live_server}/t/museum/book/entry/")
    follow(page, page.locator(".date-strip-days li:nth-child(2) a"))
    follow(page, page.locator("a.slot-book").first)
    school = page.locator('[data-field="answers.school"]')
    expect(school).to_be_hidden()
    page.locator('select[name="answers.visitor_type"]').select_option("student")
    expect(school).to_be_visible()
    expect(school.locator(".show-if-note")).to_be_hidden()
    check_page(page)
