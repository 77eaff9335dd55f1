"""The notification pages: the wording of each message (templates) and the channels that send them (managers and owners).

Both call the operations the merchant API calls (:mod:`yuyue.notifying.templates`,
:mod:`yuyue.events.channel_settings`), so a template is checked against sample data and a
setting against its channel's schema, and both are audited, the same way. A preview is
rendered on the server: the page works without script. Secrets of a channel are write-only:
the form says whether one is set, and a field left blank keeps it.
"""

from __future__ import annotations

import re
from typing import Any

from flask import abort, current_app, redirect, request, url_for
from flask_appbuilder import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from yuyue.admin.base import TenantAdminView, current_staff
from yuyue.admin.schema_form import read_schema_form, render_schema_form
from yuyue.customers.login import normalize_mobile
from yuyue.db import db
from yuyue.errors import InvalidInput, NotFound
from yuyue.events import channel_settings
from yuyue.events.channels import channels
from yuyue.notifying import templates
from yuyue.notifying.notices import sample_context
from yuyue.presenting.catalogs import locale_tag
from yuyue.tenancy.models import StaffRole

__all__ = ["VIEWS"]

EMAIL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
OPENID = re.compile(r"[A-Za-z0-9_-]{1,128}")
LOCALE_NAMES = {"zh-Hans": "简体中文", "zh-Hant": "繁體中文", "en": "English"}


# --- templates ------------------------------------------------------------------------------


def _key(event: str, channel: str, locale: str) -> templates.TemplateKey:
    try:
        return templates.checked_key(event, channel, locale, channels().keys)
    except NotFound:
        abort(404)


def _email(key: templates.TemplateKey) -> bool:
    return templates.is_email(channels().get(key.channel))


def _sample(key: templates.TemplateKey) -> dict[str, Any]:
    return sample_context(current_app, current_staff().tenant, key.event, key.locale, email=_email(key))


def _field_errors(invalid: InvalidInput) -> dict[str, str]:
    """Problems by part (``subject``, ``body``, ``html``), each with its line when the template said it."""
    errors = {problem.pointer.lstrip("/").split("/")[0]: str(problem.message) for problem in invalid.errors}
    return errors or {"body": invalid.message}


class NotificationTemplatesView(TenantAdminView):
    area = "notifications/templates"
    default_view = "grid"
    nav_label = _l("Message templates")
    nav_order = 86
    nav_icon = "templates"
    min_role = StaffRole.manager

    @expose("/", methods=["GET"])
    def grid(self) -> Any:
        saved = templates.overrides(db.session)
        channel_keys = list(channels().keys)
        rows = [
            (
                event,
                [
                    (channel, locale, templates.TemplateKey(event, channel, locale) in saved)
                    for channel in channel_keys
                    for locale in templates.TEMPLATE_LOCALES
                ],
            )
            for event in templates.NOTIFIED_EVENTS
        ]
        return self.render(
            "admin/notifications/templates.html",
            channel_keys=channel_keys,
            locales=templates.TEMPLATE_LOCALES,
            locale_names=LOCALE_NAMES,
            rows=rows,
            notice=request.args.get("done"),
        )

    def _edit(
        self, key: templates.TemplateKey, draft: dict[str, str], *, errors: dict[str, str] | None = None, preview: templates.RenderedMessage | None = None
    ) -> tuple[str, int]:
        email = _email(key)
        row = templates.override(db.session, key.event, key.channel, key.locale)
        return self.render(
            "admin/notifications/template_edit.html",
            key=key,
            email=email,
            overridden=row is not None,
            draft=draft,
            errors=errors or {},
            preview=preview,
            locale_names=LOCALE_NAMES,
            limits=templates.MAX_SOURCE_CHARS,
            notice=request.args.get("done"),
        ), 422 if errors else 200

    @expose("/<name:event>/<name:channel>/<name:locale>", methods=["GET"])
    def template(self, event: str, channel: str, locale: str) -> Any:
        key = _key(event, channel, locale)
        row = templates.override(db.session, key.event, key.channel, key.locale)
        email = _email(key)
        if row is not None:
            draft = {"subject": row.subject or "", "body": row.body or "", "html": row.html or ""}
        else:
            # The default's words to start from; the HTML stays empty, so the default layout wraps the text.
            draft = {
                "subject": templates.default_source(key.event, "subject", email=email) or "",
                "body": templates.default_source(key.event, "body", email=email) or "",
                "html": "",
            }
        return self._edit(key, draft)

    @expose("/<name:event>/<name:channel>/<name:locale>", methods=["POST"])
    def save(self, event: str, channel: str, locale: str) -> Any:
        key = _key(event, channel, locale)
        email = _email(key)
        parts = templates.PARTS if email else ("subject", "body")
        draft = {part: (request.form.get(part) or "").replace("\r\n", "\n") for part in parts}
        sources = {part: draft.get(part) or None for part in templates.PARTS}
        if request.form.get("action") == "preview":
            try:
                preview = templates.check_template(key.event, key.locale, sources, _sample(key), email=email)
            except InvalidInput as invalid:
                return self._edit(key, draft, errors=_field_errors(invalid))
            return self._edit(key, draft, preview=preview)
        staff = current_staff()
        try:
            templates.save_template(db.session, staff.tenant, key, draft, sample=_sample(key), email=email, actor=str(staff.actor))
        except InvalidInput as invalid:
            return self._edit(key, draft, errors=_field_errors(invalid))
        return redirect(url_for(".template", event=key.event, channel=key.channel, locale=key.locale, done="saved"))

    @expose("/<name:event>/<name:channel>/<name:locale>/reset", methods=["POST"])
    def reset(self, event: str, channel: str, locale: str) -> Any:
        key = _key(event, channel, locale)
        staff = current_staff()
        try:
            templates.delete_template(db.session, staff.tenant, key, actor=str(staff.actor))
        except NotFound:
            pass  # already the default: what was asked for holds
        return redirect(url_for(".template", event=key.event, channel=key.channel, locale=key.locale, done="reset"))


