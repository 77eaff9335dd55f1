"""A tenant's appearance on its customer site (decisions §53): which theme, which brand colour, which logo.

The merchant API and the admin both change it through these operations, each audited in the
tenant's chain. A theme must be installed when it is chosen; one uninstalled later is simply not
used (the site falls back to ``default``). A logo is a PNG, JPEG or WebP image, recognised by its
first bytes whatever the upload says it is, decoded once with Pillow to prove it is whole, and
bounded in bytes and in pixels; SVG is refused, because an SVG is a document that can carry script.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from PIL import Image
from sqlalchemy.orm import Session

from yuyue.audit.operations import record as audit_record
from yuyue.db import write_transaction
from yuyue.errors import FieldProblem, InvalidInput, Message
from yuyue.tenancy.models import Tenant

__all__ = [
    "APPEARANCE_FIELDS",
    "BRAND_COLOUR",
    "DEFAULT_THEME",
    "LOGO_MEDIA_TYPES",
    "MAX_LOGO_BYTES",
    "MAX_LOGO_SIDE",
    "Logo",
    "read_logo",
    "remove_logo",
    "set_appearance",
    "set_logo",
    "theme_in_use",
]

# The theme every tenant has until it chooses, and falls back to: it has every page template.
DEFAULT_THEME = "default"
BRAND_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
APPEARANCE_FIELDS = ("theme", "brand_colour")
MAX_LOGO_BYTES = 256 * 1024
# A logo is shown at most a few hundred pixels wide; the bound keeps a small file from decoding into a huge bitmap.
MAX_LOGO_SIDE = 2048
# media type → the format Pillow decodes it as.
LOGO_MEDIA_TYPES: dict[str, str] = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


@dataclass(frozen=True)
class Logo:
    """A logo that passed every check: its bytes, its media type (read from the bytes), its size and its digest."""

    data: bytes
    media_type: str
    width: int
    height: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _sniffed_type(data: bytes) -> str | None:
    """The media type the file's first bytes say it is, among those a logo may be."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _refused(message: Message, code: str) -> InvalidInput:
    return InvalidInput(message, errors=[FieldProblem("", message, code)], code=code)


def read_logo(data: bytes, declared_type: str | None = None) -> Logo:
    """``data`` as a logo, if it is one: a whole PNG, JPEG or WebP image of at most :data:`MAX_LOGO_BYTES` and :data:`MAX_LOGO_SIDE` pixels a side.

    :raises InvalidInput: ``logo_too_large``, ``logo_not_an_image`` (SVG included), ``logo_type_mismatch``
        (the bytes are another type than the one declared), ``logo_too_many_pixels``, ``logo_damaged``.
    """
    if len(data) > MAX_LOGO_BYTES:
        raise _refused(_l("the logo is larger than %(size)s KiB", size=MAX_LOGO_BYTES // 1024), "logo_too_large")
    media_type = _sniffed_type(data)
    if media_type is None:
        raise _refused(_l("the logo must be a PNG, JPEG or WebP image (SVG is refused: it can carry script)"), "logo_not_an_image")
    if declared_type is not None and declared_type != media_type:
        raise _refused(_l("the file is %(actual)s but was sent as %(declared)s", actual=media_type, declared=declared_type), "logo_type_mismatch")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[LOGO_MEDIA_TYPES[media_type]]) as image:
                width, height = image.size  # read from the header, before any pixel is decoded
                if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE:
                    raise _refused(
                        _l("the logo is %(width)s×%(height)s pixels; at most %(side)s a side", width=width, height=height, side=MAX_LOGO_SIDE),
                        "logo_too_many_pixels",
                    )
                image.load()
    except InvalidInput:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _refused(_l("the logo image is damaged or truncated"), "logo_damaged") from None
    return Logo(data, media_type, width, height)


def theme_in_use(tenant: Tenant | None, themes: Collection[str]) -> str:
    """The theme ``tenant``'s pages render with: its choice while that theme is installed, else the default."""
    chosen = tenant.theme if tenant is not None else None
    return chosen if chosen in themes else DEFAULT_THEME


def _appearance_problems(changes: Mapping[str, Any], themes: Collection[str]) -> list[FieldProblem]:
    problems = []
    theme = changes.get("theme")
    if "theme" in changes and theme is not None and theme not in themes:
        installed = ", ".join(sorted(themes)) or "none"
        problems.append(
            FieldProblem(
                "/theme", _l("theme %(theme)r is not installed (installed: %(installed)s)", theme=str(theme)[:40], installed=installed), "unknown_theme"
            )
        )
    colour = changes.get("brand_colour")
    if "brand_colour" in changes and colour is not None and not (isinstance(colour, str) and BRAND_COLOUR.fullmatch(colour)):
        problems.append(FieldProblem("/brand_colour", _l("a brand colour is written #rrggbb, e.g. #b7332a"), "pattern"))
    return problems


def set_appearance(session: Session, tenant: Tenant, changes: Mapping[str, Any], *, themes: Collection[str], actor: str) -> Tenant:
    """Change the fields of :data:`APPEARANCE_FIELDS` that ``changes`` names (None: back to the theme's own); the others stay.

    ``themes`` are the keys of the installed themes, of which ``theme`` must be one.

    :raises InvalidInput: ``unknown_theme`` at ``/theme``, ``pattern`` at ``/brand_colour``.
    """
    problems = _appearance_problems(changes, themes)
    if problems:
        raise InvalidInput(_l("the appearance is not valid"), errors=problems)
    wanted = {field: changes[field] for field in APPEARANCE_FIELDS if field in changes}
    if wanted.get("brand_colour"):
        wanted["brand_colour"] = wanted["brand_colour"].lower()
    with write_transaction(session):
        previous = {field: getattr(tenant, field) for field in wanted}
        for field, value in wanted.items():
            setattr(tenant, field, value)
        if previous != wanted:
            audit_record(
                session, actor=actor, action="tenant.appearance_changed", subject_type="tenant", subject_id=tenant.slug, data={"previous": previous, **wanted}
            )
    return tenant


def set_logo(session: Session, tenant: Tenant, logo: Logo, *, actor: str) -> Tenant:
    """Make ``logo`` (checked by :func:`read_logo`) the tenant's; the audit records its digest and size, not its bytes."""
    with write_transaction(session):
        previous = tenant.logo_digest
        tenant.logo, tenant.logo_type, tenant.logo_digest = logo.data, logo.media_type, logo.digest
        audit_record(
            session,
            actor=actor,
            action="tenant.logo_changed",
            subject_type="tenant",
            subject_id=tenant.slug,
            data={
                "previous": previous,
                "digest": logo.digest,
                "media_type": logo.media_type,
                "bytes": len(logo.data),
                "width": logo.width,
                "height": logo.height,
            },
        )
    return tenant


def remove_logo(session: Session, tenant: Tenant, *, actor: str) -> Tenant:
    """Forget the tenant's logo (its site shows its name alone); removing no logo changes and records nothing."""
    if tenant.logo_digest is None:
        return tenant
    with write_transaction(session):
        previous = tenant.logo_digest
        tenant.logo, tenant.logo_type, tenant.logo_digest = None, None, None
        audit_record(session, actor=actor, action="tenant.logo_removed", subject_type="tenant", subject_id=tenant.slug, data={"previous": previous})
    return tenant
