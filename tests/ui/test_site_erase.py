"""The customer's erasure of their data in Chromium at a phone's size: from the profile to the confirmation, ticked, and
erased; the browser is signed out and the account holds nothing of theirs."""

from __future__ import annotations

from tenant_setup import phone
from test_site_account import SITE, check_page, signed_in_on_a_phone

from yuyue.bookings.customer_account import rename_customer
from yuyue.customers.models import Customer
from yuyue.customers.operations import customer_for_phone
from yuyue.db import db, tenant_scope


def test_erase_my_data_after_confirming(app, browser, live_server, session, tenants):
    with tenant_scope(tenants["tenant-a"].id):
        customer = customer_for_phone(session, phone(1))
        rename_customer(session, customer, "<b>Li Lei</b>")
        customer_id = customer.id
    db.session.remove()
    with signed_in_on_a_phone(app, browser, live_server) as page:
        page.get_by_role("link", name="My profile").click()
        page.wait_for_url(f"**{SITE}/me/profile")
        page.get_by_role("link", name="Erase my data").click()
        page.wait_for_url(f"**{SITE}/me/erase")
        check_page(page)
        page.get_by_role("button", name="Erase my data").click()  # not confirmed: the browser's own check or the server's refusal
        assert page.url.endswith(f"{SITE}/me/erase")
        page.get_by_label("I understand that this cannot be undone").check()
        page.get_by_role("button", name="Erase my data").click()
        page.get_by_role("status").wait_for()
        check_page(page)
        assert "has been erased" in page.get_by_role("status").inner_text()
        page.goto(f"{SITE}/me/profile")
        page.wait_for_url(f"**{SITE}/login**")
    with tenant_scope(tenants["tenant-a"].id):
        erased = db.session.get(Customer, customer_id)
        assert (erased.name, erased.phone, erased.erased_at is not None) == (None, None, True)