# --- channels -------------------------------------------------------------------------------


def _checked_address(kind: str, to: str) -> str:
    """``to`` as the channel's kind of address. :raises InvalidInput: it is not one."""
    if kind == "phone":
        return normalize_mobile(to, "/to")
    pattern = EMAIL_ADDRESS if kind == "email" else OPENID
    if not pattern.fullmatch(to):
        raise InvalidInput(_l("not an address this channel sends to"))
    return to


def _settings_form(view: channel_settings.ChannelView, value: Any, errors: dict[str, str]) -> Markup:
    """The channel's settings form, its secrets as password fields that are never filled in."""
    html = str(render_schema_form(view.settings_schema, value, prefix=view.key, errors=errors))
    for name in view.secrets_set:
        html = html.replace(f'<input type="text" id="sf-{view.key}.{name}"', f'<input type="password" autocomplete="new-password" id="sf-{view.key}.{name}"')
    return Markup(html)  # noqa: S704 - render_schema_form's own output, every value in it escaped


def _channel_view(key: str) -> channel_settings.ChannelView:
    try:
        return channel_settings.channel_view(db.session, current_app, key)
    except NotFound:
        abort(404)


class NotificationChannelsView(TenantAdminView):
    area = "notifications/channels"
    default_view = "page"
    nav_label = _l("Notification channels")
    nav_order = 88
    nav_icon = "channels"
    min_role = StaffRole.manager

    def _show(
        self, *, focus: str | None = None, value: Any = None, errors: dict[str, str] | None = None, outcome: dict[str, Any] | None = None, to: str = ""
    ) -> tuple[str, int]:
        sections = []
        for key in channels().keys:
            view = channel_settings.channel_view(db.session, current_app, key)
            mine = key == focus
            settings_errors = {pointer: message for pointer, message in (errors or {}).items() if pointer != "/to"} if mine else {}
            form = _settings_form(view, value if mine and value is not None else view.settings, settings_errors)
            sections.append(
                {
                    "view": view,
                    "form": form,
                    "outcome": outcome if mine else None,
                    "to": to if mine else "",
                    "test_error": (errors or {}).get("/to") if mine else None,
                }
            )
        status = 422 if errors else 502 if outcome and not outcome["sent"] else 200
        return self.render(
            "admin/notifications/channels.html",
            sections=sections,
            address_hint=address_hint,
            notice=request.args.get("done"),
            done_channel=request.args.get("channel"),
        ), status

    @expose("/", methods=["GET"])
    def page(self) -> Any:
        return self._show()

    @expose("/<name:channel>", methods=["POST"])
    def change(self, channel: str) -> Any:
        view = _channel_view(channel)
        value, _problems = read_schema_form(view.settings_schema, request.form, prefix=view.key)
        config = value if isinstance(value, dict) else {}
        # A secret's field left blank keeps the stored secret (the operation keeps what is left out).
        config = {name: item for name, item in config.items() if not (name in view.secrets_set and item in ("", None))}
        try:
            channel_settings.set_channel_settings(
                db.session, current_app, view.key, enabled=request.form.get("enabled") == "on", config=config, actor=str(current_staff().actor)
            )
        except InvalidInput as invalid:
            errors = {problem.pointer.removeprefix("/settings"): str(problem.message) for problem in invalid.errors}
            shown = {name: item for name, item in config.items() if name not in view.secrets_set}
            return self._show(focus=view.key, value=shown, errors=errors or {"": invalid.message})
        return redirect(url_for(".page", done="saved", channel=view.key, _anchor=f"channel-{view.key}"))

    @expose("/<name:channel>/reset", methods=["POST"])
    def reset(self, channel: str) -> Any:
        view = _channel_view(channel)
        channel_settings.delete_channel_settings(db.session, current_app, view.key, actor=str(current_staff().actor))
        return redirect(url_for(".page", done="reset", channel=view.key, _anchor=f"channel-{view.key}"))

    @expose("/<name:channel>/test", methods=["POST"])
    def test(self, channel: str) -> Any:
        view = _channel_view(channel)
        typed = (request.form.get("to") or "").strip()[:200]
        try:
            to = _checked_address(view.address_kind, typed)
        except InvalidInput as invalid:
            message = str(invalid.errors[0].message) if invalid.errors else invalid.message
            return self._show(focus=view.key, errors={"/to": message}, to=typed)
        staff = current_staff()
        outcome = channel_settings.send_test_message(
            db.session, current_app, view.key, to, tenant_slug=staff.tenant.slug, tenant_name=staff.tenant.name, locale=locale_tag(), actor=str(staff.actor)
        )
        result = {"sent": outcome.error is None, "to": outcome.to, "message_id": outcome.message_id, "reason": outcome.error.reason if outcome.error else None}
        return self._show(focus=view.key, outcome=result, to=typed)


def address_hint(kind: str) -> str:
    """What to type in a channel's test address field."""
    return {"phone": _("A mobile number"), "email": _("An email address"), "wechat_openid": _("A customer's openid in the mini-program")}.get(
        kind, _("An address")
    )


VIEWS: tuple[type, ...] = (NotificationTemplatesView, NotificationChannelsView)
