"""The event registration vertical's declaration files are valid and agree with each other."""

import importlib
import json
from importlib.resources import files

import pytest
from jsonschema import Draft202012Validator

import yuyue_schemas
from yuyue import VerticalFile

PACKAGE = "yuyue_activity"


def load(name):
    return json.loads(files(PACKAGE).joinpath("vertical", name).read_text("utf-8"))


@pytest.fixture(scope="module")
def vertical():
    return load("vertical.json")


@pytest.fixture(scope="module")
def form(vertical):
    return load(vertical["form"]["schema"])


@pytest.fixture(scope="module")
def ui(vertical):
    return load(vertical["form"]["ui"])


@pytest.fixture(scope="module")
def settings(vertical):
    return load(vertical["settings_schema"])


def test_plugin_registers_its_vertical_file():
    plugin = importlib.import_module(PACKAGE)
    assert plugin.register_verticals() == [VerticalFile(PACKAGE, "vertical/vertical.json")]


def test_vertical_json_matches_the_vertical_schema(vertical):
    assert yuyue_schemas.problems("vertical", vertical) == []


def test_form_uses_only_the_form_dialect(form):
    assert yuyue_schemas.problems("form-dialect", form) == []


def test_form_is_a_valid_json_schema(form):
    assert yuyue_schemas.check_json_schema(form) == []


def test_ui_schema_matches_the_ui_schema(ui):
    assert yuyue_schemas.problems("ui-schema", ui) == []


def test_settings_schema_is_a_valid_json_schema(settings):
    assert yuyue_schemas.check_json_schema(settings) == []


def test_settings_defaults_are_valid_settings(settings):
    defaults = {name: spec["default"] for name, spec in settings["properties"].items() if "default" in spec}
    assert list(Draft202012Validator(settings).iter_errors(defaults)) == []


def test_every_field_in_ui_order_is_in_the_form_and_vice_versa(form, ui):
    assert sorted(ui["order"]) == sorted(form["properties"])


def test_ui_describes_only_form_fields(form, ui):
    assert set(ui["fields"]) <= set(form["properties"])
    for name, shown in ui["fields"].items():
        item_fields = form["properties"][name].get("items", {}).get("properties", {})
        assert set(shown.get("fields", {})) <= set(item_fields)


def test_every_field_has_a_label_in_each_language(ui):
    for name in ui["order"]:
        assert set(ui["fields"][name]["label"]) == {"zh-Hans", "zh-Hant", "en"}, name


def test_fields_named_by_required_and_conditions_exist(form):
    assert _named_fields(form) <= set(form["properties"])


def test_option_values_are_exactly_the_allowed_values(form):
    for name, field in form["properties"].items():
        if "x-options" in field:
            assert [option["value"] for option in field["x-options"]] == field["enum"], name


def _named_fields(form):
    names = set(form.get("required", []))
    for dependent, needed in form.get("dependentRequired", {}).items():
        names |= {dependent, *needed}
    blocks = [form, *form.get("allOf", [])]
    for block in blocks:
        for part in ("if", "then", "else"):
            clause = block.get(part, {})
            names |= set(clause.get("properties", {})) | set(clause.get("required", []))
            for dependent, needed in clause.get("dependentRequired", {}).items():
                names |= {dependent, *needed}
    return names
