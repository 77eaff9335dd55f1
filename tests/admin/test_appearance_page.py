"""The admin's appearance page: a manager picks the theme, the brand colour and the logo of the tenant's customer site."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from yuyue.audit.models import AuditRecord
from yuyue.db import tenant_scope
from yuyue.tenancy.models import Tenant

PAGE = "/admin/t/tenant-a/appearance/"


def png(size: tuple[int, int] = (48, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    return buffer.getvalue()


def stored(session, slug: str = "tenant-a") -> Tenant:
    session.commit()
    return session.scalar(select(Tenant).where(Tenant.slug == slug).execution_options(populate_existing=True))


@pytest.fixture
def manager(admin_login):
    return admin_login("manager-a", language="en")


def test_the_page_lists_the_installed_themes_in_the_reader_language(admin_login):
    english = admin_login("manager-a", language="en").get(PAGE).get_data(as_text=True)
    chinese = admin_login("owner-a").get(PAGE).get_data(as_text=True)

    assert 'value="default" checked' in english and "> Ink wash</label>" in english
    assert "> 水墨</label>" in chinese and "> 默认</label>" in chinese


def test_every_control_of_the_page_has_a_label(manager):
    html = manager.get(PAGE).get_data(as_text=True)

    for control in ("theme-default", "theme-ink", "own_colour", "brand_colour", "logo"):
        assert f'for="{control}"' in html and f'id="{control}"' in html


def test_a_manager_chooses_ink_and_a_brand_colour(manager, session, client):
    response = manager.post(PAGE, {"theme": "ink", "own_colour": "on", "brand_colour": "#2E7D32"})

    assert response.status_code == 302 and response.headers["Location"].endswith("?saved=look")
    assert "The theme and colour are saved." in manager.get(response.headers["Location"]).get_data(as_text=True)
    tenant = stored(session)
    assert (tenant.theme, tenant.brand_colour) == ("ink", "#2e7d32")
    assert "ink-band" in client.get("/t/tenant-a/").get_data(as_text=True)
    with tenant_scope(tenant.id):
        [record] = session.scalars(select(AuditRecord).where(AuditRecord.action == "tenant.appearance_changed"))
    assert record.actor.startswith("staff:")


def test_unticking_own_colour_goes_back_to_the_theme_colour(manager, session):
    manager.post(PAGE, {"theme": "ink", "own_colour": "on", "brand_colour": "#2e7d32"})

    manager.post(PAGE, {"theme": "default", "brand_colour": "#2e7d32"})

    tenant = stored(session)
    assert (tenant.theme, tenant.brand_colour) == (None, None)


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"theme": "neon"}, "theme"),
        ({"theme": "default", "own_colour": "on", "brand_colour": "red"}, "brand_colour"),
        ({"theme": "default", "own_colour": "on", "brand_colour": ""}, "brand_colour"),
    ],
)
def test_a_refused_choice_is_said_at_its_field_and_nothing_changes(manager, session, form, field):
    response = manager.post(PAGE, form)
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert f'<p class="field-error" id="error-{field}">' in html
    assert (stored(session).theme, stored(session).brand_colour) == (None, None)


def test_a_logo_is_uploaded_shown_and_removed(manager, session, client):
    data = png()

    uploaded = manager.post(f"{PAGE}logo", {"logo": (io.BytesIO(data), "logo.png", "image/png")}, content_type="multipart/form-data")
    page = manager.get(PAGE).get_data(as_text=True)

    assert uploaded.status_code == 302
    assert 'class="logo-preview" src="/t/tenant-a/logo?v=' in page
    assert client.get("/t/tenant-a/logo").get_data() == data
    assert manager.post(f"{PAGE}logo/remove").status_code == 302
    assert stored(session).logo_digest is None


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        ((io.BytesIO(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), "logo.svg", "image/svg+xml"), "SVG is not accepted"),
        ((io.BytesIO(b"<html><script>alert(1)</script></html>"), "logo.png", "image/png"), "SVG is not accepted"),
        ((io.BytesIO(png()[:60]), "cut.png", "image/png"), "damaged or incomplete"),
        ((io.BytesIO(png((3000, 10))), "wide.png", "image/png"), "at most 2048 pixels"),
        ((io.BytesIO(b""), "empty.png", "image/png"), "Choose an image file"),
    ],
)
def test_a_hostile_or_broken_logo_is_refused_with_a_reason(manager, session, upload, message):
    response = manager.post(f"{PAGE}logo", {"logo": upload}, content_type="multipart/form-data")

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert stored(session).logo_digest is None


def test_a_logo_without_a_file_field_is_refused_with_a_reason(manager):
    response = manager.post(f"{PAGE}logo", {})

    assert response.status_code == 422 and "Choose an image file" in response.get_data(as_text=True)


def test_a_logo_over_the_size_limit_is_refused(manager, session):
    big = png() + b"\0" * (256 * 1024)

    response = manager.post(f"{PAGE}logo", {"logo": (io.BytesIO(big), "big.png", "image/png")}, content_type="multipart/form-data")

    assert response.status_code == 422 and "larger than 256 KB" in response.get_data(as_text=True)


def test_plain_staff_do_not_see_the_page_nor_its_menu_line(admin_login):
    staff = admin_login("staff-a", language="en")

    assert staff.get(PAGE).status_code == 403
    assert staff.post(PAGE, {"theme": "ink"}).status_code == 403
    assert "/appearance/" not in staff.get("/admin/t/tenant-a/check-in/").get_data(as_text=True)


def test_a_write_without_the_csrf_token_is_refused(manager, session):
    response = manager.client.post(PAGE, data={"theme": "ink"})

    assert response.status_code == 400
    assert stored(session).theme is None


def test_another_tenant_user_cannot_reach_the_page(admin_login, session):
    owner_b = admin_login("owner-b")

    assert owner_b.get(PAGE).status_code == 404
    assert owner_b.post(PAGE, {"theme": "ink"}).status_code == 404
    assert stored(session).theme is None
