"""The plugin host: discovery through entry points, the allow-list, declarations, per-tenant hooks."""

import copy
import json
from importlib import resources

import pytest
from sqlalchemy import select

from yuyue.declarations import PluginDeclarationError
from yuyue.errors import Refused
from yuyue.plugins import PluginLoadError, make_plugin_host
from yuyue.provisioning import operations
from yuyue.scheduling.registry import build_slot_rules
from yuyue.tenancy.models import TenantPlugin

VERTICAL_PLUGINS = {"activity", "vehicle", "course", "exhibition", "scenic"}


def _exhibition_files() -> dict[str, object]:
    """The exhibition plugin's declaration files, to copy into out-of-tree test plugins."""
    folder = resources.files("yuyue_exhibition") / "vertical"
    return {f"vertical/{p.name}": json.loads(p.read_text("utf-8")) for p in folder.iterdir() if p.name.endswith(".json")}


def _vertical_plugin_files(key: str) -> dict[str, object]:
    files = copy.deepcopy(_exhibition_files())
    files["vertical/vertical.json"]["key"] = key
    return files


VERTICAL_SOURCE = """
    from yuyue import VerticalFile, hookimpl

    @hookimpl
    def register_verticals():
        return [VerticalFile(__package__, "vertical/vertical.json")]
"""


def test_the_five_vertical_plugins_are_discovered_through_entry_points():
    host = make_plugin_host()
    assert VERTICAL_PLUGINS <= set(host.installed_names)
    assert {v.key: v.plugin for v in host.verticals.values() if v.plugin in VERTICAL_PLUGINS} == {name: name for name in VERTICAL_PLUGINS}


def test_every_vertical_carries_its_form_ui_and_settings_schema():
    host = make_plugin_host()
    for key in VERTICAL_PLUGINS:
        vertical = host.verticals[key]
        assert vertical.form_schema["type"] == "object" and vertical.form_schema["properties"]
        assert set(vertical.ui_schema["order"]) <= set(vertical.form_schema["properties"])
        assert vertical.settings_schema["type"] == "object"
        assert vertical.default_slot_rules, key


def test_out_of_tree_plugin_is_discovered_with_no_host_change(make_plugin):
    make_plugin("car_wash", VERTICAL_SOURCE, _vertical_plugin_files("car_wash"), version="2.0.1")
    host = make_plugin_host()
    assert host.verticals["car_wash"].plugin == "car_wash"
    info = {p.name: p for p in host.info()}["car_wash"]
    assert info.version == "2.0.1"
    assert info.hooks == ("register_verticals",)
    assert info.verticals == ("car_wash",)


def test_invalid_declaration_stops_start_up_naming_plugin_file_and_pointer(make_plugin):
    files = _vertical_plugin_files("broken")
    files["vertical/form.schema.json"]["properties"]["visitor_name"]["type"] = "strin"
    make_plugin("broken", VERTICAL_SOURCE, files)
    with pytest.raises(PluginDeclarationError) as caught:
        make_plugin_host()
    message = str(caught.value)
    assert "'broken'" in message
    assert "vertical/form.schema.json" in message
    assert "/properties/visitor_name/type" in message


def test_unknown_slot_rule_type_is_refused_with_its_pointer(make_plugin):
    files = _vertical_plugin_files("odd_rules")
    files["vertical/vertical.json"]["default_slot_rules"][0]["type"] = "moon_phase"
    make_plugin("odd_rules", VERTICAL_SOURCE, files)
    with pytest.raises(PluginDeclarationError, match=r"vertical 'odd_rules' at /default_slot_rules/0/type: unknown slot rule 'moon_phase'"):
        build_slot_rules(make_plugin_host())


def test_invalid_slot_rule_params_are_refused_with_their_pointer(make_plugin):
    files = _vertical_plugin_files("bad_params")
    files["vertical/vertical.json"]["default_slot_rules"][0]["params"]["windows"][0]["start"] = "25:00"
    make_plugin("bad_params", VERTICAL_SOURCE, files)
    with pytest.raises(PluginDeclarationError, match=r"/default_slot_rules/0/params/windows/0/start"):
        build_slot_rules(make_plugin_host())


def test_a_settings_schema_with_an_unbounded_number_is_refused_with_its_pointer(make_plugin):
    files = _vertical_plugin_files("unbounded")
    files["vertical/settings.schema.json"]["properties"]["bays"] = {"type": "integer", "minimum": 1}
    make_plugin("unbounded", VERTICAL_SOURCE, files)
    with pytest.raises(PluginDeclarationError, match=r"settings.schema.json at /properties/bays: a number here needs minimum and maximum"):
        make_plugin_host()


def test_ui_field_missing_from_form_is_refused(make_plugin):
    files = _vertical_plugin_files("ui_drift")
    files["vertical/form.ui.json"]["order"].append("shoe_size")
    make_plugin("ui_drift", VERTICAL_SOURCE, files)
    with pytest.raises(PluginDeclarationError, match=r"form.ui.json at /order/\d+: 'shoe_size' is not a field"):
        make_plugin_host()


def test_two_plugins_declaring_the_same_vertical_key_is_refused(make_plugin):
    make_plugin("copycat", VERTICAL_SOURCE, _vertical_plugin_files("exhibition"))
    with pytest.raises(PluginDeclarationError, match="vertical 'exhibition' is already declared by plugin '(exhibition|copycat)'"):
        make_plugin_host()


def test_misspelt_hook_fails_start_up(make_plugin):
    make_plugin(
        "typo",
        """
        from yuyue import hookimpl

        @hookimpl
        def register_vertical():
            return []
    """,
    )
    with pytest.raises(PluginLoadError, match="register_vertical"):
        make_plugin_host()


