"""The plugin manager of one application: built-ins, installed plugins, and what they declare.

Built inside ``create_app`` (never a module global), so each application and
each test has its own. Installed plugins come from the ``yuyue.plugins``
entry-point group; ``YUYUE_PLUGINS`` (a comma-separated allow-list) limits
which are loaded. Installed is not enabled: per-tenant hook calls reach only
the plugins enabled for that tenant (:meth:`PluginHost.for_tenant`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy
from flask import Flask, current_app

from yuyue import hookspecs
from yuyue.declarations import PluginDeclarationError, Theme, Vertical, load_theme, load_vertical
from yuyue.scheduling.rules import SlotRuleTypeError, builtin_registry

ENTRY_POINT_GROUP = "yuyue.plugins"

# The host's own hook implementations, registered before any installed plugin.
DEFAULT_PLUGINS: tuple[str, ...] = ("yuyue.forms.builtin", "yuyue.events.builtin", "yuyue.customers.builtin", "yuyue.payments.builtin")

# What a tenant may configure for a plugin that declares no settings.
NO_SETTINGS: dict[str, Any] = {"type": "object", "maxProperties": 0}


class PluginLoadError(Exception):
    """An installed plugin could not be loaded or does not match the contract."""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str | None
    hooks: tuple[str, ...]
    verticals: tuple[str, ...]


class TenantHooks:
    """Hook callers that reach built-ins plus the plugins enabled for one tenant."""

    def __init__(self, manager: pluggy.PluginManager, excluded: list[object]):
        self._manager, self._excluded = manager, excluded

    def __getattr__(self, name: str) -> pluggy.HookCaller:
        return self._manager.subset_hook_caller(name, self._excluded)


class PluginHost:
    """A plugin manager plus the verticals and themes its plugins declared."""

    def __init__(self, manager: pluggy.PluginManager, installed: dict[str, object], versions: dict[str, str | None]):
        self.manager = manager
        self.hook = manager.hook
        self._installed = installed
        self._versions = versions
        self.verticals: dict[str, Vertical] = {}
        self.themes: dict[str, Theme] = {}
        self._collect_declarations()

    def _collect_declarations(self) -> None:
        self.slot_rules = builtin_registry().copy()
        for impl in self.hook.register_slot_rules.get_hookimpls():
            for rule_type in impl.function() or []:
                try:
                    self.slot_rules.register(rule_type, impl.plugin_name)
                except SlotRuleTypeError as error:
                    raise PluginLoadError(f"plugin {impl.plugin_name!r} registers an invalid slot rule type: {error}") from None
        for impl in self.hook.register_verticals.get_hookimpls():
            for ref in impl.function() or []:
                vertical = load_vertical(impl.plugin_name, ref, self.slot_rules)
                if vertical.key in self.verticals:
                    other = self.verticals[vertical.key].plugin
                    raise PluginDeclarationError(impl.plugin_name, str(ref), "/key", f"vertical {vertical.key!r} is already declared by plugin {other!r}")
                self.verticals[vertical.key] = vertical
        for impl in self.hook.register_themes.get_hookimpls():
            for declaration in impl.function() or []:
                theme = load_theme(impl.plugin_name, declaration)
                self.themes[theme.key] = theme

    @property
    def installed_names(self) -> list[str]:
        return sorted(self._installed)

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

    def for_tenant(self, enabled: Iterable[str]) -> TenantHooks:
        """Hooks as seen by a tenant that enabled the plugins named in ``enabled``."""
        enabled = set(enabled)
        excluded = [plugin for name, plugin in self._installed.items() if name not in enabled]
        return TenantHooks(self.manager, excluded)


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
