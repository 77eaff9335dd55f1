"""The site's booking form with a privacy notice: the notice shown as text with a required box, a booking refused beside the
box until it is ticked, recorded as given on the site, and a notice that changed meanwhile shown anew and agreed to again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from site_booking_setup import ZONE, hidden_fields, slot_at, unlabelled_controls
from sqlalchemy import select
from tenant_setup import make_booking_type, make_tenant, phone, windows

from yuyue.bookings.models import Booking, Consent
from yuyue.catalog.privacy_notices import set_privacy_notice
from yuyue.db import tenant_scope

DAY = datetime.now(ZONE).date() + timedelta(days=2)
FORM = f"/t/museum/book/entry/form?at={slot_at(DAY, 9).isoformat().replace('+', '%2B')}"
HOSTILE = '<script>alert("notice")</script>\nSecond line & more'
FIELDS = {"answers.name": "Lin", "phone": phone(1), "party_size": "1"}


@pytest.fixture
def museum(session):
    tenant = make_tenant(session, "museum")
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00"), capacity=5))
    set_privacy_notice(session, tenant, "entry", {"en": HOSTILE, "zh-Hans": "隐私声明"}, actor="staff:1")
    return tenant


def open_form(client, lang: str = "en"):
    page = client.get(f"{FORM}&lang={lang}")
    assert page.status_code == 200, page.get_data(as_text=True)
    return page.get_data(as_text=True), hidden_fields(page)


def stored(session, tenant) -> tuple[list[Booking], list[Consent]]:
    with tenant_scope(tenant.id):
        return list(session.scalars(select(Booking))), list(session.scalars(select(Consent)))


def test_the_form_shows_the_notice_as_text_with_a_required_labelled_box(client, museum):
    html, _ = open_form(client)

    assert "&lt;script&gt;alert(&#34;notice&#34;)&lt;/script&gt;" in html and "<script>alert" not in html
    assert 'name="privacy_consent" value="1" required' in html
    assert unlabelled_controls(html) == []


def test_the_notice_is_shown_in_the_readers_language(client, museum):
    html, _ = open_form(client, lang="zh-Hans")

    assert "隐私声明" in html


def test_a_booking_without_the_box_ticked_is_refused_beside_it_with_every_value_kept(client, session, museum):
    _, hidden = open_form(client)

    refused = client.post(FORM, data={**hidden, **FIELDS})

    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="f-privacy-consent-error"' in html and 'value="Lin"' in html
    assert stored(session, museum) == ([], [])


def test_a_booking_with_the_box_ticked_records_the_consent_given_on_the_site(client, session, museum):
    _, hidden = open_form(client)

    placed = client.post(FORM, data={**hidden, **FIELDS, "privacy_consent": "1"})

    assert placed.status_code == 303
    (booking,), (consent,) = stored(session, museum)
    assert (consent.booking_id, consent.notice_version, consent.channel.value) == (booking.id, 1, "site")


def test_a_notice_changed_while_the_form_was_open_is_shown_anew_unticked(client, session, museum):
    _, hidden = open_form(client)
    set_privacy_notice(session, museum, "entry", "Version two of the notice", actor="staff:1")

    refused = client.post(FORM, data={**hidden, **FIELDS, "privacy_consent": "1"})

    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Version two of the notice" in html and 'name="privacy_consent" value="2" required aria-describedby' in html
    assert stored(session, museum) == ([], [])


@pytest.mark.parametrize("ticked", ["on", "0", "-1", "1.0", "99999999999", "\u0661"])
def test_a_box_that_does_not_carry_a_version_counts_as_unticked(client, session, museum, ticked):
    _, hidden = open_form(client)

    refused = client.post(FORM, data={**hidden, **FIELDS, "privacy_consent": ticked})

    assert refused.status_code == 422 and 'id="f-privacy-consent-error"' in refused.get_data(as_text=True)


def test_without_a_notice_the_form_asks_nothing(client, session):
    tenant = make_tenant(session, "museum")
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00"), capacity=5))

    html, hidden = open_form(client)
    placed = client.post(FORM, data={**hidden, **FIELDS})

    assert "privacy_consent" not in html
    assert placed.status_code == 303
