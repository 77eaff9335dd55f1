"""The appearance page: which theme the tenant's customer site wears, its brand colour and its logo (managers and owners).

The page calls the operations the merchant API calls (:mod:`yuyue.provisioning.appearance`), so a
theme, colour or logo set here is validated and audited the same way; the logo is uploaded as a
multipart form field and checked by its bytes, whatever the browser says it is.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_appbuilder import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from yuyue.admin.base import TenantAdminView, current_staff
from yuyue.admin.desk import page_locale
from yuyue.db import db
from yuyue.errors import InvalidInput
from yuyue.plugins import plugin_host
from yuyue.presenting.language import localize
from yuyue.provisioning import appearance
from yuyue.tenancy.models import StaffRole

__all__ = ["VIEWS"]

# What the page shows in the colour picker when the tenant has no brand colour of its own.
PICKER_DEFAULT = "#1677ff"


def _logo_problem(code: str) -> str:
    """Why an uploaded logo was refused, in the page's language."""
    reasons = {
        "logo_missing": _("Choose an image file to upload."),
        "logo_too_large": _("The logo is larger than %(size)s KB.", size=appearance.MAX_LOGO_BYTES // 1024),
        "logo_not_an_image": _("The logo must be a PNG, JPEG or WebP image. SVG is not accepted."),
        "logo_type_mismatch": _("The file's contents do not match its type. Save it again as PNG, JPEG or WebP."),
        "logo_too_many_pixels": _("The logo is too large: at most %(side)s pixels on each side.", side=appearance.MAX_LOGO_SIDE),
        "logo_damaged": _("The image is damaged or incomplete."),
    }
    return reasons.get(code, reasons["logo_damaged"])


class AppearanceView(TenantAdminView):
    area = "appearance"
    default_view = "page"
    nav_label = _l("Appearance")
    nav_order = 80
    nav_icon = "appearance"
    min_role = StaffRole.manager

    def _show(self, *, errors: dict[str, str] | None = None, form: dict[str, Any] | None = None, saved: str | None = None) -> tuple[str, int]:
        tenant = current_staff().tenant
        themes = plugin_host().themes
        locale = page_locale()
        chosen = {"theme": appearance.theme_in_use(tenant, themes), "brand_colour": tenant.brand_colour, **(form or {})}
        return self.render(
            "admin/appearance.html",
            tenant=tenant,
            themes=[{"key": key, "name": localize(theme.name, locale)} for key, theme in sorted(themes.items())],
            chosen=chosen,
            picker_colour=chosen["brand_colour"] or PICKER_DEFAULT,
            errors=errors or {},
            saved=saved,
            max_kb=appearance.MAX_LOGO_BYTES // 1024,
        ), 422 if errors else 200

    @expose("/", methods=["GET"])
    def page(self) -> Any:
        return self._show(saved=request.args.get("saved"))

    @expose("/", methods=["POST"])
    def save(self) -> Any:
        staff = current_staff()
        theme = (request.form.get("theme") or "")[:40]
        colour = None if request.form.get("own_colour") != "on" else (request.form.get("brand_colour") or "").strip()[:20]
        changes = {"theme": None if theme == appearance.DEFAULT_THEME else theme, "brand_colour": colour}
        try:
            appearance.set_appearance(db.session, staff.tenant, changes, themes=plugin_host().themes.keys(), actor=str(staff.actor))
        except InvalidInput as invalid:
            messages = {
                "/theme": _("Choose one of the themes below."),
                "/brand_colour": _("Pick a colour, or write it as #rrggbb."),
            }
            errors = {problem.pointer.lstrip("/"): messages.get(problem.pointer, problem.message) for problem in invalid.errors}
            return self._show(errors=errors, form={"theme": theme, "brand_colour": colour})
        return redirect(url_for(".page", saved="look"))

    @expose("/logo", methods=["POST"])
    def upload_logo(self) -> Any:
        staff = current_staff()
        try:
            upload = request.files.get("logo")
        except RequestEntityTooLarge:
            return self._show(errors={"logo": _logo_problem("logo_too_large")})
        data = upload.read(appearance.MAX_LOGO_BYTES + 1) if upload else b""
        if not data:
            return self._show(errors={"logo": _logo_problem("logo_missing")})
        try:
            # The browser's idea of the type is not trusted: the bytes say what the file is.
            appearance.set_logo(db.session, staff.tenant, appearance.read_logo(data), actor=str(staff.actor))
        except InvalidInput as invalid:
            return self._show(errors={"logo": _logo_problem(invalid.code)})
        return redirect(url_for(".page", saved="logo"))

    @expose("/logo/remove", methods=["POST"])
    def remove_logo(self) -> Any:
        staff = current_staff()
        appearance.remove_logo(db.session, staff.tenant, actor=str(staff.actor))
        return redirect(url_for(".page", saved="logo-removed"))


VIEWS: tuple[type, ...] = (AppearanceView,)
