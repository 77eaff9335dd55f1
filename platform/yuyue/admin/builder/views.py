"""The builder's pages: booking types, the form designer with its live preview, tickets and prices, rules and policies, the calendar, publishing.

Every write calls the catalog operation the merchant API calls (``create_booking_type``,
``update_booking_type``, and the form draft's own operations); problems come back beside
their fields with everything typed kept (422). Managers and owners only: staff never
change forms, prices or rules.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

import yuyue_schemas
from yuyue import json_input
from yuyue.admin.base import TenantAdminView, current_staff
from yuyue.admin.builder.designer import (
    LIMIT_KEYWORDS,
    DesignedField,
    apply_action,
    field_problems,
    fields_of,
    read_fields,
    show_if_choices,
    to_form,
)
from yuyue.admin.schema_form import read_schema_form, render_schema_form
from yuyue.bookings.availability import slot_availability
from yuyue.catalog import operations as catalog
from yuyue.catalog import privacy_notices
from yuyue.catalog.models import BookingType
from yuyue.catalog.tickets import MAX_TICKET_TYPES
from yuyue.db import db
from yuyue.errors import DomainError, FieldProblem, InvalidInput, NotFound
from yuyue.forms.diff import form_changes
from yuyue.forms.operations import form_problems, form_version, form_versions
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.presenting.form_html import render_form
from yuyue.presenting.language import DEFAULT_LOCALE, LOCALES, localize
from yuyue.provisioning.operations import enabled_plugins
from yuyue.scheduling.registry import slot_rules
from yuyue.tenancy.models import StaffRole
from yuyue.types import MAX_INTEGER, utcnow

__all__ = ["BuilderView"]

CALENDAR_DAYS = 14
MAX_RULES = 30
_FEN = Decimal(100)
# Yuan with at most two decimals (fen); anything else is no price.
_AMOUNT = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$")


def page_locale() -> str:
    """The admin's language as a form locale (zh-Hans, zh-Hant or en)."""
    tag = str(get_locale() or DEFAULT_LOCALE).replace("_", "-")
    return tag if tag in LOCALES else DEFAULT_LOCALE


def _problems_by_pointer(error: DomainError) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in error.errors:
        found.setdefault(problem.pointer, problem.message)
    return found


def _under(problems: dict[str, str], prefix: str) -> dict[str, str]:
    """The problems under ``prefix``, their pointers relative to it."""
    return {pointer.removeprefix(prefix): message for pointer, message in problems.items() if pointer == prefix or pointer.startswith(prefix + "/")}


def yuan(amount: int) -> str:
    """Fen as yuan with two decimals, as a merchant types prices."""
    return f"{Decimal(amount) / _FEN:.2f}"


def fen(text: str) -> int | str:
    """Yuan as typed (``12.5``) in fen, or the text itself when it is no amount (the operation refuses it beside its field)."""
    cleaned = text.strip().replace(",", "").replace("¥", "").replace("￥", "")
    if not _AMOUNT.match(cleaned):
        return text
    amount = Decimal(cleaned)
    return int(amount * _FEN) if abs(amount) <= MAX_INTEGER else text


