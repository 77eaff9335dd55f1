"""Refresh tokens through HTTP: rotation on every use, reuse detection, logout, expiry, other tenants, bans."""

from __future__ import annotations

import hashlib
import threading

import pytest
from sqlalchemy import func, select

from yuyue.audit.models import AuditRecord
from yuyue.customers.models import BanSubject, Customer, RefreshToken
from yuyue.customers.operations import ban
from yuyue.customers.sessions import purge_ended_logins
from yuyue.db import tenant_scope

PHONE = "13800138000"


@pytest.fixture
def a(tenant_a, customer_client):
    return customer_client("tenant-a")


@pytest.fixture
def refresh(a):
    """``refresh(token, slug="tenant-a")``: POST it to the tenant's refresh endpoint."""
    return lambda token, slug="tenant-a": a.client.post(f"/api/v1/t/{slug}/auth/refresh", json={"refresh_token": token})


@pytest.fixture
def logout(a):
    return lambda token, slug="tenant-a": a.client.post(f"/api/v1/t/{slug}/auth/logout", json={"refresh_token": token})


@pytest.fixture
def log_in_again(a, clock):
    """A second login of the same phone (a second device), once the resend interval has passed."""

    def log_in() -> dict:
        clock.advance(seconds=61)
        return a.log_in()

    return log_in


def customer_id(session, tenant) -> int:
    with tenant_scope(tenant.id):
        return session.scalar(select(Customer.id).where(Customer.phone == PHONE))


# -- rotation ----------------------------------------------------------------------------------------


def test_a_refresh_answers_a_new_refresh_token_and_a_working_access_token(a, refresh):
    tokens = a.log_in()

    response = refresh(tokens["refresh_token"])

    assert response.status_code == 200
    renewed = response.get_json()
    assert renewed.keys() == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert a.me(renewed["access_token"]).get_json()["phone"] == PHONE


def test_the_new_refresh_token_refreshes_again(a, refresh):
    first = a.log_in()["refresh_token"]
    second = refresh(first).get_json()["refresh_token"]

    assert refresh(second).status_code == 200


def test_a_used_refresh_token_is_refused_as_reused(a, refresh, problem):
    token = a.log_in()["refresh_token"]
    refresh(token)

    problem(refresh(token), 401, "refresh_token_reused")


def test_reusing_a_rotated_token_revokes_the_token_that_replaced_it(a, refresh, problem):
    stolen = a.log_in()["refresh_token"]
    current = refresh(stolen).get_json()["refresh_token"]

    refresh(stolen)

    problem(refresh(current), 401, "invalid_token")


def test_reuse_revokes_every_later_token_of_the_family(a, refresh, problem):
    stolen = a.log_in()["refresh_token"]
    second = refresh(stolen).get_json()["refresh_token"]
    third = refresh(second).get_json()["refresh_token"]

    problem(refresh(second), 401, "refresh_token_reused")

    problem(refresh(third), 401, "invalid_token")
    problem(refresh(stolen), 401, "invalid_token")


def test_reuse_leaves_the_customers_other_logins_alone(a, refresh, log_in_again):
    phone_token = a.log_in()["refresh_token"]
    tablet_token = log_in_again()["refresh_token"]
    refresh(phone_token)

    refresh(phone_token)

    assert refresh(tablet_token).status_code == 200


def test_reuse_is_written_to_the_audit_log(a, refresh, session, tenant_a):
    token = a.log_in()["refresh_token"]
    refresh(token)

    refresh(token)

    with tenant_scope(tenant_a.id):
        actions = session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)).all()
    assert actions[-1] == "customer.refresh_token_reused"


def test_concurrent_refreshes_with_one_token_renew_once_and_then_revoke_the_family(a, app, problem):
    token = a.log_in()["refresh_token"]
    barrier = threading.Barrier(2)
    answers: list = []

    def use() -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(client.post(f"{a.base}/refresh", json={"refresh_token": token}))

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(response.status_code for response in answers) == [200, 401]
    [winner] = [response.get_json() for response in answers if response.status_code == 200]
    problem(a.client.post(f"{a.base}/refresh", json={"refresh_token": winner["refresh_token"]}), 401, "invalid_token")


def test_only_a_digest_of_the_refresh_token_is_stored(a, session, tenant_a):
    token = a.log_in()["refresh_token"]

    with tenant_scope(tenant_a.id):
        [row] = session.scalars(select(RefreshToken)).all()
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.digest, row.family}


