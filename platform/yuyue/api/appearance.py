"""Merchant API for the tenant's appearance: ``/api/v1/t/<tenant>/admin/appearance`` (theme, brand colour) and ``…/appearance/logo``.

Manager tokens and above. The operations (:mod:`yuyue.provisioning.appearance`) validate and audit;
descriptions in :mod:`yuyue.api.schemas.merchant.appearance`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from yuyue.api.auth import staff_required
from yuyue.api.body import request_file
from yuyue.api.core import json_body
from yuyue.api.merchant import staff_actor
from yuyue.api.schemas.merchant.appearance import APPEARANCE_CHANGE, APPEARANCE_ROLE
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.db import db
from yuyue.plugins import plugin_host
from yuyue.presenting.language import accepted_locale, localize
from yuyue.provisioning import appearance
from yuyue.tenancy.models import Tenant


def appearance_json(tenant: Tenant, locale: str) -> dict[str, Any]:
    """What GET answers: the tenant's choices, the theme in use and the installed themes named in ``locale``."""
    themes = plugin_host().themes
    logo = None
    if tenant.logo_digest:
        logo = {"media_type": tenant.logo_type, "digest": tenant.logo_digest, "url": url_for("site.logo", tenant_slug=tenant.slug)}
    return {
        "theme": tenant.theme,
        "theme_in_use": appearance.theme_in_use(tenant, themes),
        "brand_colour": tenant.brand_colour,
        "logo": logo,
        "themes": [{"key": key, "name": localize(theme.name, locale)} for key, theme in sorted(themes.items())],
    }


def _answer() -> Response:
    return jsonify(appearance_json(current_tenant(), accepted_locale(tag for tag, _quality in request.accept_languages)))


@tenant_api.get("/admin/appearance")
@staff_required(APPEARANCE_ROLE)
def get_appearance() -> Response:
    return _answer()


@tenant_api.put("/admin/appearance")
@staff_required(APPEARANCE_ROLE)
def set_appearance() -> Response:
    changes = json_body(APPEARANCE_CHANGE)
    appearance.set_appearance(db.session, current_tenant(), changes, themes=plugin_host().themes.keys(), actor=str(staff_actor()))
    return _answer()


@tenant_api.put("/admin/appearance/logo")
@staff_required(APPEARANCE_ROLE)
def set_logo() -> Response:
    data, media_type, _charset = request_file(appearance.LOGO_MEDIA_TYPES.keys(), appearance.MAX_LOGO_BYTES)
    appearance.set_logo(db.session, current_tenant(), appearance.read_logo(data, media_type), actor=str(staff_actor()))
    return _answer()


@tenant_api.delete("/admin/appearance/logo")
@staff_required(APPEARANCE_ROLE)
def remove_logo() -> tuple[str, int]:
    appearance.remove_logo(db.session, current_tenant(), actor=str(staff_actor()))
    return "", 204
