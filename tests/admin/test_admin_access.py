"""Who gets into which merchant's admin: sign-in, membership, the tenant switcher and the operator."""

from __future__ import annotations

from yuyue.provisioning.operations import suspend_tenant


def test_signed_out_visitors_are_sent_to_the_login_page(client, tenants):
    for url in ("/", "/admin/", "/admin/t/tenant-a/"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 302
    assert "/login/" in client.get("/admin/t/tenant-a/").headers["Location"]


def test_a_member_of_one_tenant_lands_on_its_dashboard(admin_login):
    owner = admin_login("owner-a")
    response = owner.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/t/tenant-a/")
    page = owner.get("/admin/t/tenant-a/").get_data(as_text=True)
    assert "Tenant-A" in page


def test_another_tenants_admin_is_not_found(admin_login):
    owner = admin_login("owner-a")
    assert owner.get("/admin/t/tenant-b/").status_code == 404
    assert owner.get("/admin/t/no-such-tenant/").status_code == 404


def test_a_user_of_two_tenants_chooses_and_switches(admin_login):
    both = admin_login("both")
    chooser = both.get("/admin/").get_data(as_text=True)
    assert "/admin/t/tenant-a/" in chooser and "/admin/t/tenant-b/" in chooser
    page = both.get("/admin/t/tenant-b/").get_data(as_text=True)
    assert both.get("/admin/t/tenant-b/").status_code == 200
    assert 'href="/admin/t/tenant-a/"' in page, "the switcher offers the other tenant"


def test_the_operator_is_not_staff_of_any_tenant(admin_login):
    operator = admin_login("operator")
    assert operator.get("/admin/t/tenant-a/").status_code == 404
    assert operator.get("/admin/").status_code == 200


def test_a_suspended_tenants_admin_is_refused(admin_login, session):
    owner = admin_login("owner-a")
    suspend_tenant(session, "tenant-a")
    assert owner.get("/admin/t/tenant-a/").status_code == 403


def test_admin_writes_need_the_csrf_token(admin_login):
    owner = admin_login("owner-a")
    assert owner.client.post("/admin/t/tenant-a/", data={}).status_code in (400, 405)


def test_two_signed_in_users_in_one_test_stay_apart(admin_login, client):
    owner_a, owner_b = admin_login("owner-a"), admin_login("owner-b")
    assert owner_b.get("/admin/t/tenant-b/").status_code == 200
    assert owner_a.get("/admin/t/tenant-a/").status_code == 200
    assert owner_a.get("/admin/t/tenant-b/").status_code == 404
    assert client.get("/admin/t/tenant-a/").status_code == 302, "a client that never signed in is nobody"