def test_hook_with_unknown_argument_fails_start_up(make_plugin):
    make_plugin(
        "wrong_args",
        """
        from yuyue import hookimpl

        @hookimpl
        def tenant_created(tenant, colour):
            pass
    """,
    )
    with pytest.raises(PluginLoadError, match="colour"):
        make_plugin_host()


def test_plugin_that_fails_to_import_is_named(make_plugin):
    make_plugin("explodes", "raise RuntimeError('boom')\n")
    with pytest.raises(PluginLoadError, match="plugin 'explodes'.*boom"):
        make_plugin_host()


def test_allow_list_loads_only_the_named_plugins():
    host = make_plugin_host(["course"])
    assert host.installed_names == ["course"]
    assert list(host.verticals) == ["course"]


def test_empty_allow_list_loads_no_installed_plugin():
    assert make_plugin_host([]).installed_names == []


def test_allow_list_naming_an_uninstalled_plugin_fails():
    with pytest.raises(PluginLoadError, match="not installed: nope"):
        make_plugin_host(["course", "nope"])


def test_allow_list_is_read_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("YUYUE_PLUGINS", "scenic, course")
    from yuyue.config import settings_from_env

    app = make_app(PLUGINS=settings_from_env()["PLUGINS"])
    assert app.extensions["yuyue.plugins"].installed_names == ["course", "scenic"]


def test_theme_plugins_register_their_themes():
    host = make_plugin_host()
    assert {"default", "ink"} <= set(host.themes)
    assert host.themes["default"].package == "yuyue_theme_default"


def test_settings_schema_of_a_vertical_plugin_comes_from_its_declaration():
    host = make_plugin_host()
    assert host.settings_schema("exhibition") == host.verticals["exhibition"].settings_schema


def test_plugin_configuration_is_validated_against_its_settings_schema(app, session):
    host = app.extensions["yuyue.plugins"]
    with pytest.raises(operations.InvalidInput) as caught:
        operations.create_tenant(session, host, slug="museum", name="Museum", plugins={"exhibition": {"no_such_setting": 1}})
    assert [p.pointer for p in caught.value.errors] == ["/plugins/exhibition/no_such_setting"]


# --- one test per hook: the meta-test in test_docs.py requires test_hook_<name> ---

RECORDING_SOURCE = """
    from yuyue import hookimpl

    calls = []

    @hookimpl
    def tenant_created(tenant):
        calls.append(tenant.slug)

    @hookimpl
    def startup(app):
        calls.append(("startup", app.name))

    @hookimpl
    def register_commands(cli):
        import click

        @cli.command("hello")
        def hello():
            click.echo("hello from a plugin")
"""


def test_hook_tenant_created_reaches_only_tenants_that_enabled_the_plugin(app, session, make_plugin):
    make_plugin("recorder", RECORDING_SOURCE)
    host = make_plugin_host()
    recorder = host.manager.get_plugin("recorder")
    operations.create_tenant(session, host, slug="with-it", name="With", plugins={"recorder": {}})
    operations.create_tenant(session, host, slug="without-it", name="Without", plugins={"course": {}})
    assert recorder.calls == ["with-it"]


def test_hook_tenant_created_failure_rolls_back_the_provisioning(app, session, make_plugin):
    make_plugin(
        "veto",
        """
        from yuyue import hookimpl

        @hookimpl
        def tenant_created(tenant):
            raise RuntimeError("not today")
    """,
    )
    host = make_plugin_host()
    with pytest.raises(Refused) as refused:
        operations.create_tenant(session, host, slug="vetoed", name="V", plugins={"veto": {}})
    assert refused.value.code == "plugin_failed" and "veto" in refused.value.message
    with pytest.raises(operations.NotFound):
        operations.get_tenant(session, "vetoed")


def test_hook_startup_is_called_once_per_app(make_app, make_plugin):
    make_plugin("recorder", RECORDING_SOURCE)
    app = make_app()
    recorder = app.extensions["yuyue.plugins"].manager.get_plugin("recorder")
    assert recorder.calls.count(("startup", "yuyue")) == 1


def test_hook_register_commands_adds_a_cli_command(make_plugin, capsys, monkeypatch, tmp_path):
    from yuyue.cli import main

    make_plugin("recorder", RECORDING_SOURCE)
    monkeypatch.setenv("YUYUE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    assert main(["hello"]) == 0
    assert capsys.readouterr().out == "hello from a plugin\n"


def test_hook_register_verticals_declares_a_vertical(make_plugin):
    make_plugin("car_wash", VERTICAL_SOURCE, _vertical_plugin_files("car_wash"))
    assert make_plugin_host().verticals["car_wash"].form_schema["type"] == "object"


def test_hook_register_themes_declares_a_theme(make_plugin):
    make_plugin(
        "paper",
        """
        from yuyue import hookimpl

        @hookimpl
        def register_themes():
            return [{"key": "paper", "name": {"en": "Paper"}, "package": __package__}]
    """,
    )
    theme = make_plugin_host().themes["paper"]
    assert theme.plugin == "paper" and theme.name == {"en": "Paper"}


def test_enabled_plugins_are_stored_per_tenant(app, session):
    from yuyue.db import tenant_scope

    host = app.extensions["yuyue.plugins"]
    tenant = operations.create_tenant(session, host, slug="two", name="Two", plugins={"course": {}, "activity": {}})
    with tenant_scope(tenant.id):
        assert sorted(session.scalars(select(TenantPlugin.plugin))) == ["activity", "course"]
