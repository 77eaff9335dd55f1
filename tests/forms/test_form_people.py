"""People on a booking: read through x-person, the booker first, then each person of a person list."""

from datetime import date

import pytest

from yuyue.forms.people import Person, people_in
from yuyue.plugins import make_plugin_host

BOOKER_ID = "11010519491231002X"
CHILD_ID = "110105201202290012"

FORM = {
    "type": "object",
    "properties": {
        "visitor_name": {"x-field": "text", "x-person": "name"},
        "id_card": {"x-field": "id_card", "x-person": "id_number"},
        "mobile": {"x-field": "phone", "x-person": "phone"},
        "remarks": {"x-field": "textarea"},
        "companions": {
            "x-field": "person_list",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"x-field": "text", "x-person": "name"},
                    "id_number": {"x-field": "id_card", "x-person": "id_number"},
                    "born": {"x-field": "date", "x-person": "birth_date"},
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def compiled(registry):
    return registry.compile(FORM)


def test_booker_comes_first_then_each_companion(registry, compiled):
    answers = registry.validate(
        compiled,
        {
            "visitor_name": "张三",
            "id_card": BOOKER_ID.lower(),
            "mobile": "+86 13800138000",
            "companions": [{"name": "张小三", "id_number": CHILD_ID}, {"name": "李四", "born": "1960-05-04"}],
        },
    )
    assert people_in(compiled, answers) == [
        Person(name="张三", id_number=BOOKER_ID, phone="13800138000", birth_date=date(1949, 12, 31)),
        Person(name="张小三", id_number=CHILD_ID, birth_date=date(2012, 2, 29)),
        Person(name="李四", birth_date=date(1960, 5, 4)),
    ]


def test_birth_date_given_in_the_form_wins_over_the_id_number(registry, compiled):
    answers = registry.validate(compiled, {"companions": [{"name": "李四", "id_number": CHILD_ID, "born": "2012-03-01"}]})
    assert people_in(compiled, answers)[1].birth_date == date(2012, 3, 1)


def test_booker_is_listed_even_without_answers_when_the_form_names_one(registry, compiled):
    assert people_in(compiled, registry.validate(compiled, {})) == [Person()]


def test_form_without_x_person_admits_no_named_people(registry):
    form = {"type": "object", "properties": {"seats": {"x-field": "number"}}}
    compiled = registry.compile(form)
    assert people_in(compiled, registry.validate(compiled, {"seats": 2})) == []


def test_people_can_be_read_from_the_form_as_authored(registry, compiled):
    answers = registry.validate(compiled, {"visitor_name": "张三", "companions": [{"name": "李四"}]})
    assert [p.name for p in people_in(FORM, answers)] == ["张三", "李四"]


def test_person_is_a_value(registry):
    with pytest.raises(AttributeError):
        Person(name="张三").name = "李四"


@pytest.mark.parametrize("plugin", ["exhibition", "scenic"])
def test_real_name_verticals_name_each_visitor_and_companion(registry, plugin):
    form = make_plugin_host([plugin]).verticals[plugin].form_schema
    compiled = registry.compile(form)
    answers = {"visitor_name": "张三", "id_card": BOOKER_ID, "mobile": "13800138000", "companions": [{"name": "张小三", "id_card": CHILD_ID}]}
    if plugin == "scenic":
        answers["visitor_type"] = "individual"
    people = people_in(form, registry.validate(compiled, answers))
    assert [(p.name, p.id_number, p.phone) for p in people] == [("张三", BOOKER_ID, "13800138000"), ("张小三", CHILD_ID, None)]
    assert people[1].birth_date == date(2012, 2, 29)


@pytest.mark.parametrize(
    ("plugin", "fields"), [("activity", ("name", "mobile")), ("course", ("student_name", "mobile")), ("vehicle", ("passenger_name", "mobile"))]
)
def test_other_verticals_name_the_booker(plugin, fields):
    form = make_plugin_host([plugin]).verticals[plugin].form_schema
    assert [form["properties"][name]["x-person"] for name in fields] == ["name", "phone"]
