"""Bad input is answered with a problem document that points at each mistake, never with a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TENANTS = "/api/v1/operator/tenants"
VALID = {"slug": "museum", "name": "City Museum"}


def pointers(body: dict) -> set[str]:
    return {e["pointer"] for e in body["errors"]}


# --------------------------------------------------------------------------
# Malformed requests
# --------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["{", "", "{'slug': 'museum'}", "\xff\xfe", "[1, 2"], ids=["truncated", "empty", "single-quotes", "not-utf8", "open-array"])
def test_malformed_json_answers_400_malformed_json(operator, problem, raw):
    response = operator.post(TENANTS, data=raw.encode("latin-1"), content_type="application/json")

    problem(response, 400, "malformed_json")


def test_a_name_with_a_lone_surrogate_escape_answers_400_malformed_json_and_creates_nothing(operator, problem):
    response = operator.post(TENANTS, data=rb'{"slug": "museum", "name": "Museum \ud800"}', content_type="application/json")

    problem(response, 400, "malformed_json")
    assert operator.get(f"{TENANTS}/museum").status_code == 404


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", None])
def test_json_sent_as_another_media_type_answers_415(operator, problem, content_type):
    response = operator.post(TENANTS, data=json.dumps(VALID), content_type=content_type)

    problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["application/json; charset=UTF-8", "application/vnd.yuyue+json", "Application/JSON"])
def test_json_is_read_as_application_json_with_a_suffix_or_a_charset(operator, content_type):
    response = operator.post(TENANTS, data=json.dumps(VALID), content_type=content_type)

    assert response.status_code == 201


@pytest.mark.parametrize("value", [[], ["museum"], "museum", 42, True, None], ids=["empty-array", "array", "string", "number", "boolean", "null"])
def test_json_that_is_not_an_object_answers_422_at_the_root(operator, problem, value):
    response = operator.post(TENANTS, data=json.dumps(value), content_type="application/json")

    body = problem(response, 422, "validation_failed")
    assert pointers(body) == {""}


# --------------------------------------------------------------------------
# Creating a tenant
# --------------------------------------------------------------------------


def test_missing_slug_and_name_are_reported_together(operator, problem):
    body = problem(operator.post(TENANTS, json={}), 422, "validation_failed")

    assert pointers(body) == {"/slug", "/name"}
    assert all(e["message"] for e in body["errors"])


@pytest.mark.parametrize("slug", ["Museum", "-museum", "museum-", "mu seum", "博物馆", "a" * 41, ""])
def test_slug_outside_the_pattern_answers_422_at_slug(operator, problem, slug):
    body = problem(operator.post(TENANTS, json={**VALID, "slug": slug}), 422, "validation_failed")

    assert pointers(body) == {"/slug"}


def test_slug_of_wrong_type_answers_422_at_slug(operator, problem):
    body = problem(operator.post(TENANTS, json={**VALID, "slug": 7}), 422, "validation_failed")

    assert pointers(body) == {"/slug"}


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_empty_or_overlong_name_answers_422_at_name(operator, problem, name):
    body = problem(operator.post(TENANTS, json={**VALID, "name": name}), 422, "validation_failed")

    assert pointers(body) == {"/name"}


@pytest.mark.parametrize("time_zone", ["Mars/Olympus", "", "America", "../etc/passwd", "Asia/Shanghai/"])
def test_unknown_time_zone_answers_422_at_time_zone(operator, problem, time_zone):
    body = problem(operator.post(TENANTS, json={**VALID, "time_zone": time_zone}), 422, "validation_failed")

    assert pointers(body) == {"/time_zone"}


def test_unknown_locale_answers_422_at_its_index(operator, problem):
    body = problem(operator.post(TENANTS, json={**VALID, "locales": ["en", "fr"]}), 422, "validation_failed")

    assert pointers(body) == {"/locales/1"}


def test_empty_locales_answers_422_at_locales(operator, problem):
    body = problem(operator.post(TENANTS, json={**VALID, "locales": []}), 422, "validation_failed")

    assert pointers(body) == {"/locales"}


def test_unknown_plugin_answers_422_at_its_name(operator, problem):
    body = problem(operator.post(TENANTS, json={**VALID, "plugins": {"car-wash": {}}}), 422, "validation_failed")

    assert pointers(body) == {"/plugins/car-wash"}
    assert "not installed" in body["errors"][0]["message"]


def test_pointer_to_an_unknown_plugin_escapes_its_name(operator, problem):
    body = problem(operator.post(TENANTS, json={**VALID, "plugins": {"a/b~c": {}}}), 422, "validation_failed")

    assert pointers(body) == {"/plugins/a~1b~0c"}


def test_invalid_plugin_setting_answers_422_pointing_into_the_config(operator, problem):
    plugins = {"exhibition": {"max_persons_per_account_per_day": 99}}

    body = problem(operator.post(TENANTS, json={**VALID, "plugins": plugins}), 422, "validation_failed")

    assert pointers(body) == {"/plugins/exhibition/max_persons_per_account_per_day"}


def test_unknown_plugin_setting_answers_422(operator, problem):
    body = problem(operator.post(TENANTS, json={**VALID, "plugins": {"exhibition": {"colour": "red"}}}), 422, "validation_failed")

    assert all(p.startswith("/plugins/exhibition") for p in pointers(body))


def test_plugin_config_that_is_not_an_object_answers_422(operator, problem):
    body = problem(operator.post(TENANTS, json={**VALID, "plugins": {"exhibition": 5}}), 422, "validation_failed")

    assert pointers(body) == {"/plugins/exhibition"}


def test_unknown_top_level_key_answers_422(operator, problem):
    body = problem(operator.post(TENANTS, json={**VALID, "colour": "red"}), 422, "validation_failed")

    assert body["errors"]
    assert any("colour" in e["pointer"] or "colour" in e["message"] for e in body["errors"])


def test_rejected_tenant_is_not_created(operator):
    operator.post(TENANTS, json={**VALID, "time_zone": "Mars/Olympus"})

    assert operator.get(TENANTS).get_json() == {"tenants": []}


def test_duplicate_slug_answers_409_slug_taken(operator, problem, create_tenant):
    create_tenant("museum")

    body = problem(operator.post(TENANTS, json=VALID), 409, "slug_taken")

    assert pointers(body) == {"/slug"}


# --------------------------------------------------------------------------
# Replacing plugins
# --------------------------------------------------------------------------


def test_replacing_plugins_without_plugins_key_answers_422(operator, problem, create_tenant):
    create_tenant("museum")

    body = problem(operator.put(f"{TENANTS}/museum/plugins", json={}), 422, "validation_failed")

    assert pointers(body) == {"/plugins"}


def test_replacing_plugins_with_an_unknown_plugin_answers_422_and_changes_nothing(operator, problem, create_tenant):
    create_tenant("museum", plugins={"activity": {}})

    body = problem(operator.put(f"{TENANTS}/museum/plugins", json={"plugins": {"car-wash": {}}}), 422, "validation_failed")

    assert pointers(body) == {"/plugins/car-wash"}
    assert operator.get(f"{TENANTS}/museum").get_json()["plugins"] == {"activity": {}}


def test_replacing_plugins_with_invalid_setting_answers_422_pointing_into_the_config(operator, problem, create_tenant):
    create_tenant("museum")

    response = operator.put(f"{TENANTS}/museum/plugins", json={"plugins": {"exhibition": {"entry_grace_minutes": -1}}})

    assert pointers(problem(response, 422, "validation_failed")) == {"/plugins/exhibition/entry_grace_minutes"}


def test_replacing_plugins_with_malformed_json_answers_400(operator, problem, create_tenant):
    create_tenant("museum")

    problem(operator.put(f"{TENANTS}/museum/plugins", data="{", content_type="application/json"), 400, "malformed_json")


# --------------------------------------------------------------------------
# Unknown tenants, routes and methods
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/nowhere", None), ("POST", "/nowhere/suspend", None), ("PUT", "/nowhere/plugins", {"plugins": {}})],
    ids=["show", "suspend", "plugins"],
)
def test_unknown_tenant_answers_404_tenant_not_found(operator, problem, method, path, body):
    problem(operator.open(TENANTS + path, method=method, json=body), 404, "tenant_not_found")


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v2/operator/tenants", "/api/"])
def test_unknown_route_under_api_answers_404_problem(client, problem, path):
    problem(client.get(path), 404, "not_found")


def test_wrong_method_answers_405_problem_with_allow_header(operator, problem):
    response = operator.delete(TENANTS)

    problem(response, 405, "method_not_allowed")
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "POST"}


def test_wrong_method_on_an_operator_route_answers_405_even_without_a_token(client, problem):
    problem(client.patch(f"{TENANTS}/museum"), 405, "method_not_allowed")


def test_unknown_page_outside_api_is_not_a_problem_document(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.mimetype != "application/problem+json"


def test_unexpected_error_answers_500_problem_without_details(operator, problem, monkeypatch, caplog):
    from yuyue.provisioning import operations

    def explode(session):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(operations, "list_tenants", explode)

    body = problem(operator.get(TENANTS), 500, "internal_error")

    assert "secret internals" not in json.dumps(body)
    assert "secret internals" in caplog.text


# --------------------------------------------------------------------------
# Anything at all
# --------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
plausible_tenants = st.fixed_dictionaries(
    {},
    optional={
        "slug": st.from_regex(r"[a-z0-9][a-z0-9-]{0,6}[a-z0-9]", fullmatch=True) | json_values,
        "name": st.text(max_size=20) | json_values,
        "time_zone": st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "UTC", "Mars/Olympus", "", "/etc/localtime"]) | json_values,
        "locales": st.lists(st.sampled_from(["zh-Hans", "zh-Hant", "en", "fr"]) | json_values, max_size=4),
        "plugins": st.dictionaries(
            st.sampled_from(["exhibition", "activity", "course", "theme-default", "car-wash", "", "a/b", "~"]),
            st.fixed_dictionaries({}, optional={"max_persons_per_account_per_day": json_values, "entry_grace_minutes": st.integers()}) | json_values,
            max_size=3,
        ),
        "extra": json_values,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=json_values | plausible_tenants)
def test_creating_a_tenant_from_any_json_never_answers_500(operator, body):
    response = operator.post(TENANTS, data=json.dumps(body), content_type="application/json")

    assert response.status_code in {201, 409, 422}, response.get_data(as_text=True)
    if response.status_code != 201:
        assert response.mimetype == "application/problem+json"
        assert response.get_json(force=True)["errors"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=st.binary(max_size=40))
def test_creating_a_tenant_from_any_bytes_never_answers_500(operator, raw):
    response = operator.post(TENANTS, data=raw, content_type="application/json")

    assert response.status_code in {201, 400, 409, 422}
    if response.status_code != 201:
        assert response.mimetype == "application/problem+json"


def test_nul_character_in_a_body_string_answers_422_at_its_field(operator, problem):
    body = problem(operator.post(TENANTS, json={**VALID, "name": "Mu\u0000seum"}), 422, "validation_failed")
    assert pointers(body) == {"/name"}


def test_nul_character_in_the_url_path_answers_404(operator, problem):
    problem(operator.get("/api/v1/operator/tenants/a%00b"), 404, "not_found")
