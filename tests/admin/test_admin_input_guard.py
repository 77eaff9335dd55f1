"""Admin pages refuse input Flask-AppBuilder's views would pass on unchecked (each was a 500 on PostgreSQL)."""

from __future__ import annotations

import pytest
from flask import Flask

from yuyue.db import db

HOSTILE_PAGES = {
    "NUL in a list filter": ("/users/list/?_flt_0_username=%00", 400),
    "NUL in a role filter": ("/roles/list/?_flt_0_name=%00", 400),
    "NUL in a query parameter's name": ("/users/list/?a%00b=1", 400),
    "page number not a number": ("/users/list/?page_users=%00", 400),
    "page number a word": ("/users/list/?page_users=two", 400),
    "page size a fraction": ("/users/list/?psize_users=2.5", 400),
    "row id beyond an integer column": ("/users/show/99999999999999999999", 404),
    "row id of 5,000 digits": ("/users/show/" + "9" * 5000, 404),
    "NUL in a row id": ("/users/show/%00", 400),
    "an action no view has": ("/users/action/no-such-action/1", 404),
}


@pytest.fixture
def admin_client(make_app):
    app: Flask = make_app(WTF_CSRF_ENABLED=False)
    with app.app_context():
        security = app.appbuilder.sm
        security.add_user("boss", "Ada", "Admin", "boss@example.invalid", security.find_role("Admin"), password="s3cret-pass")
        db.session.remove()
    client = app.test_client()
    response = client.post("/login/", data={"username": "boss", "password": "s3cret-pass"})
    assert response.status_code == 302, "the admin could not log in"
    return client


@pytest.mark.parametrize("url, status", HOSTILE_PAGES.values(), ids=HOSTILE_PAGES.keys())
def test_hostile_admin_page_input_is_refused_before_the_view(admin_client, url, status):
    assert admin_client.get(url).status_code == status


def test_admin_pages_still_take_ordinary_input(admin_client):
    assert admin_client.get("/users/list/?_flt_0_username=boss&page_users=0&psize_users=25").status_code == 200


def test_nul_in_a_login_form_field_is_refused(make_app):
    client = make_app(WTF_CSRF_ENABLED=False).test_client()

    assert client.post("/login/", data={"username": "bo\x00ss", "password": "x"}).status_code == 400


@pytest.mark.parametrize("query", ["", "?pk=abc", "?pk=99999", "?pk=99999999999999999999", "?pk=%C2%B2"])
def test_resetting_the_password_of_no_user_is_404(admin_client, query):
    response = admin_client.post("/resetpassword/form" + query, data={"password": "n3w-pass-word", "conf_password": "n3w-pass-word"})

    assert response.status_code == 404


def test_an_administrator_still_resets_a_users_password(admin_client):
    app = admin_client.application
    with app.app_context():
        user_id = app.appbuilder.sm.find_user(username="boss").id
    response = admin_client.post(f"/resetpassword/form?pk={user_id}", data={"password": "n3w-pass-word", "conf_password": "n3w-pass-word"})

    assert response.status_code == 302
    admin_client.get("/logout/")
    assert admin_client.post("/login/", data={"username": "boss", "password": "n3w-pass-word"}).status_code == 302
