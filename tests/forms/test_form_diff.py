"""What changed between two form versions: fields added, removed, and changed with the properties that changed."""

from yuyue.forms.diff import form_changes

OLD = {
    "type": "object",
    "properties": {"name": {"x-field": "text", "maxLength": 40}, "note": {"x-field": "textarea"}, "mobile": {"x-field": "phone"}},
    "required": ["name"],
}
OLD_UI = {"order": ["name", "note", "mobile"], "fields": {"name": {"label": {"zh-Hans": "姓名"}}}}


def test_an_unchanged_form_has_no_changes():
    assert not form_changes(OLD, OLD_UI, OLD, OLD_UI)


def test_added_removed_and_changed_fields_are_named_with_what_changed():
    new = {
        "type": "object",
        "properties": {"name": {"x-field": "text", "maxLength": 20}, "mobile": {"x-field": "phone"}, "id_card": {"x-field": "id_card"}},
        "required": ["name", "mobile"],
    }
    new_ui = {"order": ["name", "mobile", "id_card"], "fields": {"name": {"label": {"zh-Hans": "全名"}}}}
    changes = form_changes(OLD, OLD_UI, new, new_ui)
    assert changes.added == ["id_card"]
    assert changes.removed == ["note"]
    assert changes.changed == {"name": ["maxLength", "label"], "mobile": ["required"]}
    assert not changes.order_changed and not changes.conditions_changed


def test_a_new_order_and_new_conditions_are_said():
    new_ui = {**OLD_UI, "order": ["mobile", "name", "note"]}
    conditional = {**OLD, "dependentRequired": {"note": ["mobile"]}}
    assert form_changes(OLD, OLD_UI, OLD, new_ui).order_changed
    assert form_changes(OLD, OLD_UI, conditional, OLD_UI).conditions_changed