class BuilderView(TenantAdminView):
    area = "booking-types"
    default_view = "booking_types"
    nav_label = _l("Booking types")
    nav_order = 20
    nav_icon = "builder"
    min_role = StaffRole.manager

    # --- lookups ---------------------------------------------------------------------

    @staticmethod
    def _booking_type(slug: str) -> BookingType:
        try:
            return catalog.get_booking_type(db.session, current_staff().tenant, slug)
        except NotFound:
            abort(404)

    @staticmethod
    def _verticals() -> list[Any]:
        """The verticals of the plugins this tenant enabled: what a booking type may be made from."""
        enabled = enabled_plugins(db.session, current_staff().tenant)
        return [vertical for vertical in plugin_host().verticals.values() if vertical.plugin in enabled]

    # --- the list and a new booking type --------------------------------------------------

    @expose("/")
    def booking_types(self) -> Any:
        booking_types = catalog.list_booking_types(db.session, current_staff().tenant)
        drafts = {bt.id for bt in booking_types if catalog.form_draft(db.session, bt) is not None}
        verticals = {vertical.key: vertical for vertical in plugin_host().verticals.values()}
        return self.render("admin/builder/list.html", booking_types=booking_types, drafts=drafts, verticals=verticals, locale=page_locale(), localize=localize)

    @expose("/new", methods=["GET", "POST"])
    def new_booking_type(self) -> Any:
        verticals = self._verticals()
        values = {"vertical": request.form.get("vertical", verticals[0].key if verticals else ""), "slug": request.form.get("slug", "")}
        values |= {f"name.{locale}": request.form.get(f"name.{locale}", "") for locale in LOCALES}
        problems: dict[str, str] = {}
        if request.method == "POST":
            name = {locale: text.strip()[:200] for locale in LOCALES if (text := values[f"name.{locale}"]).strip()}
            try:
                created = catalog.create_booking_type(
                    db.session,
                    plugin_host(),
                    form_registry(),
                    slot_rules(),
                    current_staff().tenant,
                    vertical=values["vertical"],
                    slug=values["slug"].strip()[:60],
                    name=name or None,
                )
            except DomainError as error:
                problems = _problems_by_pointer(error) or {"": error.message}
                if error.code in ("vertical_not_found", "plugin_not_enabled"):
                    problems["/vertical"] = error.message
            else:
                flash(_("Booking type created: now design its form."), "success")
                return redirect(url_for(".designer", booking_type=created.slug))
        status = 422 if problems else 200
        return self.render("admin/builder/new.html", verticals=verticals, values=values, problems=problems, locale=page_locale(), localize=localize), status

    # --- the form designer -----------------------------------------------------------------

    def _draft_form(self, booking_type: BookingType) -> tuple[dict[str, Any], dict[str, Any]]:
        draft = catalog.form_draft(db.session, booking_type)
        if draft is not None:
            return draft.definition, draft.ui
        current = catalog.current_form_version(db.session, booking_type)
        return current.definition, current.ui

    def _designer_page(self, booking_type: BookingType, definition: dict, ui: dict, *, status: int = 200, extra_problems: list[FieldProblem] = ()) -> Any:
        forms = form_registry()
        fields = fields_of(definition, ui)
        problems = list(extra_problems) or form_problems(definition, ui, forms.field_types, formats=forms.formats)
        placed, general = field_problems(problems, fields)
        locale = page_locale()
        preview_locale = request.values.get("preview_locale", locale)
        if preview_locale not in LOCALES:
            preview_locale = locale
        current = catalog.current_form_version(db.session, booking_type)
        return (
            self.render(
                "admin/builder/designer.html",
                booking_type=booking_type,
                pending=form_changes(current.definition, current.ui, definition, ui),
                fields=fields,
                field_types=forms.field_types,
                placed=placed,
                general=general,
                has_draft=catalog.form_draft(db.session, booking_type) is not None,
                preview=self._preview(definition, ui, preview_locale),
                preview_locale=preview_locale,
                choices=show_if_choices(fields, locale),
                limit_keywords=LIMIT_KEYWORDS,
                locales=LOCALES,
                locale=locale,
                localize=localize,
                tab="form",
            ),
            status,
        )

    @staticmethod
    def _preview(definition: dict, ui: dict, locale: str) -> Markup:
        return render_form(definition, ui, locale=locale, field_types=form_registry().field_types, prefix="preview")

    def _posted_form(self, booking_type: BookingType) -> tuple[dict[str, Any], dict[str, Any], list[DesignedField]]:
        forms = form_registry()
        kept_from, kept_ui = self._draft_form(booking_type)
        fields = apply_action(
            read_fields(request.form, forms.field_types),
            request.form.get("action", ""),
            new_type=request.form.get("new_type", ""),
            field_types=forms.field_types,
        )
        definition, ui, renamed = to_form(fields, kept_from, kept_ui)
        for index, old in renamed.items():
            flash(_("Two fields had the key “%(key)s”: the later one is now “%(new)s”.", key=old, new=fields[index].key), "warning")
        return definition, ui, fields

    @expose("/<slug:booking_type>/form", methods=["GET", "POST"])
    def designer(self, booking_type: str) -> Any:
        found = self._booking_type(booking_type)
        tenant = current_staff().tenant
        if request.method == "GET":
            return self._designer_page(found, *self._draft_form(found))
        action = request.form.get("action", "save")
        if action == "discard":
            catalog.discard_form_draft(db.session, tenant, found.slug)
            flash(_("Draft discarded: the form is the published version again."), "success")
            return redirect(url_for(".designer", booking_type=found.slug))
        definition, ui, _fields = self._posted_form(found)
        catalog.save_form_draft(db.session, tenant, found.slug, definition, ui)
        if action != "publish":
            anchor = "#preview" if action == "preview" else ""
            locale = request.form.get("preview_locale", "")
            return redirect(url_for(".designer", booking_type=found.slug, preview_locale=locale if locale in LOCALES else None) + anchor)
        before = found.form_version
        try:
            published = catalog.publish_form_draft(db.session, plugin_host(), form_registry(), slot_rules(), tenant, found.slug)
        except InvalidInput as error:
            return self._designer_page(found, definition, ui, status=422, extra_problems=error.errors)
        if published is None:
            flash(_("Nothing changed since version %(version)s: no new version was published.", version=before), "warning")
            return redirect(url_for(".designer", booking_type=found.slug))
        flash(_("Version %(version)s published: new bookings use it now.", version=published.version), "success")
        return redirect(url_for(".versions", booking_type=found.slug, **{"from": before, "to": published.version}))

    @expose("/<slug:booking_type>/form/preview", methods=["POST"])
    def preview(self, booking_type: str) -> Any:
        """The preview of the posted (unsaved) form, as HTML for the designer's script to swap in."""
        found = self._booking_type(booking_type)
        definition, ui, _fields = self._posted_form(found)
        locale = request.form.get("preview_locale", page_locale())
        return str(self._preview(definition, ui, locale if locale in LOCALES else page_locale())), 200, {"Content-Type": "text/html; charset=utf-8"}

    # --- versions and what changed ------------------------------------------------------------

    @expose("/<slug:booking_type>/versions")
    def versions(self, booking_type: str) -> Any:
        found = self._booking_type(booking_type)
        listed = form_versions(db.session, found.id)
        numbers = [version.version for version in listed]
        to = _version_argument("to", found.form_version, numbers)
        since = _version_argument("from", max((n for n in numbers if n < to), default=to), numbers)
        old, new = form_version(db.session, found.id, since), form_version(db.session, found.id, to)
        changes = form_changes(old.definition, old.ui, new.definition, new.ui)
        return self.render(
            "admin/builder/versions.html",
            booking_type=found,
            versions=listed,
            since=since,
            to=to,
            changes=changes,
            locale=page_locale(),
            localize=localize,
            tab="versions",
        )

    # --- the privacy notice ----------------------------------------------------------------------

    @expose("/<slug:booking_type>/privacy-notice", methods=["GET", "POST"])
    def privacy_notice(self, booking_type: str) -> Any:
        """Publish the notice bookings must agree to (a new version when the text changed) or withdraw it, through the API's operations."""
        found = self._booking_type(booking_type)
        current = privacy_notices.current_notice(db.session, found)
        text = current.text if current is not None else {}
        texts = {code: text if isinstance(text, str) else text.get(code, "") for code in LOCALES}
        problems: dict[str, str] = {}
        if request.method == "POST":
            actor, tenant = str(current_staff().actor), current_staff().tenant
            if request.form.get("action") == "withdraw":
                privacy_notices.withdraw_privacy_notice(db.session, tenant, found.slug, actor=actor)
                flash(_("The privacy notice was withdrawn: bookings no longer ask for consent."), "success")
                return redirect(url_for(".privacy_notice", booking_type=found.slug))
            texts = {code: request.form.get(f"text.{code}", "") for code in LOCALES}
            try:
                privacy_notices.set_privacy_notice(db.session, tenant, found.slug, {code: t for code, t in texts.items() if t}, actor=actor)
            except DomainError as error:
                problems = _problems_by_pointer(error)
            else:
                flash(_("Privacy notice saved."), "success")
                return redirect(url_for(".privacy_notice", booking_type=found.slug))
        versions, count = privacy_notices.notice_versions(db.session, found)
        context = {"texts": texts, "max_length": privacy_notices.MAX_NOTICE_LENGTH, "versions": versions, "version_count": count}
        return self._tab_page("privacy_notice", found, problems, **context)

    # --- tickets and prices ---------------------------------------------------------------------

    @expose("/<slug:booking_type>/tickets", methods=["GET", "POST"])
    def tickets(self, booking_type: str) -> Any:
        found = self._booking_type(booking_type)
        price_text = yuan(found.price_amount)
        rows = [_ticket_row(ticket) for ticket in found.ticket_types]
        problems: dict[str, str] = {}
        if request.method == "POST":
            price_text = request.form.get("price", "")[:40]
            rows = _posted_ticket_rows(request.form)
            ticket_types = [_ticket_of(row) for row in rows if not row["remove"]]
            try:
                catalog.update_booking_type(
                    db.session,
                    plugin_host(),
                    form_registry(),
                    slot_rules(),
                    current_staff().tenant,
                    found.slug,
                    price_amount=fen(price_text),
                    ticket_types=ticket_types,
                )
            except DomainError as error:
                problems = _problems_by_pointer(error)
                # Pointers name the kept rows; the page shows every row, removed ones too.
                kept = [index for index, row in enumerate(rows) if not row["remove"]]
                problems = {_row_pointer(pointer, kept): message for pointer, message in problems.items()}
            else:
                flash(_("Tickets and prices saved."), "success")
                return redirect(url_for(".tickets", booking_type=found.slug))
        if len(rows) < MAX_TICKET_TYPES:
            rows.append(_ticket_row({}))
        return self._tab_page("tickets", found, problems, price_text=price_text, rows=rows)

    def _tab_page(self, tab: str, booking_type: BookingType, problems: dict[str, str], **context: Any) -> tuple[Any, int]:
        """A tab of one booking type whose form edits text in every language: 422 with the problems beside their fields."""
        page = self.render(
            f"admin/builder/{tab}.html",
            booking_type=booking_type,
            problems=problems,
            locales=LOCALES,
            locale=page_locale(),
            localize=localize,
            tab=tab,
            **context,
        )
        return page, (422 if problems else 200)

    # --- slot rules and policies -------------------------------------------------------------------

    @expose("/<slug:booking_type>/rules", methods=["GET", "POST"])
    def rules(self, booking_type: str) -> Any:
        found = self._booking_type(booking_type)
        registry = slot_rules()
        schemas = registry.params_schemas()
        rules = [dict(rule) for rule in found.availability_rules]
        policies: Any = found.policies
        rule_problems: list[dict[str, str]] = [{} for _ in rules]
        policy_problems: dict[str, str] = {}
        status = 200
        if request.method == "POST":
            action = request.form.get("action", "save")
            rules, rule_problems, typed_ok = [], [], True
            for index in range(_bounded_count(request.form.get("rule_count"), MAX_RULES)):
                kind = request.form.get(f"rule{index}.type", "")
                if kind not in schemas or request.form.get(f"rule{index}.remove") == "on" or action == f"remove:{index}":
                    continue
                params, found_problems = read_schema_form(schemas[kind], request.form, prefix=f"rule{index}")
                rules.append({"type": kind, "params": params})
                rule_problems.append(found_problems)
                typed_ok = typed_ok and not found_problems
            new_kind = request.form.get("new_rule", "")
            if action == "add" and new_kind in schemas and len(rules) < MAX_RULES:
                rules.append({"type": new_kind, "params": {}})
                rule_problems.append({})
            policies, policy_problems = read_schema_form(yuyue_schemas.schema("policies"), request.form, prefix="policies")
            if action == "save" and typed_ok and not policy_problems:
                try:
                    catalog.update_booking_type(
                        db.session, plugin_host(), form_registry(), registry, current_staff().tenant, found.slug, availability_rules=rules, policies=policies
                    )
                except DomainError as error:
                    problems = _problems_by_pointer(error)
                    rule_problems = [_under(problems, f"/availability_rules/{index}/params") for index in range(len(rules))]
                    for index in range(len(rules)):
                        if message := problems.get(f"/availability_rules/{index}/type"):
                            rule_problems[index][""] = message
                    policy_problems = _under(problems, "/policies")
                else:
                    flash(_("Slot rules and policies saved."), "success")
                    return redirect(url_for(".rules", booking_type=found.slug))
            if action == "save" or any(rule_problems) or policy_problems:
                status = 422 if (any(rule_problems) or policy_problems) else 200
        rule_forms = [
            {
                "index": index,
                "type": rule.get("type"),
                "title": _(str(schemas.get(rule.get("type"), {}).get("title") or rule.get("type"))),
                "form": render_schema_form(
                    schemas[rule["type"]], rule.get("params"), prefix=f"rule{index}", errors=rule_problems[index] if index < len(rule_problems) else {}
                ),
                "error": (rule_problems[index] if index < len(rule_problems) else {}).get(""),
            }
            for index, rule in enumerate(rules)
            if rule.get("type") in schemas
        ]
        policy_form = render_schema_form(yuyue_schemas.schema("policies"), policies, prefix="policies", errors=policy_problems)
        return self.render(
            "admin/builder/rules.html",
            booking_type=found,
            rule_forms=rule_forms,
            rule_types=[(key, _(str(schemas[key].get("title") or key))) for key in registry],
            policy_form=policy_form,
            locale=page_locale(),
            localize=localize,
            tab="rules",
        ), status

    # --- the calendar of the next two weeks --------------------------------------------------------------

    @expose("/<slug:booking_type>/calendar")
    def calendar(self, booking_type: str) -> Any:
        found = self._booking_type(booking_type)
        tenant = current_staff().tenant
        zone = ZoneInfo(tenant.time_zone)
        now = utcnow()
        first = now.astimezone(zone).date()
        last = first + timedelta(days=CALENDAR_DAYS - 1)
        slots = slot_availability(db.session, found, zone, first, last, now, registry=slot_rules())
        days = [(first + timedelta(days=offset), [s for s in slots if s.local_date == first + timedelta(days=offset)]) for offset in range(CALENDAR_DAYS)]
        return self.render("admin/builder/calendar.html", booking_type=found, days=days, zone=zone, locale=page_locale(), localize=localize, tab="calendar")


