"""The plugin manager of one application: built-ins, installed plugins, and what they declare.

Built inside ``create_app`` (never a module global), so each application and
each test has its own. Installed plugins come from the ``yuyue.plugins``
entry-point group; ``YUYUE_PLUGINS`` (a comma-separated allow-list) limits
which are loaded. Installed is not enabled: per-tenant hook calls reach only
the plugins enabled for that tenant (:meth:`PluginHost.tenant_plugins`).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from yuyue import hookspecs
from yuyue.behaviour import read_only
from yuyue.declarations import PluginDeclarationError, Theme, Vertical, load_theme, load_vertical
from yuyue.errors import DomainError, Refused
from yuyue.registry import DuplicateRegistration, PluginLoadError, Registry

ENTRY_POINT_GROUP = "yuyue.plugins"

log = logging.getLogger(__name__)

# The host's own hook implementations, registered before any installed plugin.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "yuyue.forms.builtin",
    "yuyue.events.builtin",
    "yuyue.customers.builtin",
    "yuyue.bookings.builtin",
    "yuyue.payments.builtin",
)

# What a tenant may configure for a plugin that declares no settings.
NO_SETTINGS: dict[str, Any] = {"type": "object", "maxProperties": 0}


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str | None
    hooks: tuple[str, ...]
    verticals: tuple[str, ...]


class TenantPlugins:
    """The plugins one tenant enabled, with the tenant's settings for each: what booking behaviour hooks reach.

    Calls each implementation with ``settings`` for its own plugin (schema
    defaults filled, read-only); the host's built-ins get an empty mapping.
    Implementations run in pluggy's order (``tryfirst`` first, then the last
    registered first, ``trylast`` last); hook wrappers are not called. An
    exception other than a :class:`~yuyue.errors.DomainError` is logged and
    refuses the request with ``plugin_failed``, so the caller's transaction
    rolls back and the client gets a problem, not a 500.
    """

    def __init__(self, manager: pluggy.PluginManager, settings: Mapping[str, Mapping[str, Any]], vertical_plugins: Mapping[str, str]):
        self._manager = manager
        self._settings = settings
        self._vertical_plugins = vertical_plugins

    def settings(self, plugin: str) -> Mapping[str, Any]:
        """The tenant's settings for ``plugin``, defaults filled (empty for a plugin it did not enable)."""
        return self._settings.get(plugin, _NO_SETTINGS)

    def offers(self, vertical: str) -> bool:
        """Whether the plugin that declares ``vertical`` is enabled for the tenant."""
        return self._vertical_plugins.get(vertical) in self._settings

    def collect(self, hook: str, **kwargs: Any) -> list[Any]:
        """Every enabled implementation's non-None answer to ``hook``, in call order."""
        return [answer for answer in self._answers(hook, kwargs) if answer is not None]

    def first(self, hook: str, **kwargs: Any) -> Any:
        """The first non-None answer to ``hook`` (for ``firstresult`` hooks); None when nobody answers."""
        return next((answer for answer in self._answers(hook, kwargs) if answer is not None), None)

    def _answers(self, hook: str, kwargs: dict[str, Any]) -> Iterable[Any]:
        for impl in reversed(getattr(self._manager.hook, hook).get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                continue
            if impl.plugin_name in DEFAULT_PLUGINS:
                # The host's own code: its errors are the host's, not a plugin failure.
                yield impl.function(*[{**kwargs, "settings": _NO_SETTINGS}[name] for name in impl.argnames])
            elif impl.plugin_name in self._settings:
                arguments = {**kwargs, "settings": self._settings[impl.plugin_name]}
                yield _call(impl.plugin_name, impl.function, [arguments[name] for name in impl.argnames])


_NO_SETTINGS: Mapping[str, Any] = read_only({})


def _call(plugin: str, function: Callable[..., Any], arguments: list[Any]) -> Any:
    try:
        return function(*arguments)
    except (DomainError, SQLAlchemyError):
        raise  # a refusal the plugin chose, or the database's trouble, not the plugin's
    except Exception:
        log.exception("plugin %r failed in %s", plugin, getattr(function, "__name__", function))
        raise Refused(_l("the plugin %(plugin)r failed; nothing was changed, please try again later", plugin=plugin), code="plugin_failed") from None


def with_defaults(schema: Mapping[str, Any], config: Mapping[str, Any]) -> Mapping[str, Any]:
    """``config`` with the ``default`` of every top-level property of ``schema`` it leaves out, read-only."""
    defaults = {key: spec["default"] for key, spec in (schema.get("properties") or {}).items() if isinstance(spec, Mapping) and "default" in spec}
    return read_only({**defaults, **config})


class PluginHost:
    """A plugin manager plus the verticals and themes its plugins declared."""

    def __init__(self, manager: pluggy.PluginManager, installed: dict[str, object], versions: dict[str, str | None]):
        self.manager = manager
        self.hook = manager.hook
        self._installed = installed
        self._versions = versions
        self._collect_declarations()
        self._tenant_plugins: dict[int, tuple[int, TenantPlugins]] = {}
        self._tenant_plugins_lock = threading.Lock()

    def _collect_declarations(self) -> None:
        verticals: Registry[Vertical] = Registry(kind="vertical")
        for impl in self.hook.register_verticals.get_hookimpls():
            for ref in impl.function() or []:
                vertical = load_vertical(impl.plugin_name, ref)
                try:
                    verticals.add(vertical.key, vertical, impl.plugin_name)
                except DuplicateRegistration as twice:
                    raise PluginDeclarationError(
                        impl.plugin_name, str(ref), "/key", f"vertical {vertical.key!r} is already declared by plugin {twice.owner!r}"
                    ) from None
        themes: Registry[Theme] = Registry(kind="theme")
        for impl in self.hook.register_themes.get_hookimpls():
            for declaration in impl.function() or []:
                theme = load_theme(impl.plugin_name, declaration)
                themes.add(theme.key, theme, impl.plugin_name)
        self.verticals: dict[str, Vertical] = dict(verticals.as_mapping())
        self.themes: dict[str, Theme] = dict(themes.as_mapping())

    def forget_tenants(self) -> None:
        """Drop every tenant's cached plugins: for a database emptied or replaced under a running application."""
        with self._tenant_plugins_lock:
            self._tenant_plugins.clear()

    @property
    def installed_names(self) -> list[str]:
        return sorted(self._installed)

    @property
    def packages(self) -> tuple[str, ...]:
        """The top-level package of every installed plugin and theme (where each ships its catalogs and templates)."""
        return tuple(sorted({getattr(plugin, "__name__", "").partition(".")[0] for plugin in self._installed.values()} - {""}))

    def is_installed(self, name: str) -> bool:
        return name in self._installed

    def info(self) -> list[PluginInfo]:
        """Name, version, implemented hooks and declared verticals of every installed plugin."""
        result = []
        for name in self.installed_names:
            hooks = tuple(sorted(caller.name for caller in self.manager.get_hookcallers(self._installed[name]) or []))
            verticals = tuple(sorted(v.key for v in self.verticals.values() if v.plugin == name))
            result.append(PluginInfo(name, self._versions.get(name), hooks, verticals))
        return result

    def settings_schema(self, name: str) -> dict[str, Any]:
        """The JSON Schema a tenant's configuration of plugin ``name`` must satisfy."""
        schemas = [v.settings_schema for v in self.verticals.values() if v.plugin == name]
        if not schemas:
            return NO_SETTINGS
        return schemas[0] if len(schemas) == 1 else {"allOf": schemas}

    def tenant_plugins(self, tenant_id: int, revision: int, load: Callable[[], Mapping[str, Mapping[str, Any]]]) -> TenantPlugins:
        """The plugins tenant ``tenant_id`` enabled, as of its ``revision`` of them; ``load()`` reads name → configuration.

        Kept per process until the tenant's revision changes (an operator enabled,
        disabled or reconfigured a plugin), so the booking path reads no
        configuration rows and a change reaches every worker's next request.
        """
        cached = self._tenant_plugins.get(tenant_id)
        if cached is not None and cached[0] == revision:
            return cached[1]
        plugins = self.plugins_configured(load())
        with self._tenant_plugins_lock:
            self._tenant_plugins[tenant_id] = (revision, plugins)
        return plugins

    def plugins_configured(self, configs: Mapping[str, Mapping[str, Any]]) -> TenantPlugins:
        """The hooks a tenant reaches that enabled the plugins in ``configs`` (name → configuration), uncached."""
        settings = {name: with_defaults(self.settings_schema(name), config or {}) for name, config in configs.items() if name in self._installed}
        return TenantPlugins(self.manager, settings, {key: vertical.plugin for key, vertical in self.verticals.items()})


def make_plugin_host(allow: list[str] | None = None) -> PluginHost:
    """Register built-ins and installed plugins, check the contract, load declarations.

    :param allow: names of installed plugins to load; ``None`` loads all of them.
    """
    manager = pluggy.PluginManager("yuyue")
    manager.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)

    installed: dict[str, object] = {}
    versions: dict[str, str | None] = {}
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    unknown = sorted(set(allow or ()) - found.keys())
    if unknown:
        raise PluginLoadError(f"YUYUE_PLUGINS names plugins that are not installed: {', '.join(unknown)}")
    for name, entry_point in sorted(found.items()):
        if allow is not None and name not in allow:
            continue
        try:
            plugin = entry_point.load()
        except Exception as error:
            raise PluginLoadError(f"plugin {name!r} ({entry_point.value}) failed to import: {error}") from error
        try:
            manager.register(plugin, name=name)
        except pluggy.PluginValidationError as error:
            raise PluginLoadError(f"plugin {name!r}: {error}") from error
        installed[name] = plugin
        versions[name] = entry_point.dist.version if entry_point.dist else None
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginLoadError(str(error)) from error
    return PluginHost(manager, installed, versions)


def plugin_host(app: Flask | None = None) -> PluginHost:
    """The plugin host of ``app`` (default: the current application)."""
    return (app or current_app).extensions["yuyue.plugins"]
