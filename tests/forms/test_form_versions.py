"""Form versions: publishing adds a version; earlier versions stay as they were and stay readable."""

import copy

import pytest
from sqlalchemy import select

from yuyue.catalog.models import BookingType
from yuyue.catalog.operations import current_form_version, publish_form
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import InvalidInput, NotFound
from yuyue.forms.models import FormVersion
from yuyue.forms.operations import form_version
from yuyue.provisioning.operations import create_tenant

FORM = {
    "type": "object",
    "properties": {"name": {"x-field": "text", "maxLength": 40}, "mobile": {"x-field": "phone"}},
    "required": ["name", "mobile"],
}
UI = {"order": ["name", "mobile"], "fields": {"name": {"label": {"zh-Hans": "姓名", "en": "Name"}}}}


def make_booking_type(session, app, slug):
    tenant = create_tenant(session, app.extensions["yuyue.plugins"], slug=slug, name=slug.title())
    with tenant_scope(tenant.id), write_transaction(session):
        booking_type = BookingType(slug="entry", vertical="exhibition", name={"en": "Entry"})
        session.add(booking_type)
    return booking_type


@pytest.fixture
def booking_type(app, session):
    return make_booking_type(session, app, "museum")


def with_email(form):
    form = copy.deepcopy(form)
    form["properties"]["email"] = {"x-field": "email"}
    return form


def test_first_publication_is_version_1(session, registry, booking_type):
    version = publish_form(session, booking_type, FORM, UI, registry.field_types)
    assert version.version == 1 and booking_type.form_version == 1


def test_publishing_again_adds_version_2_and_makes_it_current(session, registry, booking_type):
    publish_form(session, booking_type, FORM, UI, registry.field_types)
    publish_form(session, booking_type, with_email(FORM), UI, registry.field_types)
    assert booking_type.form_version == 2
    assert "email" in current_form_version(session, booking_type).definition["properties"]


def test_publishing_version_2_keeps_version_1_intact_and_readable(session, registry, booking_type):
    publish_form(session, booking_type, FORM, UI, registry.field_types)
    publish_form(session, booking_type, with_email(FORM), {}, registry.field_types)
    session.expunge_all()
    with tenant_scope(booking_type.tenant_id):
        first = form_version(session, booking_type.id, 1)
        assert (first.definition, first.ui) == (FORM, UI)
        assert session.scalars(select(FormVersion.version).order_by(FormVersion.version)).all() == [1, 2]


def test_published_form_is_stored_as_authored(session, registry, booking_type):
    version = publish_form(session, booking_type, FORM, UI, registry.field_types)
    assert version.definition == FORM and version.definition is not FORM


def test_invalid_form_is_not_published_and_every_problem_is_reported(session, registry, booking_type):
    form = copy.deepcopy(FORM)
    form["properties"]["name"]["x-field"] = "plate"
    ui = {"order": ["name", "shoe_size"], "fields": {"mobile": {"tooltip": "x"}}}
    with pytest.raises(InvalidInput) as caught:
        publish_form(session, booking_type, form, ui, registry.field_types)
    assert [p.pointer for p in caught.value.errors] == ["/definition/properties/name/x-field", "/ui/fields/mobile/tooltip"]
    with tenant_scope(booking_type.tenant_id):
        assert session.scalars(select(FormVersion)).all() == []


def test_ui_naming_fields_the_form_does_not_have_is_refused(session, registry, booking_type):
    ui = {"order": ["name", "shoe_size"], "fields": {"nickname": {"label": "x"}}}
    with pytest.raises(InvalidInput) as caught:
        publish_form(session, booking_type, FORM, ui, registry.field_types)
    assert [p.pointer for p in caught.value.errors] == ["/ui/order/1", "/ui/fields/nickname"]


def test_ui_for_person_list_fields_must_name_fields_of_each_person(session, registry, booking_type):
    form = copy.deepcopy(FORM)
    form["properties"]["companions"] = {"x-field": "person_list", "items": {"type": "object", "properties": {"name": {"x-field": "text"}}}}
    ui = {"fields": {"companions": {"fields": {"name": {"label": "姓名"}, "age": {"label": "年龄"}}}}}
    with pytest.raises(InvalidInput) as caught:
        publish_form(session, booking_type, form, ui, registry.field_types)
    assert [p.pointer for p in caught.value.errors] == ["/ui/fields/companions/fields/age"]


def test_missing_version_is_not_found(session, registry, booking_type):
    publish_form(session, booking_type, FORM, UI, registry.field_types)
    with tenant_scope(booking_type.tenant_id), pytest.raises(NotFound):
        form_version(session, booking_type.id, 2)


def test_another_tenant_cannot_read_the_form(app, session, registry, booking_type):
    publish_form(session, booking_type, FORM, UI, registry.field_types)
    other = make_booking_type(session, app, "gallery")
    session.expunge_all()
    with tenant_scope(other.tenant_id), pytest.raises(NotFound):
        form_version(session, booking_type.id, 1)


def test_versions_are_counted_per_booking_type(app, session, registry, booking_type):
    publish_form(session, booking_type, FORM, UI, registry.field_types)
    with tenant_scope(booking_type.tenant_id), write_transaction(session):
        second = BookingType(slug="late-entry", vertical="exhibition", name={"en": "Late entry"})
        session.add(second)
    assert publish_form(session, second, FORM, UI, registry.field_types).version == 1


def test_new_bookings_are_validated_against_the_current_version(session, registry, booking_type):
    publish_form(session, booking_type, FORM, UI, registry.field_types)
    publish_form(session, booking_type, with_email(FORM), UI, registry.field_types)
    with tenant_scope(booking_type.tenant_id):
        form = registry.compiled(current_form_version(session, booking_type).definition)
    assert form["properties"]["email"]["format"] == "email"
    assert registry.as_json(registry.validate(form, {"name": "张三", "mobile": "+86 13800138000"})) == {"name": "张三", "mobile": "13800138000"}


def test_booking_type_with_no_published_form_has_no_form_to_book_with(session, registry, booking_type):
    with tenant_scope(booking_type.tenant_id), pytest.raises(NotFound):
        registry.compiled(current_form_version(session, booking_type).definition)
