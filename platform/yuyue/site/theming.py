"""Themes: which templates and static files a tenant's pages use.

A theme is a package declared through ``register_themes`` (decisions §50). Its ``templates/``
overrides any template of the ``default`` theme, which has them all: a theme's Jinja environment
looks in the theme first, then in ``default``, then in the host's templates (the form renderer's
``forms/``). ``{% extends "site/base.html" %}`` in a default page therefore picks up the theme's
own layout. Static files fall back the same way, one URL per theme (``/themes/<key>/<file>``), so
browsers cache them across tenants.
"""

from __future__ import annotations

import threading
from importlib.resources import files
from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, Environment, FileSystemLoader

from yuyue.declarations import Theme
from yuyue.plugins import plugin_host
from yuyue.provisioning.appearance import DEFAULT_THEME

__all__ = ["DEFAULT_THEME", "ThemeEnvironments", "theme_chain", "theme_static_file"]


def _folder(theme: Theme, name: str) -> Path:
    return Path(str(files(theme.package) / name))


def theme_chain(app: Flask, key: str | None) -> list[Theme]:
    """The themes a tenant's page looks in, most specific first: its own (if installed), then ``default``."""
    themes = plugin_host(app).themes
    chain = [themes[key]] if key in themes and key != DEFAULT_THEME else []
    if DEFAULT_THEME in themes:
        chain.append(themes[DEFAULT_THEME])
    return chain


def theme_static_file(app: Flask, key: str, filename: str) -> Path | None:
    """The file ``filename`` of theme ``key``'s static folder, or of ``default``'s; None if neither has it, or ``key`` is no installed theme.

    Only files inside a static folder are ever served: a name that resolves elsewhere (``..``, an absolute path,
    a link out) is not found.
    """
    if key not in plugin_host(app).themes:
        return None
    for theme in theme_chain(app, key):
        folder = _folder(theme, "static").resolve()
        candidate = (folder / filename).resolve()
        if candidate.is_relative_to(folder) and candidate.is_file():
            return candidate
    return None


class ThemeEnvironments:
    """One Jinja environment per theme, built on first use: the application's, with the theme's loaders in front.

    An overlay shares the application's filters, globals and extensions (gettext), and keeps its own
    template cache, so a template compiled for one theme is never served for another.
    """

    def __init__(self, app: Flask):
        self._app = app
        self._environments: dict[str, Environment] = {}
        self._lock = threading.Lock()

    def get(self, key: str | None) -> Environment:
        key = key or DEFAULT_THEME
        environment = self._environments.get(key)
        if environment is None:
            loaders = [FileSystemLoader(_folder(theme, "templates")) for theme in theme_chain(self._app, key)]
            environment = self._app.jinja_env.overlay(loader=ChoiceLoader([*loaders, self._app.jinja_env.loader]))
            with self._lock:
                environment = self._environments.setdefault(key, environment)
        return environment
