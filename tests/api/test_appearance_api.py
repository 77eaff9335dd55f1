"""The merchant API for a tenant's appearance: ``/api/v1/t/<tenant>/admin/appearance`` and ``…/appearance/logo``."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from yuyue.audit.models import AuditRecord
from yuyue.db import tenant_scope
from yuyue.provisioning.appearance import MAX_LOGO_BYTES, MAX_LOGO_SIDE
from yuyue.tenancy.models import StaffRole, Tenant

A = "/api/v1/t/tenant-a/admin/appearance"
B = "/api/v1/t/tenant-b/admin/appearance"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def image(kind: str = "PNG", size: tuple[int, int] = (64, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, kind)
    return buffer.getvalue()


@pytest.fixture
def manager(staff_client, tenants):
    return staff_client("tenant-a", StaffRole.manager)


def appearance_of(session, slug: str) -> dict:
    """Tenant ``slug``'s appearance columns as committed."""
    session.commit()
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug).execution_options(populate_existing=True))
    return {"theme": tenant.theme, "brand_colour": tenant.brand_colour, "logo_digest": tenant.logo_digest, "logo_type": tenant.logo_type}


def audit_actions(session, tenant: Tenant) -> list[str]:
    with tenant_scope(tenant.id):
        return [r.action for r in session.scalars(select(AuditRecord).where(AuditRecord.action.like("tenant.%")).order_by(AuditRecord.seq))]


# --- theme and brand colour ---------------------------------------------------------------------


def test_a_new_tenant_has_the_default_look_and_sees_the_installed_themes_in_its_language(manager):
    body = manager.get(A, headers={"Accept-Language": "en"}).get_json()

    assert body["theme"] is None and body["theme_in_use"] == "default"
    assert body["brand_colour"] is None and body["logo"] is None
    assert {"key": "ink", "name": "Ink wash"} in body["themes"] and {"key": "default", "name": "Default"} in body["themes"]
    assert {"key": "ink", "name": "水墨"} in manager.get(A, headers={"Accept-Language": "zh-Hans"}).get_json()["themes"]


