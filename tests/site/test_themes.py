"""The site in the tenant's theme, with its brand colour and logo; theme files; a theme that overrides one template.

Pages are read through the Flask test client; what a browser makes of them is in ``tests/ui/test_site_themes.py``.
"""

from __future__ import annotations

import importlib
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from yuyue.db import db, tenant_scope
from yuyue.plugins import plugin_host
from yuyue.provisioning.appearance import read_logo, set_appearance, set_logo
from yuyue.provisioning.operations import create_tenant
from yuyue.site.branding import accent_text
from yuyue.tenancy.models import Tenant

TEST_THEMES = Path(__file__).resolve().parents[1] / "themes"
STYLESHEETS = re.compile(r'<link rel="stylesheet" href="([^"]+)">')


def choose(tenant: Tenant, **changes) -> None:
    """Change ``tenant``'s appearance as the merchant API does."""
    with tenant_scope(tenant.id):
        set_appearance(db.session, tenant, changes, themes=plugin_host().themes.keys(), actor="system")


def png(width: int = 40, height: int = 20, colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def give_logo(tenant: Tenant, data: bytes) -> None:
    with tenant_scope(tenant.id):
        set_logo(db.session, tenant, read_logo(data), actor="system")


def stylesheets(html: str) -> list[str]:
    return STYLESHEETS.findall(html)


# --- the theme renders the pages ----------------------------------------------------------------


def test_a_tenant_that_chose_no_theme_gets_the_default_layout(client, tenants):
    html = client.get("/t/tenant-a/").get_data(as_text=True)

    assert 'class="theme-default"' in html
    assert "ink-band" not in html
    assert stylesheets(html) == ["/themes/default/theme.css"]


def test_choosing_ink_changes_the_layout_of_that_tenant_only(client, tenants):
    choose(tenants["tenant-a"], theme="ink")

    ink = client.get("/t/tenant-a/").get_data(as_text=True)
    default = client.get("/t/tenant-b/").get_data(as_text=True)

    assert 'class="theme-ink"' in ink and 'class="site-header ink-band"' in ink and "ink-tabs" in ink and "ink-seal" in ink
    # ink is a layer over the default stylesheet; the page content (the front page) is still the default theme's
    assert stylesheets(ink) == ["/themes/default/theme.css", "/themes/ink/theme.css"]
    assert 'class="page-title"' in ink
    assert 'class="theme-default"' in default and "ink-band" not in default


def test_a_theme_no_longer_installed_falls_back_to_the_default(client, tenants, session):
    tenant = tenants["tenant-a"]
    tenant.theme = "uninstalled"  # chosen while it was installed; the plugin host no longer has it
    session.commit()

    response = client.get("/t/tenant-a/")

    assert response.status_code == 200
    assert 'class="theme-default"' in response.get_data(as_text=True)


def test_error_pages_are_in_the_tenant_theme_too(client, tenants):
    choose(tenants["tenant-a"], theme="ink")

    response = client.get("/t/tenant-a/book/no-such-type/")

    assert response.status_code >= 400
    assert "ink-band" in response.get_data(as_text=True)


# --- the brand colour ---------------------------------------------------------------------------


def test_the_brand_colour_is_a_linked_stylesheet_setting_the_accent(client, tenants):
    choose(tenants["tenant-a"], brand_colour="#1B5E20")

    html = client.get("/t/tenant-a/").get_data(as_text=True)
    [theme_css, brand_link] = stylesheets(html)
    brand = client.get(brand_link)

    assert theme_css == "/themes/default/theme.css"
    assert brand_link == "/t/tenant-a/brand.css?v=1b5e20"
    assert brand.status_code == 200 and brand.mimetype == "text/css"
    assert brand.get_data(as_text=True) == ":root { --accent: #1b5e20; --accent-text: #ffffff; }\n"
    assert "style=" not in html and "<style" not in html


def test_the_brand_stylesheet_comes_after_the_theme_stylesheets_so_it_wins(client, tenants):
    choose(tenants["tenant-a"], theme="ink", brand_colour="#123456")

    html = client.get("/t/tenant-a/").get_data(as_text=True)

    assert stylesheets(html) == ["/themes/default/theme.css", "/themes/ink/theme.css", "/t/tenant-a/brand.css?v=123456"]


@pytest.mark.parametrize(
    ("colour", "text"), [("#ffe680", "#111111"), ("#ffffff", "#111111"), ("#0b57d0", "#ffffff"), ("#000000", "#ffffff"), ("#b7332a", "#ffffff")]
)
def test_the_accent_text_is_whichever_of_black_and_white_reads_better(colour, text):
    assert accent_text(colour) == text


def test_the_brand_stylesheet_is_cached_by_etag(client, tenants):
    choose(tenants["tenant-a"], brand_colour="#ffe680")

    first = client.get("/t/tenant-a/brand.css")
    again = client.get("/t/tenant-a/brand.css", headers={"If-None-Match": first.headers["ETag"]})
    choose(tenants["tenant-a"], brand_colour="#000000")
    changed = client.get("/t/tenant-a/brand.css", headers={"If-None-Match": first.headers["ETag"]})

    assert "--accent-text: #111111" in first.get_data(as_text=True)
    assert first.headers["ETag"] and "public" in first.headers["Cache-Control"] and "max-age=300" in first.headers["Cache-Control"]
    assert again.status_code == 304
    assert changed.status_code == 200 and "--accent: #000000" in changed.get_data(as_text=True)


def test_without_a_brand_colour_no_brand_stylesheet_is_linked_and_it_sets_nothing(client, tenants):
    html = client.get("/t/tenant-a/").get_data(as_text=True)
    brand = client.get("/t/tenant-a/brand.css").get_data(as_text=True)

    assert "brand.css" not in html
    assert "--accent" not in brand


def test_each_tenant_brand_stylesheet_has_its_own_colour(client, tenants):
    choose(tenants["tenant-a"], brand_colour="#aa0000")
    choose(tenants["tenant-b"], brand_colour="#0000bb")

    assert "#aa0000" in client.get("/t/tenant-a/brand.css").get_data(as_text=True)
    assert "#aa0000" not in client.get("/t/tenant-b/brand.css").get_data(as_text=True)


# --- the logo -----------------------------------------------------------------------------------


def test_the_logo_is_shown_in_the_header_and_served_with_its_type(client, tenants):
    logo = png()
    give_logo(tenants["tenant-a"], logo)

    html = client.get("/t/tenant-a/").get_data(as_text=True)
    [src] = re.findall(r'<img class="site-logo" src="([^"]+)" alt="">', html)
    served = client.get(src)

    assert src.startswith("/t/tenant-a/logo?v=")
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    assert served.get_data() == logo
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["ETag"].strip('"') == tenants["tenant-a"].logo_digest
    assert client.get(src, headers={"If-None-Match": served.headers["ETag"]}).status_code == 304


def test_a_tenant_without_a_logo_shows_its_name_alone_and_serves_no_logo(client, tenants):
    give_logo(tenants["tenant-b"], png())

    html = client.get("/t/tenant-a/").get_data(as_text=True)

    assert "site-logo" not in html and '<span class="site-name">Tenant-A</span>' in html
    assert client.get("/t/tenant-a/logo").status_code == 404


def test_a_webp_logo_is_served_as_webp(client, tenants):
    buffer = io.BytesIO()
    Image.new("RGBA", (16, 16), (0, 0, 255, 128)).save(buffer, "WEBP")
    give_logo(tenants["tenant-a"], buffer.getvalue())

    assert client.get("/t/tenant-a/logo").mimetype == "image/webp"


# --- the themes' files --------------------------------------------------------------------------


def test_theme_files_are_cached_for_a_day_and_answer_by_etag(client):
    response = client.get("/themes/ink/theme.css")
    again = client.get("/themes/ink/theme.css", headers={"If-None-Match": response.headers["ETag"]})

    assert response.status_code == 200 and response.mimetype == "text/css"
    assert "public" in response.headers["Cache-Control"] and "max-age=86400" in response.headers["Cache-Control"]
    assert again.status_code == 304
    response.close()
    again.close()


def test_a_theme_file_the_theme_lacks_is_the_default_theme_one(client):
    ink = client.get("/themes/ink/site.js")
    default = client.get("/themes/default/site.js")

    assert ink.status_code == 200 and ink.get_data() == default.get_data()
    ink.close()
    default.close()


@pytest.mark.parametrize(
    "path",
    [
        "/themes/default/../__init__.py",
        "/themes/default/..%2f__init__.py",
        "/themes/default/%2e%2e/theme.json",
        "/themes/default/%2e%2e/%2e%2e/%2e%2e/setup.cfg",
        "/themes/ink/..%2f..%2fyuyue_theme_default%2f__init__.py",
        "/themes/default/%2fetc%2fpasswd",
        "/themes/default/",
        "/themes/no-such-theme/theme.css",
        "/themes/default/no-such-file.css",
    ],
)
def test_theme_files_outside_a_theme_static_folder_are_not_found(client, path):
    response = client.get(path, follow_redirects=True)  # the URL map merges doubled slashes by a redirect first
    body = response.get_data()
    response.close()

    assert response.status_code == 404
    assert b"register_themes" not in body and b'"key"' not in body


# --- a theme that overrides one template --------------------------------------------------------


@pytest.fixture
def test_theme_app(make_app, tmp_path, monkeypatch) -> Flask:
    """An application with the suite's test theme installed as pip would: a dist-info naming it in the ``yuyue.plugins`` entry points."""
    site_packages = tmp_path / "test-theme-site"
    dist_info = site_packages / "yuyue_theme_test-0.1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: yuyue-theme-test\nVersion: 0.1.0\n")
    (dist_info / "entry_points.txt").write_text("[yuyue.plugins]\ntheme-test = yuyue_theme_test\n")
    monkeypatch.syspath_prepend(str(site_packages))
    monkeypatch.syspath_prepend(str(TEST_THEMES))
    importlib.invalidate_caches()
    return make_app()


