"""The customer H5 site at ``/t/<tenant>/`` (decisions §50): server-rendered pages with the tenant's theme, in the reader's language.

Each area of pages is a module registering its routes on :data:`yuyue.site.base.site`;
:func:`init_site` imports them all and registers the blueprint.
"""

from __future__ import annotations

from flask import Flask

from yuyue.site import account, booking, branding, feedback, home, notifications, privacy, profile  # noqa: F401 - each module registers its routes on the site blueprint
from yuyue.site.base import assets, site
from yuyue.site.formatting import init_formatting
from yuyue.site.theming import ThemeEnvironments

__all__ = ["init_site"]


def init_site(app: Flask) -> None:
    """Register the site's pages and the themes' files (after the API, whose URL converters the routes use)."""
    init_formatting(app)
    app.extensions["yuyue.site_themes"] = ThemeEnvironments(app)
    app.register_blueprint(site)
    app.register_blueprint(assets)
