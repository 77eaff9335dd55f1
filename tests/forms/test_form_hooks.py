"""Plugins add field types and formats through register_field_types() and register_formats()."""

import json
from importlib import resources

import pytest

from yuyue.declarations import PluginDeclarationError
from yuyue.errors import InvalidInput
from yuyue.forms.fields import BUILTIN_FIELD_TYPES
from yuyue.forms.formats import BUILTIN_FORMATS
from yuyue.plugins import PluginLoadError, make_plugin_host

CAR_WASH = """
    import re

    from yuyue import hookimpl
    from yuyue.forms.fields import FieldType
    from yuyue.forms.formats import FormatProblem

    PLATE = re.compile(r"^[\\u4e00-\\u9fff][A-Z][A-Z0-9]{5,6}$")


    def is_plate(value):
        if not PLATE.match(value):
            raise FormatProblem("not_a_plate", "Enter the plate as on the car, e.g. 京A12345.")
        return True


    @hookimpl
    def register_field_types():
        return [
            FieldType(
                "plate",
                {"type": "string", "format": "cn-plate"},
                widget="plate",
                normalize=lambda value: value.replace(" ", "").upper() if isinstance(value, str) else value,
            )
        ]


    @hookimpl
    def register_formats():
        return {"cn-plate": is_plate, "even-digits": lambda value: value.isdigit() and int(value) % 2 == 0}
"""

FORM = {
    "type": "object",
    "properties": {"name": {"x-field": "text"}, "plate": {"x-field": "plate", "title": "Plate"}},
    "required": ["plate"],
}


@pytest.fixture
def car_wash(make_plugin, registry_for):
    make_plugin("car_wash", CAR_WASH)
    return registry_for(make_plugin_host(["car_wash"]))


def test_hook_register_field_types_adds_a_type_forms_can_name(car_wash):
    compiled = car_wash.compile(FORM)
    assert compiled["properties"]["plate"] == {"type": "string", "format": "cn-plate", "x-field": "plate", "title": "Plate"}
    assert car_wash.validate(compiled, {"plate": "京a 12345"})["plate"] == "京A12345"


def test_hook_register_field_types_brings_the_built_in_types(registry):
    assert set(registry.field_types) == {t.key for t in BUILTIN_FIELD_TYPES}
    assert len(BUILTIN_FIELD_TYPES) == 15


def test_hook_register_field_types_refuses_a_key_already_taken(make_plugin, registry_for):
    make_plugin(
        "phones",
        """
        from yuyue import hookimpl
        from yuyue.forms.fields import FieldType

        @hookimpl
        def register_field_types():
            return [FieldType("phone", {"type": "string"}, widget="tel")]
        """,
    )
    with pytest.raises(
        PluginLoadError, match=r"field type 'phone' is registered by both plugin '(yuyue.forms.builtin|phones)' and plugin '(phones|yuyue.forms.builtin)'"
    ):
        registry_for(make_plugin_host(["phones"]))


def test_hook_register_field_types_refuses_what_is_not_a_field_type(make_plugin, registry_for):
    make_plugin(
        "sloppy",
        """
        from yuyue import hookimpl

        @hookimpl
        def register_field_types():
            return [{"key": "plate"}]
        """,
    )
    with pytest.raises(PluginLoadError, match=r"plugin 'sloppy': register_field_types\(\) returned .*not a yuyue.forms.fields.FieldType"):
        registry_for(make_plugin_host(["sloppy"]))


def test_hook_register_formats_adds_a_format_checked_on_every_answer(car_wash):
    compiled = car_wash.compile(FORM)
    with pytest.raises(InvalidInput) as caught:
        car_wash.validate(compiled, {"plate": "12345"})
    [problem] = caught.value.errors
    assert (problem.pointer, problem.code, problem.message) == ("/plate", "not_a_plate", "Enter the plate as on the car, e.g. 京A12345.")


def test_hook_register_formats_check_returning_false_is_a_format_problem(car_wash):
    compiled = {"type": "object", "properties": {"ticket": {"type": "string", "format": "even-digits", "x-field": "text"}}}
    assert car_wash.validate(compiled, {"ticket": "42"})["ticket"] == "42"
    with pytest.raises(InvalidInput) as caught:
        car_wash.validate(compiled, {"ticket": "43"})
    assert [(p.pointer, p.code) for p in caught.value.errors] == [("/ticket", "format")]


def test_hook_register_formats_brings_the_built_in_formats(registry):
    assert set(BUILTIN_FORMATS) <= set(registry.formats)
    assert {"cn-id-card", "cn-mobile", "email", "date", "time"} <= set(registry.formats)


def test_hook_register_formats_refuses_a_name_already_taken(make_plugin, registry_for):
    make_plugin(
        "mobiles",
        """
        from yuyue import hookimpl

        @hookimpl
        def register_formats():
            return {"cn-mobile": lambda value: True}
        """,
    )
    with pytest.raises(
        PluginLoadError, match=r"format 'cn-mobile' is registered by both plugin '(yuyue.forms.builtin|mobiles)' and plugin '(mobiles|yuyue.forms.builtin)'"
    ):
        registry_for(make_plugin_host(["mobiles"]))


def test_form_naming_a_field_type_of_a_plugin_that_is_not_installed_is_refused(registry):
    with pytest.raises(InvalidInput) as caught:
        registry.compile(FORM)
    assert [(p.pointer, p.code) for p in caught.value.errors] == [("/properties/plate/x-field", "unknown_field_type")]


def test_vertical_form_naming_a_field_type_nobody_registered_stops_start_up(make_plugin, registry_for):
    folder = resources.files("yuyue_exhibition") / "vertical"
    files = {f"vertical/{p.name}": json.loads(p.read_text("utf-8")) for p in folder.iterdir() if p.name.endswith(".json")}
    files["vertical/vertical.json"]["key"] = "car_park"
    files["vertical/form.schema.json"]["properties"]["visitor_name"]["x-field"] = "plate"
    source = """
        from yuyue import VerticalFile, hookimpl

        @hookimpl
        def register_verticals():
            return [VerticalFile(__package__, "vertical/vertical.json")]
    """
    make_plugin("car_park", source, files)
    with pytest.raises(
        PluginDeclarationError, match=r"'car_park'.*form of vertical 'car_park' at /properties/visitor_name/x-field: there is no field type 'plate'"
    ):
        registry_for(make_plugin_host(["car_park"]))
