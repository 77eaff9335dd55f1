"""``yuyue tenants export`` and ``import``: one tenant moved to another installation under new ids, its audit chain verifying there."""

from __future__ import annotations

from backup_setup import TENANT, app_on, assert_one_error_line, booking_body, close, serving_app
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, select, text

from yuyue.app import normalize_database_url
from yuyue.db import db, tenant_scope
from yuyue.events.models import WebhookEndpoint
from yuyue.tenancy.models import Tenant

BOOKINGS = 12


def tenant_summary(url: str, slug: str) -> dict:
    """What a merchant would compare: bookings (public id, status, phone, type), customers, and that references stay in the tenant."""
    engine = create_engine(normalize_database_url(url))
    try:
        with engine.connect() as connection:
            tenant_id = connection.execute(text("SELECT id FROM tenants WHERE slug = :slug"), {"slug": slug}).scalar_one()
            bookings = connection.execute(
                text(
                    "SELECT b.public_id, b.status, c.phone, t.slug FROM bookings b JOIN customers c ON c.id = b.customer_id"
                    " JOIN booking_types t ON t.id = b.booking_type_id WHERE b.tenant_id = :t AND c.tenant_id = :t AND t.tenant_id = :t"
                ),
                {"t": tenant_id},
            ).all()
            customers = connection.execute(text("SELECT count(*) FROM customers WHERE tenant_id = :t"), {"t": tenant_id}).scalar_one()
            taken = connection.execute(text("SELECT sum(taken) FROM slot_inventory WHERE tenant_id = :t"), {"t": tenant_id}).scalar_one()
    finally:
        engine.dispose()
    return {"bookings": sorted(tuple(row) for row in bookings), "customers": customers, "taken": taken}


def book(app, slug: str, numbers: range) -> None:
    client = app.test_client()
    for number in numbers:
        response = client.post(f"/api/v1/t/{slug}/bookings", json=booking_body(number))
        assert response.status_code == 201, response.get_json()


def test_a_tenant_exported_from_one_installation_imports_into_another_with_equal_rows_and_a_verifying_chain(new_database, yuyue, tmp_path):
    source, target = new_database(), new_database()
    app = serving_app(source, tmp_path / "source")
    book(app, TENANT, range(1, BOOKINGS + 1))
    close(app)
    # The other installation has rows of its own, so the imported ids cannot stay as they were.
    other = serving_app(target, tmp_path / "target")
    book(other, TENANT, range(500, 505))
    close(other)

    exported = yuyue(source, "tenants", "export", TENANT, "--output", str(tmp_path / "museum.zip"))
    imported = yuyue(target, "tenants", "import", str(tmp_path / "museum.zip"), "--slug", "moved")

    assert exported.code == 0 and imported.code == 0, (exported, imported)
    assert "imported tenant moved" in imported.out
    assert tenant_summary(target, "moved") == tenant_summary(source, TENANT)
    assert len(tenant_summary(target, "moved")["bookings"]) == BOOKINGS
    verified = yuyue(target, "audit", "verify")
    assert verified.code == 0, verified
    assert verified.out.startswith("ok: ")


def test_the_imported_tenant_takes_bookings_and_its_chain_goes_on_verifying(new_database, yuyue, tmp_path):
    source, target = new_database(), new_database()
    app = serving_app(source, tmp_path / "source")
    book(app, TENANT, range(1, 4))
    close(app)
    yuyue(source, "tenants", "export", TENANT, "--output", str(tmp_path / "museum.zip"))
    other = serving_app(target, tmp_path / "target")
    close(other)
    assert yuyue(target, "tenants", "import", str(tmp_path / "museum.zip"), "--slug", "moved").code == 0

    again = app_on(target, tmp_path / "again")
    book(again, "moved", range(100, 103))
    close(again)

    assert len(tenant_summary(target, "moved")["bookings"]) == 6
    assert yuyue(target, "audit", "verify").code == 0


def test_importing_a_tenant_whose_slug_exists_is_one_error_line(new_database, yuyue, tmp_path):
    url = new_database()
    yuyue(url, "init")
    yuyue(url, "tenants", "create", "acme", "--name", "Acme")
    yuyue(url, "tenants", "export", "acme", "--output", str(tmp_path / "acme.zip"))

    assert_one_error_line(yuyue(url, "tenants", "import", str(tmp_path / "acme.zip")), "tenant 'acme' already exists", "--slug")
    assert yuyue(url, "tenants", "import", str(tmp_path / "acme.zip"), "--slug", "acme-copy").code == 0


def test_exporting_an_unknown_tenant_or_importing_a_file_that_is_no_export_is_one_error_line(new_database, yuyue, tmp_path):
    url = new_database()
    yuyue(url, "init")
    (tmp_path / "junk.zip").write_bytes(b"junk")

    assert_one_error_line(yuyue(url, "tenants", "export", "nobody", "--output", str(tmp_path / "x.zip")), "no tenant 'nobody'")
    assert_one_error_line(yuyue(url, "tenants", "import", str(tmp_path / "junk.zip")), "not a tenant export")
    assert not (tmp_path / "x.zip").exists()


def test_a_moved_tenants_secrets_open_under_the_other_installations_key_and_are_sealed_there(new_database, yuyue, tmp_path, monkeypatch):
    """The export holds the secrets opened (docs/backup.md); the import seals them with the target's own key."""
    source, target = new_database(), new_database()
    monkeypatch.setenv("YUYUE_SECRETS_KEY", Fernet.generate_key().decode())
    app = serving_app(source, tmp_path / "source")
    token = yuyue(source, "tokens", "create", "--tenant", TENANT, "--role", "owner", "--name", "move").out.strip().splitlines()[-1]
    created = app.test_client().post(
        f"/api/v1/t/{TENANT}/admin/webhooks",
        json={"url": "https://crm.example.com/hook", "topics": ["booking.*"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.get_json()
    secret = created.get_json()["secret"]
    close(app)
    assert yuyue(source, "tenants", "export", TENANT, "--output", str(tmp_path / "museum.zip")).code == 0

    monkeypatch.setenv("YUYUE_SECRETS_KEY", Fernet.generate_key().decode())
    close(serving_app(target, tmp_path / "target"))
    assert yuyue(target, "tenants", "import", str(tmp_path / "museum.zip"), "--slug", "moved").code == 0

    engine = create_engine(normalize_database_url(target))
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT secret FROM webhook_endpoints")).scalar_one()
    finally:
        engine.dispose()
    assert stored.startswith("sealed:") and secret not in stored
    moved = app_on(target, tmp_path / "moved")
    with moved.app_context():
        tenant_id = db.session.execute(select(Tenant.id).where(Tenant.slug == "moved")).scalar_one()
        with tenant_scope(tenant_id):
            assert db.session.execute(select(WebhookEndpoint.secret)).scalar_one() == secret
    close(moved)
    assert yuyue(target, "audit", "verify").code == 0