# --- helpers of the pages -------------------------------------------------------------------------


def _version_argument(name: str, default: int, numbers: list[int]) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not (text.isdecimal() and len(text) < 10) or int(text) not in numbers:
        abort(404)
    return int(text)


def _bounded_count(text: str | None, most: int) -> int:
    return min(int(text), most) if text and text.isdecimal() and len(text) < 6 else 0


def _ticket_row(ticket: dict[str, Any]) -> dict[str, Any]:
    name = ticket.get("name")
    names = dict.fromkeys(LOCALES, name) if isinstance(name, str) else dict(name or {})
    return {
        "key": ticket.get("key", ""),
        "name": {locale: names.get(locale, "") for locale in LOCALES},
        "price": yuan(ticket["price_amount"]) if isinstance(ticket.get("price_amount"), int) else "",
        "min_age": "" if ticket.get("min_age") is None else str(ticket["min_age"]),
        "max_age": "" if ticket.get("max_age") is None else str(ticket["max_age"]),
        "proof": json.dumps(ticket["proof"], ensure_ascii=False) if "proof" in ticket else "",
        "remove": False,
    }


def _posted_ticket_rows(form: Any) -> list[dict[str, Any]]:
    rows = []
    for index in range(_bounded_count(form.get("ticket_count"), MAX_TICKET_TYPES + 1)):
        at = f"t{index}."
        row = {
            "key": form.get(at + "key", "").strip()[:60],
            "name": {locale: form.get(f"{at}name.{locale}", "").strip()[:200] for locale in LOCALES},
            "price": form.get(at + "price", "").strip()[:40],
            "min_age": form.get(at + "min_age", "").strip()[:10],
            "max_age": form.get(at + "max_age", "").strip()[:10],
            "proof": form.get(at + "proof", "")[:2000],
            "remove": form.get(at + "remove") == "on",
        }
        if row["key"] or any(row["name"].values()) or row["price"]:
            rows.append(row)
    return rows


def _ticket_of(row: dict[str, Any]) -> dict[str, Any]:
    ticket: dict[str, Any] = {
        "key": row["key"],
        "name": {locale: text for locale, text in row["name"].items() if text} or "",
        "price_amount": fen(row["price"]),
    }
    for age in ("min_age", "max_age"):
        if row[age]:
            ticket[age] = int(row[age]) if row[age].isdecimal() and len(row[age]) < 6 else row[age]
    if row["proof"]:
        try:
            ticket["proof"] = json_input.loads(row["proof"])
        except ValueError:
            ticket["proof"] = row["proof"]
    return ticket


def _row_pointer(pointer: str, kept: list[int]) -> str:
    parts = pointer.split("/")
    if len(parts) > 2 and parts[1] == "ticket_types" and parts[2].isdecimal() and int(parts[2]) < len(kept):
        parts[2] = str(kept[int(parts[2])])
    return "/".join(parts)
