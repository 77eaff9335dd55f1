"""The front page's vertical cards on the demo tenant: each vertical says what its customers look for first."""

from __future__ import annotations

import gzip
import re

import pytest

from yuyue.db import db
from yuyue.demo import seed_demo
from yuyue.plugins import plugin_host


@pytest.fixture
def demo_home(client, session) -> dict[str, str]:
    """The demo's front page in English, each booking type's card by its slug."""
    list(seed_demo(session, plugin_host()))
    db.session.remove()
    html = client.get("/t/demo/?lang=en").get_data(as_text=True)
    cards = html.split('<article class="card booking-type-card')[1:]
    return {re.search(r'href="/t/demo/book/([^/]+)/"', card).group(1): card for card in cards}


def test_every_active_demo_type_has_a_card(demo_home):
    assert {"activity", "course", "exhibition", "scenic", "vehicle", "yoga-class"} <= demo_home.keys()


def test_a_class_card_names_its_next_class_and_coach(demo_home):
    assert "Next class:" in demo_home["yoga-class"] and "Coach: Coach Wang" in demo_home["yoga-class"]


def test_a_class_card_names_the_coach_and_not_the_room_its_class_also_holds(demo_home):
    coach = re.search(r"Coach: ([^<]*)<", demo_home["course"]).group(1)
    assert coach and "," not in coach


def test_a_shuttle_card_names_its_next_departure_and_seats_left(demo_home):
    assert "Next departure:" in demo_home["vehicle"] and "Seats left: 45" in demo_home["vehicle"]


@pytest.mark.parametrize("slug", ["exhibition", "scenic"])
def test_a_timed_entry_card_lists_a_days_entry_times(demo_home, slug):
    # The first day in reach: late in the afternoon only today's last entry times are left, so at least one.
    assert "Entry times on" in demo_home[slug] and demo_home[slug].count('class="entry-time-at"') >= 1


def test_an_event_card_names_its_next_session_and_places_left(demo_home):
    assert "Next session:" in demo_home["activity"] and "Places left: 50" in demo_home["activity"]


def test_the_front_page_with_its_files_is_well_under_100_kb_compressed(client, demo_home):
    page = client.get("/t/demo/").data
    files = []
    for name in ("theme.css", "site.js"):
        response = client.get(f"/themes/default/{name}")
        files.append(response.data)
        response.close()  # a theme file is sent from disk
    assert sum(len(gzip.compress(body)) for body in (page, *files)) < 100_000