@pytest.mark.parametrize("token", ["yyr_", "not-a-token", "yyr_" + "x" * 43])
def test_an_unknown_refresh_token_is_refused(a, refresh, problem, token):
    a.log_in()

    problem(refresh(token), 401, "invalid_token")


def test_an_empty_refresh_token_is_a_validation_error(a, refresh, problem):
    problem(refresh(""), 422, "validation_failed")


# -- logout ------------------------------------------------------------------------------------------


def test_logout_answers_204_and_the_refresh_token_no_longer_works(a, refresh, logout, problem):
    token = a.log_in()["refresh_token"]

    response = logout(token)

    assert (response.status_code, response.get_data()) == (204, b"")
    problem(refresh(token), 401, "invalid_token")


def test_logout_with_a_rotated_token_ends_the_login_too(a, refresh, logout, problem):
    old = a.log_in()["refresh_token"]
    current = refresh(old).get_json()["refresh_token"]

    logout(old)

    problem(refresh(current), 401, "invalid_token")


def test_logout_leaves_the_customers_other_logins_alone(a, refresh, logout, log_in_again):
    phone_token = a.log_in()["refresh_token"]
    tablet_token = log_in_again()["refresh_token"]

    logout(phone_token)

    assert refresh(tablet_token).status_code == 200


def test_a_token_presented_after_logout_is_invalid_not_reused_and_writes_no_audit(a, refresh, logout, problem, session, tenant_a):
    token = a.log_in()["refresh_token"]
    refresh(token)
    logout(token)

    problem(refresh(token), 401, "invalid_token")
    with tenant_scope(tenant_a.id):
        assert "customer.refresh_token_reused" not in session.scalars(select(AuditRecord.action)).all()


def test_logout_with_an_unknown_token_still_answers_204(a, logout):
    assert logout("yyr_unknown").status_code == 204


@pytest.mark.parametrize("body", [{}, {"refresh_token": ""}, {"refresh_token": 5}, {"refresh_token": "t", "all": True}])
def test_a_malformed_logout_is_a_422(a, problem, body):
    problem(a.client.post(f"{a.base}/logout", json=body), 422, "validation_failed")


def test_the_access_token_stays_valid_after_logout_until_it_expires(a, logout):
    tokens = a.log_in()

    logout(tokens["refresh_token"])

    assert a.me(tokens["access_token"]).status_code == 200


# -- expiry ------------------------------------------------------------------------------------------


def test_a_refresh_token_unused_for_30_days_has_expired(a, refresh, clock, problem):
    token = a.log_in()["refresh_token"]

    clock.advance(days=30)

    problem(refresh(token), 401, "invalid_token")


def test_a_refresh_token_works_until_its_30_days_are_up(a, refresh, clock):
    token = a.log_in()["refresh_token"]

    clock.advance(days=30, seconds=-1)

    assert refresh(token).status_code == 200


def test_each_refresh_starts_30_days_again(a, refresh, clock):
    token = a.log_in()["refresh_token"]
    clock.advance(days=20)
    token = refresh(token).get_json()["refresh_token"]

    clock.advance(days=20)

    assert refresh(token).status_code == 200


def test_an_expired_token_used_before_still_counts_as_reuse(a, refresh, clock, problem):
    old = a.log_in()["refresh_token"]
    current = refresh(old).get_json()["refresh_token"]
    clock.advance(days=29)
    current = refresh(current).get_json()["refresh_token"]
    clock.advance(days=2)

    problem(refresh(old), 401, "refresh_token_reused")
    problem(refresh(current), 401, "invalid_token")


def test_a_login_ends_180_days_after_it_began_however_often_it_refreshes(a, refresh, clock, problem):
    token = a.log_in()["refresh_token"]
    for _ in range(8):  # refreshed every 21 days: never idle for 30
        clock.advance(days=21)
        token = refresh(token).get_json()["refresh_token"]

    clock.advance(days=180 - 8 * 21, seconds=-1)
    token = refresh(token).get_json()["refresh_token"]  # still within the login's 180 days
    clock.advance(seconds=1)

    problem(refresh(token), 401, "invalid_token")


def test_a_second_login_gets_its_own_180_days(a, refresh, clock, log_in_again):
    a.log_in()
    clock.advance(days=170)
    token = log_in_again()["refresh_token"]

    clock.advance(days=20)

    assert refresh(token).status_code == 200


# -- purging ended logins ----------------------------------------------------------------------------