def test_a_manager_chooses_a_theme_and_a_brand_colour(manager, session, tenants):
    response = manager.put(A, json={"theme": "ink", "brand_colour": "#B7332A"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json() | {"themes": []} == {"theme": "ink", "theme_in_use": "ink", "brand_colour": "#b7332a", "logo": None, "themes": []}
    assert appearance_of(session, "tenant-a")["theme"] == "ink"
    assert audit_actions(session, tenants["tenant-a"])[-1] == "tenant.appearance_changed"


def test_a_field_left_out_keeps_its_value_and_null_goes_back_to_the_theme_own(manager, session):
    manager.put(A, json={"theme": "ink", "brand_colour": "#123456"})

    manager.put(A, json={"brand_colour": None})

    assert appearance_of(session, "tenant-a") | {"logo_digest": None, "logo_type": None} == {
        "theme": "ink",
        "brand_colour": None,
        "logo_digest": None,
        "logo_type": None,
    }


def test_a_theme_that_is_not_installed_is_refused_at_its_field(manager, problem, session):
    body = problem(manager.put(A, json={"theme": "neon"}), 422, "validation_failed")

    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/theme", "unknown_theme")]
    assert "default, ink" in body["errors"][0]["message"]
    assert appearance_of(session, "tenant-a")["theme"] is None


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#12345g", "123456", "#FFF", 123456, ["#123456"], "#123456\n"])
def test_a_brand_colour_that_is_not_rrggbb_is_refused_at_its_field(manager, problem, colour):
    body = problem(manager.put(A, json={"brand_colour": colour}), 422, "validation_failed")

    assert {e["pointer"] for e in body["errors"]} == {"/brand_colour"}


def test_every_problem_is_reported_at_once_and_unknown_fields_are_refused(manager, problem):
    body = problem(manager.put(A, json={"theme": 7, "brand_colour": "blue", "font": "Comic Sans"}), 422)

    assert {e["pointer"] for e in body["errors"]} >= {"/theme", "/brand_colour"}
    assert any(e["code"] == "additionalProperties" for e in body["errors"])


def test_a_body_that_is_not_a_json_object_is_a_problem(manager, problem):
    problem(manager.put(A, data="theme=ink", content_type="application/x-www-form-urlencoded"), 415, "unsupported_media_type")
    problem(manager.put(A, data="{", content_type="application/json"), 400)
    problem(manager.put(A, json=["ink"]), 422)


def test_plain_staff_may_not_see_or_change_the_appearance(staff_client, tenants, problem):
    staff = staff_client("tenant-a", StaffRole.staff)

    problem(staff.get(A), 403, "forbidden")
    problem(staff.put(A, json={"theme": "ink"}), 403, "forbidden")
    problem(staff.put(f"{A}/logo", data=image(), content_type="image/png"), 403, "forbidden")
    problem(staff.delete(f"{A}/logo"), 403, "forbidden")


def test_a_change_that_changes_nothing_is_not_audited(manager, session, tenants):
    manager.put(A, json={"theme": "ink"})
    before = audit_actions(session, tenants["tenant-a"])

    manager.put(A, json={"theme": "ink"})

    assert audit_actions(session, tenants["tenant-a"]) == before


# --- the logo -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_a_logo_is_uploaded_as_the_raw_body_and_served_by_the_site(manager, client, session, tenants, kind, media_type):
    data = image(kind)

    response = manager.put(f"{A}/logo", data=data, content_type=media_type)
    logo = response.get_json()["logo"]
    served = client.get(logo["url"])

    assert response.status_code == 200
    assert logo["media_type"] == media_type and logo["url"] == "/t/tenant-a/logo"
    assert served.get_data() == data and served.mimetype == media_type
    assert audit_actions(session, tenants["tenant-a"])[-1] == "tenant.logo_changed"


def test_an_svg_logo_is_refused_whatever_it_is_sent_as(manager, problem, session):
    problem(manager.put(f"{A}/logo", data=SVG, content_type="image/svg+xml"), 415, "unsupported_media_type")
    problem(manager.put(f"{A}/logo", data=SVG, content_type="image/png"), 422, "logo_not_an_image")

    assert appearance_of(session, "tenant-a")["logo_digest"] is None


def test_a_logo_whose_bytes_are_another_type_than_it_was_sent_as_is_refused(manager, problem):
    problem(manager.put(f"{A}/logo", data=image("JPEG"), content_type="image/png"), 422, "logo_type_mismatch")


def test_html_sent_as_an_image_is_refused(manager, problem):
    problem(manager.put(f"{A}/logo", data=b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", content_type="image/png"), 422, "logo_damaged")
    problem(manager.put(f"{A}/logo", data=b"<html><script>alert(1)</script></html>", content_type="image/png"), 422, "logo_not_an_image")


def test_a_truncated_logo_is_refused(manager, problem):
    data = image("PNG", (200, 200))

    problem(manager.put(f"{A}/logo", data=data[: len(data) // 2], content_type="image/png"), 422, "logo_damaged")


def test_a_logo_over_the_byte_limit_is_refused(manager, problem):
    body = problem(manager.put(f"{A}/logo", data=image() + b"\0" * MAX_LOGO_BYTES, content_type="image/png"), 413, "payload_too_large")

    assert str(MAX_LOGO_BYTES) in body["detail"]


def test_a_small_file_that_decodes_into_a_huge_image_is_refused_before_decoding(manager, problem):
    # A one-colour PNG compresses to a few KiB whatever its size: the bound is on pixels, not bytes.
    huge = image("PNG", (MAX_LOGO_SIDE + 1, 10))

    assert len(huge) < MAX_LOGO_BYTES
    problem(manager.put(f"{A}/logo", data=huge, content_type="image/png"), 422, "logo_too_many_pixels")


def test_a_logo_is_removed_and_removing_none_is_fine(manager, client, session):
    manager.put(f"{A}/logo", data=image(), content_type="image/png")

    assert manager.delete(f"{A}/logo").status_code == 204
    assert manager.delete(f"{A}/logo").status_code == 204
    assert appearance_of(session, "tenant-a")["logo_digest"] is None
    assert client.get("/t/tenant-a/logo").status_code == 404


# --- isolation ----------------------------------------------------------------------------------


def test_another_tenant_token_can_neither_read_nor_change_the_appearance(staff_client, tenants, problem, session):
    owner_b = staff_client("tenant-b", StaffRole.owner)
    owner_b.put(B, json={"theme": "ink", "brand_colour": "#0000bb"})
    owner_b.put(f"{B}/logo", data=image(), content_type="image/png")
    before = appearance_of(session, "tenant-b")
    owner_a = staff_client("tenant-a", StaffRole.owner)

    for response in (
        owner_a.get(B),
        owner_a.put(B, json={"theme": "default", "brand_colour": "#aa0000"}),
        owner_a.put(f"{B}/logo", data=image("JPEG"), content_type="image/jpeg"),
        owner_a.delete(f"{B}/logo"),
    ):
        body = problem(response, 403, "forbidden")
        assert "#0000bb" not in str(body) and before["logo_digest"] not in str(body)

    assert appearance_of(session, "tenant-b") == before


def test_a_tenant_changes_reach_its_own_site_only(manager, staff_client, client):
    manager.put(A, json={"theme": "ink", "brand_colour": "#aa0000"})

    b_page = client.get("/t/tenant-b/").get_data(as_text=True)
    a_page = client.get("/t/tenant-a/").get_data(as_text=True)

    assert "ink-band" in a_page and "brand.css" in a_page
    assert "ink-band" not in b_page and "brand.css" not in b_page
