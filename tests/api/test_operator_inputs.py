"""Operator request bodies refuse bad input field by field: a 422 problem pointing at the field, never a 500.

Provisioning a tenant and replacing its plugins; each matrix is read off the
schema the endpoint validates with (see bad_inputs), plus the rows only the
operations can judge (time zones, installed plugins, their settings).
"""

from __future__ import annotations

import pytest
from bad_inputs import bad_inputs, case

from yuyue.api.operator import TENANT_CREATE, TENANT_PLUGINS

TENANTS = "/api/v1/operator/tenants"
TENANT = {"slug": "acme", "name": "Acme Museum", "time_zone": "Asia/Shanghai", "locales": ["zh-Hans", "en"], "plugins": {"exhibition": {}}}
TENANT_CASES = [
    *bad_inputs(TENANT_CREATE, TENANT),
    case("time_zone: not an IANA zone", TENANT, "/time_zone", time_zone="Mars/Olympus_Mons"),
    case("locales: the same one twice", TENANT, "/locales", locales=["en", "en"]),
    case("plugins: one not installed", TENANT, "/plugins/no-such-plugin", plugins={"no-such-plugin": {}}),
    case("plugins: a setting out of range", TENANT, "/plugins/exhibition/entry_grace_minutes", plugins={"exhibition": {"entry_grace_minutes": 999}}),
]
PLUGINS = {"plugins": {"exhibition": {"entry_grace_minutes": 10}}}
PLUGINS_CASES = [
    *bad_inputs(TENANT_PLUGINS, PLUGINS),
    case("plugins: one not installed", PLUGINS, "/plugins/no-such-plugin", plugins={"no-such-plugin": {}}),
    case("plugins: an unknown setting", PLUGINS, "/plugins/exhibition/colour", plugins={"exhibition": {"colour": "red"}}),
]


def refused_at(problem, response, pointer: str) -> None:
    errors = problem(response, 422, "validation_failed")["errors"]
    assert pointer in [e["pointer"] for e in errors], errors


def test_the_valid_tenant_is_accepted(operator):
    assert operator.post(TENANTS, json=TENANT).status_code == 201


@pytest.mark.parametrize("bad", TENANT_CASES, ids=str)
def test_a_bad_tenant_is_refused_at_its_field(operator, problem, bad):
    refused_at(problem, operator.post(TENANTS, json=bad.body), bad.pointer)
    assert operator.get(TENANTS).get_json()["tenants"] == []


def test_the_valid_plugins_are_accepted(operator, create_tenant):
    create_tenant("acme")

    assert operator.put(f"{TENANTS}/acme/plugins", json=PLUGINS).status_code == 200


@pytest.mark.parametrize("bad", PLUGINS_CASES, ids=str)
def test_bad_plugins_are_refused_at_their_field(operator, create_tenant, problem, bad):
    create_tenant("acme", plugins={"course": {}})

    refused_at(problem, operator.put(f"{TENANTS}/acme/plugins", json=bad.body), bad.pointer)
    assert operator.get(f"{TENANTS}/acme").get_json()["plugins"] == {"course": {}}
