"""The builder's privacy notice tab: publishing a notice per language (a new version each time the text changes), problems beside
their field with the text kept, withdrawing it, the history, and hostile text shown escaped."""

from __future__ import annotations

import pytest
from builder_setup import BASE
from tenant_setup import make_booking_type

from yuyue.catalog.operations import get_booking_type
from yuyue.catalog.privacy_notices import MAX_NOTICE_LENGTH, notice_versions
from yuyue.provisioning.operations import get_tenant

PAGE = f"{BASE}/entry/privacy-notice"
HOSTILE = '<img src=x onerror="alert(1)"> & terms'


@pytest.fixture
def manager(admin_login, session, tenants):
    make_booking_type(session, tenants["tenant-a"], "entry")
    return admin_login("manager-a", language="en")


def entry(session):
    return get_booking_type(session, get_tenant(session, "tenant-a"), "entry")


def publish(client, **texts):
    return client.post(PAGE, {"action": "save", **{f"text.{code}": text for code, text in texts.items()}})


def test_the_tab_says_there_is_no_notice_yet(manager):
    page = manager.get(PAGE).get_data(as_text=True)

    assert "No notice: bookings ask for no consent." in page and 'name="text.zh-Hans"' in page and 'name="text.en"' in page


def test_publishing_makes_a_version_and_a_changed_text_the_next(manager, session):
    assert publish(manager, en="Our terms", **{"zh-Hans": "条款"}).status_code == 302
    assert publish(manager, en="Our terms", **{"zh-Hans": "条款"}).status_code == 302
    assert publish(manager, en="Our new terms").status_code == 302

    versions, count = notice_versions(session, entry(session))
    assert [(v.version, v.text) for v in versions] == [(2, {"en": "Our new terms"}), (1, {"en": "Our terms", "zh-Hans": "条款"})]
    page = manager.get(PAGE).get_data(as_text=True)
    assert "Bookings agree to version 2 of this notice." in page and ">Our new terms</textarea>" in page


def test_an_empty_notice_is_refused_and_one_too_long_beside_its_language_with_the_text_kept(manager, session):
    empty = publish(manager)
    long = publish(manager, en="x" * (MAX_NOTICE_LENGTH + 1), **{"zh-Hans": "条款"})

    assert empty.status_code == 422 and "flash-error" in empty.get_data(as_text=True)
    assert long.status_code == 422
    html = long.get_data(as_text=True)
    assert 'id="text.en-error"' in html and ">条款</textarea>" in html
    assert notice_versions(session, entry(session))[1] == 0


def test_withdrawing_stops_asking_and_keeps_the_history(manager, session):
    publish(manager, en="Our terms")

    assert manager.post(PAGE, {"action": "withdraw"}).status_code == 302

    assert entry(session).privacy_notice_version is None
    page = manager.get(PAGE).get_data(as_text=True)
    assert "No notice" in page and "withdrawn" in page


def test_hostile_text_is_kept_as_typed_and_shown_escaped(manager, session):
    publish(manager, en=HOSTILE)

    page = manager.get(PAGE).get_data(as_text=True)
    assert notice_versions(session, entry(session))[0][0].text == {"en": HOSTILE}
    assert '<img src=x onerror="alert(1)">' not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; terms" in page
