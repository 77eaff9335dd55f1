"""The same front page in Chromium under the ``default`` and ``ink`` themes, with the tenant's brand colour and logo.

What differs is read from the DOM (computed styles and boxes), not from the HTML: the brand colour reaches
the page through its own stylesheet (the CSP allows no inline style), ink's ink band spans the window while
the default header is a centred column, ink's rows have no card edges, its headings are serif. Screenshots of
each go to ``$YUYUE_TEST_ARTIFACTS`` (default ``test-artifacts/`` at the repository root).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image
from tenant_setup import make_booking_type

from yuyue.db import db, tenant_scope
from yuyue.plugins import plugin_host
from yuyue.provisioning.appearance import read_logo, set_appearance, set_logo
from yuyue.tenancy.queries import get_tenant

ARTIFACTS = Path(os.environ.get("YUYUE_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")
BRAND = "#2e7d32"
BRAND_RGB = "rgb(46, 125, 50)"
VIEWPORTS = {"phone": (360, 800), "tablet": (768, 1024)}

STYLES = """() => {
  const style = (selector) => getComputedStyle(document.querySelector(selector));
  const header = document.querySelector('.site-header');
  const card = style('.card');
  return {
    headerBackground: style('.site-header').backgroundColor,
    headerBorder: style('.site-header').borderBottomColor,
    headerWidth: header.getBoundingClientRect().width,
    navBelowHeader: document.querySelector('.site-nav').getBoundingClientRect().top >= header.getBoundingClientRect().bottom - 1,
    titleFont: style('.page-title').fontFamily,
    cardRadius: card.borderTopLeftRadius,
    cardLeftBorder: card.borderLeftWidth,
    bodyBackground: style('body').backgroundColor,
    logoLoaded: document.querySelector('.site-logo').naturalWidth,
    scrollWidth: document.documentElement.scrollWidth,
  };
}"""


def logo_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 48), "goldenrod").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def museum(app, session, tenants):
    """Tenant A with a booking type (a card on the front page), a brand colour and a logo."""
    tenant = tenants["tenant-a"]
    make_booking_type(session, tenant, "entry")
    with tenant_scope(tenant.id):
        set_appearance(session, tenant, {"brand_colour": BRAND}, themes=plugin_host().themes.keys(), actor="test")
        set_logo(session, tenant, read_logo(logo_png()), actor="test")
    db.session.remove()
    return tenant


def wear(tenant, theme: str | None) -> None:
    """Tenant A chooses ``theme`` (None: the default), as its manager would."""
    tenant = get_tenant(db.session, "tenant-a")
    with tenant_scope(tenant.id):
        set_appearance(db.session, tenant, {"theme": theme}, themes=plugin_host().themes.keys(), actor="test")
    db.session.remove()


def front_page(page, live_server: str, name: str) -> dict:
    page.goto(f"{live_server}/t/tenant-a/?lang=en")
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"site-theme-{name}.png"), full_page=True)
    return page.evaluate(STYLES)


@pytest.mark.parametrize("device", VIEWPORTS)
def test_default_and_ink_render_the_same_page_with_a_different_layout_and_palette_and_the_brand_colour(page, live_server, museum, device):
    width, height = VIEWPORTS[device]
    page.set_viewport_size({"width": width, "height": height})

    wear(museum, None)
    default = front_page(page, live_server, f"default-{device}")
    wear(museum, "ink")
    ink = front_page(page, live_server, f"ink-{device}")

    # the brand colour reaches both pages, through brand.css
    assert default["headerBorder"] == ink["headerBorder"] == BRAND_RGB
    # the palette: a light header on grey paper, an ink band on rice paper
    assert default["headerBackground"] == "rgb(255, 255, 255)" and ink["headerBackground"] == "rgb(28, 28, 28)"
    assert default["bodyBackground"] != ink["bodyBackground"]
    # the layout: cards with rounded edges, ruled rows without; ink's tabs sit under its band; ink's headings are serif
    assert default["cardRadius"] == "12px" and default["cardLeftBorder"] == "1px"
    assert ink["cardRadius"] == "0px" and ink["cardLeftBorder"] == "0px"
    assert not default["navBelowHeader"] and ink["navBelowHeader"]
    assert "serif" in ink["titleFont"] and "sans-serif" in default["titleFont"]
    if device == "tablet":  # the default header is the page's centred column; ink's band spans the window
        assert default["headerWidth"] == 640 and ink["headerWidth"] == width
    for found in (default, ink):
        assert found["logoLoaded"] == 96
        assert found["scrollWidth"] <= width, "the page scrolls sideways"
    assert page.watch.foreign_requests == []
    assert page.watch.errors == []


def test_a_button_wears_the_brand_colour_with_readable_text_in_both_themes(page, live_server, museum):
    page.set_viewport_size({"width": 375, "height": 667})
    buttons = {}
    for theme in (None, "ink"):
        wear(museum, theme)
        page.goto(f"{live_server}/t/tenant-a/book/no-such-type/?lang=en")
        button = page.locator("a.button").first
        buttons[theme or "default"] = button.evaluate(
            "b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color, getComputedStyle(b).borderTopLeftRadius]"
        )
        page.screenshot(path=str(ARTIFACTS / f"site-theme-button-{theme or 'default'}.png"), full_page=True)

    assert buttons["default"][:2] == buttons["ink"][:2] == [BRAND_RGB, "rgb(255, 255, 255)"]
    assert buttons["default"][2] == "12px" and buttons["ink"][2] == "0px"
