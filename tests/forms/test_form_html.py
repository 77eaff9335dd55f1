"""The booking form as HTML (what the customer pages and the builder's preview draw) and the posted form read back."""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.presenting.form_html import read_form, render_form

FORM = {
    "type": "object",
    "properties": {
        "kind": {
            "x-field": "select",
            "x-options": [{"value": "adult", "label": {"zh-Hans": "成人", "en": "Adult"}}, {"value": "student", "label": {"zh-Hans": "学生", "en": "Student"}}],
        },
        "school": {"x-field": "text", "title": "School", "x-show-if": {"field": "kind", "enum": ["student"]}},
        "age": {"x-field": "number", "type": "integer", "minimum": 1, "maximum": 120},
        "agree": {"x-field": "consent"},
        "interests": {"x-field": "multiselect", "x-options": [{"value": "tea", "label": "茶"}, {"value": "art", "label": "艺术"}]},
    },
    "required": ["kind", "school", "agree"],
}
UI = {"order": ["kind", "school", "age"], "fields": {"school": {"label": {"zh-Hans": "学校", "en": "School"}, "help": {"zh-Hans": "全称"}}}}


def _render(app, **options):
    with app.test_request_context():
        return str(render_form(FORM, UI, locale=options.pop("locale", "zh-Hans"), field_types=form_registry().field_types, **options))


def test_every_control_has_a_label(app):
    for vertical in plugin_host().verticals.values():
        with app.test_request_context():
            html = str(render_form(vertical.form_schema, vertical.ui_schema, locale="zh-Hans", field_types=form_registry().field_types))
        ids = set(re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html))
        labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
        assert ids <= labelled, (vertical.key, ids - labelled)
        unlabelled = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")(?![^>]*\bid=")[^>]*>', html)
        assert all('type="radio"' in tag or 'type="checkbox"' in tag for tag in unlabelled), unlabelled  # inside their own <label>


def test_labels_and_options_are_in_the_chosen_locale(app):
    assert "学校" in _render(app) and "成人" in _render(app)
    english = _render(app, locale="en")
    assert "School" in english and "Adult" in english and "学校" not in english


def test_a_field_shown_for_an_answer_says_when_and_is_not_required_by_the_browser(app):
    html = _render(app)
    school = re.search(r'<div class="form-field[^"]*" data-field="answers.school"[^>]*>.*?</div>', html, re.S).group(0)
    assert 'data-show-if="' in school and "学生" in school
    assert " required" not in school


def test_errors_sit_beside_their_field_and_values_are_kept(app):
    html = _render(app, values={"age": "abc", "kind": "student"}, errors={"/age": "Enter a whole number."})
    assert 'value="abc"' in html and 'aria-invalid="true"' in html
    assert re.search(r'aria-describedby="[^"]*f-answers-age-error"', html)
    assert '<p class="field-error" id="f-answers-age-error">Enter a whole number.</p>' in html
    assert '<option value="student" selected>' in html


def test_a_posted_form_reads_back_into_typed_answers(app):
    posted = MultiDict(
        [
            ("answers.kind", "student"),
            ("answers.school", "一中"),
            ("answers.age", "12"),
            ("answers.agree", "false"),
            ("answers.agree", "true"),
            ("answers.interests", "art"),
        ]
    )
    answers = read_form(FORM, posted, field_types=form_registry().field_types)
    assert answers == {"kind": "student", "school": "一中", "age": 12, "agree": True, "interests": ["art"]}
    compiled = form_registry().compile(FORM)
    assert dict(form_registry().validate(compiled, answers))["age"] == 12


def test_what_cannot_be_read_is_passed_on_as_typed(app):
    answers = read_form(FORM, MultiDict([("answers.age", "twelve"), ("answers.kind", "")]), field_types=form_registry().field_types)
    assert answers == {"age": "twelve"}
