"""Validating a submission: the server checks everything and reports every problem at once, where it is."""

import pytest

from yuyue.errors import InvalidInput

ID = "11010519491231002X"
OTHER_ID = "440306199003071232"

FORM = {
    "type": "object",
    "properties": {
        "visitor_type": {"x-field": "select", "x-options": [{"value": "individual", "label": "散客"}, {"value": "group", "label": "团队"}]},
        "name": {"x-field": "text", "minLength": 1, "maxLength": 10},
        "id_card": {"x-field": "id_card"},
        "mobile": {"x-field": "phone"},
        "email": {"x-field": "email"},
        "code": {"x-field": "text", "pattern": "^[A-Z]{3}$"},
        "group_size": {"x-field": "number", "type": "integer", "minimum": 15, "maximum": 200},
        "group_leader": {"x-field": "text", "title": "Group leader"},
        "leader_mobile": {"x-field": "phone"},
        "interests": {"x-field": "multiselect", "maxItems": 2, "x-options": [{"value": v, "label": v} for v in ("tea", "hiking", "art")]},
        "companions": {
            "x-field": "person_list",
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {"name": {"x-field": "text", "minLength": 1}, "id_number": {"x-field": "id_card"}},
                "required": ["name", "id_number"],
            },
        },
        "consent": {"x-field": "consent"},
    },
    "required": ["visitor_type", "name", "mobile", "consent"],
    "dependentRequired": {"group_leader": ["leader_mobile"]},
    "if": {"properties": {"visitor_type": {"const": "group"}}, "required": ["visitor_type"]},
    "then": {"required": ["group_size"]},
    "else": {"properties": {"group_size": False}},
    "allOf": [
        {"if": {"properties": {"visitor_type": {"const": "group"}}, "required": ["visitor_type"]}, "then": {"properties": {"companions": {"maxItems": 0}}}}
    ],
}

VALID = {"visitor_type": "individual", "name": "张三", "mobile": "13800138000", "consent": True}


@pytest.fixture(scope="module")
def compiled(registry):
    return registry.compile(FORM)


@pytest.fixture
def refused(registry, compiled):
    """``refused(answers)`` → [(pointer, code)] of the problems with ``{**VALID, **answers}``."""

    def check(answers, *, base=VALID):
        with pytest.raises(InvalidInput) as caught:
            registry.validate(compiled, {**base, **answers})
        assert caught.value.code == "validation_failed"
        return [(p.pointer, p.code) for p in caught.value.errors]

    return check


def test_valid_answers_are_accepted(registry, compiled):
    assert dict(registry.validate(compiled, VALID)) == VALID


def test_every_problem_is_reported_at_once_with_its_pointer(refused):
    answers = {
        "name": "",
        "mobile": "12345",
        "id_card": ID[:-1] + "3",
        "email": "zhang@",
        "companions": [{"name": "李四", "id_number": OTHER_ID}, {"name": "王五", "id_number": OTHER_ID[:-1] + "0"}],
        "consent": False,
        "shoe_size": 42,
    }
    assert refused(answers) == [
        ("/name", "required"),
        ("/id_card", "id_card_checksum"),
        ("/mobile", "not_a_mobile_number"),
        ("/email", "not_an_email_address"),
        ("/companions/1/id_number", "id_card_checksum"),
        ("/consent", "consent_required"),
        ("/shoe_size", "unknown_field"),
    ]


def test_missing_fields_are_reported_each_at_its_own_pointer(refused):
    assert refused({}, base={}) == [("/visitor_type", "required"), ("/name", "required"), ("/mobile", "required"), ("/consent", "required")]


def test_problems_inside_a_person_list_point_at_the_person_and_field(refused):
    found = refused({"companions": [{"name": "李四", "id_number": OTHER_ID}, {"name": "", "id_number": "1234"}, {"id_number": ID, "age": 3}]})
    assert found == [
        ("/companions/1/id_number", "id_card_length"),
        ("/companions/1/name", "required"),
        ("/companions/2/age", "unknown_field"),
        ("/companions/2/name", "required"),
    ]


def test_group_visit_requires_a_group_size(refused):
    assert refused({"visitor_type": "group"}) == [("/group_size", "required")]


def test_group_size_does_not_apply_to_individual_visits(refused):
    assert refused({"group_size": 20}) == [("/group_size", "not_applicable")]


def test_group_visit_with_group_size_is_accepted(registry, compiled):
    assert registry.validate(compiled, {**VALID, "visitor_type": "group", "group_size": 20})["group_size"] == 20


def test_group_visit_lists_no_companions(refused):
    assert refused({"visitor_type": "group", "group_size": 20, "companions": [{"name": "李四", "id_number": ID}]}) == [("/companions", "max_items")]


def test_dependent_field_is_required_when_its_trigger_is_given(refused, registry):
    with pytest.raises(InvalidInput) as caught:
        registry.validate(registry.compile(FORM), {**VALID, "group_leader": "赵六"})
    [problem] = caught.value.errors
    assert (problem.pointer, problem.code) == ("/leader_mobile", "required")
    assert "Group leader" in problem.message


def test_unknown_fields_are_refused(refused):
    assert refused({"discount": "VIP", "admin": True}) == [("/admin", "unknown_field"), ("/discount", "unknown_field")]


def test_consent_must_be_given(refused):
    assert refused({"consent": False}) == [("/consent", "consent_required")]


def test_consent_cannot_be_given_as_text(refused):
    assert refused({"consent": "yes"}) == [("/consent", "type")]


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({"name": "张" * 11}, ("/name", "max_length")),
        ({"code": "abc"}, ("/code", "pattern")),
        ({"visitor_type": "vip"}, ("/visitor_type", "enum")),
        ({"visitor_type": "group", "group_size": 14}, ("/group_size", "minimum")),
        ({"visitor_type": "group", "group_size": 201}, ("/group_size", "maximum")),
        ({"visitor_type": "group", "group_size": 20.5}, ("/group_size", "type")),
        ({"interests": ["tea", "tea"]}, ("/interests", "unique_items")),
        ({"interests": ["tea", "art", "hiking"]}, ("/interests", "max_items")),
        ({"interests": ["golf"]}, ("/interests/0", "enum")),
        ({"companions": [{"name": str(n), "id_number": ID} for n in range(4)]}, ("/companions", "max_items")),
    ],
)
def test_each_constraint_is_reported_with_its_code(refused, answers, problem):
    assert refused(answers) == [problem]


def test_messages_are_plain_words(registry, compiled):
    with pytest.raises(InvalidInput) as caught:
        registry.validate(compiled, {**VALID, "visitor_type": "group", "group_size": 14, "companions": [{"name": "x", "id_number": ID}] * 2})
    messages = {p.pointer: p.message for p in caught.value.errors}
    assert messages == {"/group_size": "Enter 15 or more.", "/companions": "Leave this empty: it does not apply to your other answers."}


def test_person_list_limit_is_worded_in_people(refused, registry, compiled):
    with pytest.raises(InvalidInput) as caught:
        registry.validate(compiled, {**VALID, "companions": [{"name": "x", "id_number": ID}] * 4})
    assert caught.value.errors[0].message == "Add at most 3 people."


def test_answers_that_are_not_an_object_are_refused(registry, compiled):
    with pytest.raises(InvalidInput) as caught:
        registry.validate(compiled, ["张三"])
    assert [(p.pointer, p.code) for p in caught.value.errors] == [("", "type")]


def test_mobile_number_with_prefix_is_stored_as_its_digits(registry, compiled):
    assert registry.validate(compiled, {**VALID, "mobile": "0086 138 0013 8000"})["mobile"] == "13800138000"