def tokens_of(session, tenant) -> int:
    with tenant_scope(tenant.id):
        return session.scalar(select(func.count()).select_from(RefreshToken))


def test_purging_deletes_only_the_logins_that_have_ended_in_every_tenant(a, refresh, clock, session, tenant_a, tenant_b, customer_client, log_in_again):
    ended = a.log_in()["refresh_token"]
    refresh(ended)  # two rows, the used one and its successor
    customer_client("tenant-b").log_in()
    clock.advance(days=29)
    live = log_in_again()["refresh_token"]
    clock.advance(days=2)  # the first logins are 31 days idle; the second has 28 days to go

    assert purge_ended_logins(session, now=clock.now) == 3

    assert (tokens_of(session, tenant_a), tokens_of(session, tenant_b)) == (1, 0)
    assert refresh(live).status_code == 200
    assert purge_ended_logins(session, now=clock.now) == 0


def test_a_running_login_keeps_its_expired_used_tokens_so_a_copy_is_still_caught(a, refresh, clock, session, problem):
    old = a.log_in()["refresh_token"]
    current = refresh(old).get_json()["refresh_token"]
    clock.advance(days=20)
    current = refresh(current).get_json()["refresh_token"]
    clock.advance(days=15)  # the first token expired 5 days ago; the login runs until day 50

    assert purge_ended_logins(session, now=clock.now) == 0
    problem(refresh(old), 401, "refresh_token_reused")
    problem(refresh(current), 401, "invalid_token")  # revoked with its family


# -- other tenants -----------------------------------------------------------------------------------


def test_a_refresh_token_of_tenant_a_is_unknown_under_tenant_b(a, refresh, tenant_b, problem):
    token = a.log_in()["refresh_token"]

    problem(refresh(token, "tenant-b"), 401, "invalid_token")


def test_trying_a_token_under_another_tenant_neither_uses_nor_revokes_it(a, refresh, logout, tenant_b):
    token = a.log_in()["refresh_token"]

    refresh(token, "tenant-b")
    logout(token, "tenant-b")

    assert refresh(token).status_code == 200


def test_a_refreshed_access_token_is_bound_to_its_tenant(a, refresh, tenant_b, customer_client, problem):
    renewed = refresh(a.log_in()["refresh_token"]).get_json()

    problem(customer_client("tenant-b").me(renewed["access_token"]), 401, "invalid_token")


# -- bans --------------------------------------------------------------------------------------------


def test_a_banned_customer_cannot_refresh_and_the_login_is_revoked(a, refresh, session, tenant_a, clock, problem):
    token = a.log_in()["refresh_token"]
    with tenant_scope(tenant_a.id):
        ban(session, BanSubject.customer, str(customer_id(session, tenant_a)), 7, "no-shows", clock.now)

    problem(refresh(token), 403, "banned")

    clock.advance(days=8)
    problem(refresh(token), 401, "invalid_token")


def test_a_ban_on_the_accounts_phone_refuses_refresh_too(a, refresh, session, tenant_a, clock, problem):
    token = a.log_in()["refresh_token"]
    with tenant_scope(tenant_a.id):
        ban(session, BanSubject.phone, PHONE, 7, "abuse", clock.now)

    problem(refresh(token), 403, "banned")


def test_a_banned_customer_gets_no_tokens_at_login(a, session, tenant_a, clock, problem):
    a.log_in()
    with tenant_scope(tenant_a.id):
        ban(session, BanSubject.customer, str(customer_id(session, tenant_a)), 7, "no-shows", clock.now)
    clock.advance(seconds=61)
    a.ask_code()

    problem(a.login(a.last_code()), 403, "banned")


def test_a_customer_logs_in_again_once_the_ban_has_ended(a, session, tenant_a, clock, refresh):
    a.log_in()
    with tenant_scope(tenant_a.id):
        ban(session, BanSubject.customer, str(customer_id(session, tenant_a)), 7, "no-shows", clock.now)
    clock.advance(days=7)

    assert refresh(a.log_in()["refresh_token"]).status_code == 200


def test_a_ban_at_another_tenant_does_not_refuse_refresh_here(a, refresh, tenant_b, customer_client, session, clock):
    token = a.log_in()["refresh_token"]
    customer_client("tenant-b").log_in()
    with tenant_scope(tenant_b.id):
        ban(session, BanSubject.customer, str(customer_id(session, tenant_b)), 7, "no-shows", clock.now)
        ban(session, BanSubject.phone, PHONE, 7, "abuse", clock.now)

    assert refresh(token).status_code == 200