@pytest.fixture
def test_theme_tenant(test_theme_app: Flask) -> Tenant:
    """Tenant ``themed``, which chose the test theme, in ``test_theme_app``."""
    with test_theme_app.app_context():
        tenant = create_tenant(db.session, plugin_host(test_theme_app), slug="themed", name="Themed", plugins={"exhibition": {}})
        with tenant_scope(tenant.id):
            set_appearance(db.session, tenant, {"theme": "test"}, themes=plugin_host(test_theme_app).themes.keys(), actor="system")
        db.session.remove()
    return tenant


def test_the_test_theme_is_discovered_through_the_plugin_host(test_theme_app):
    assert plugin_host(test_theme_app).themes["test"].package == "yuyue_theme_test"


def test_a_theme_overriding_one_template_wins_for_that_template(test_theme_app, test_theme_tenant):
    html = test_theme_app.test_client().get("/t/themed/").get_data(as_text=True)

    assert 'class="page-title test-theme-home"' in html
    # the rest of the page is the default theme's layout
    assert 'class="theme-test"' in html and 'class="site-header"' in html and 'class="languages"' in html


def test_a_theme_overriding_one_template_leaves_every_other_to_the_default(test_theme_app, test_theme_tenant):
    response = test_theme_app.test_client().get("/t/themed/book/no-such-type/")
    html = response.get_data(as_text=True)

    assert response.status_code >= 400
    assert 'class="card error-page"' in html
    assert "test-theme" not in html


def test_a_theme_overriding_one_template_uses_the_default_theme_files(test_theme_app, test_theme_tenant):
    client = test_theme_app.test_client()
    html = client.get("/t/themed/").get_data(as_text=True)
    [stylesheet] = stylesheets(html)
    test, default = client.get(stylesheet), client.get("/themes/default/theme.css")
    test_css, default_css = test.get_data(), default.get_data()
    test.close()
    default.close()

    assert stylesheet == "/themes/test/theme.css"
    assert test.status_code == 200 and test_css == default_css


def test_a_brand_colour_that_is_not_rrggbb_in_the_row_never_reaches_the_stylesheet(client, tenants, session):
    tenant = tenants["tenant-a"]
    tenant.brand_colour = "red}*{"  # written behind the operations' back
    session.commit()

    body = client.get("/t/tenant-a/brand.css").get_data(as_text=True)

    assert "red" not in body and "--accent" not in body
