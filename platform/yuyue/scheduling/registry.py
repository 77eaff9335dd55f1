"""One application's slot-rule types: the built-ins plus what its plugins registered.

Built once from the plugin host (:func:`build_slot_rules`) and kept at
``app.extensions["yuyue.slot_rules"]``, like the form and channel registries;
the plugin host itself knows nothing of scheduling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app, has_app_context

from yuyue.declarations import PluginDeclarationError
from yuyue.plugins import PluginLoadError
from yuyue.scheduling.builtin_rules import BUILTIN_RULE_TYPES
from yuyue.scheduling.rules import SlotRuleRegistry, SlotRuleTypeError

if TYPE_CHECKING:
    from yuyue.plugins import PluginHost

__all__ = ["build_slot_rules", "builtin_registry", "current_registry", "slot_rules"]

EXTENSION = "yuyue.slot_rules"

_builtin: SlotRuleRegistry | None = None


def builtin_registry() -> SlotRuleRegistry:
    """The registry of built-in rule types only (no plugins)."""
    global _builtin
    if _builtin is None:
        _builtin = SlotRuleRegistry(BUILTIN_RULE_TYPES)
    return _builtin


def build_slot_rules(host: PluginHost) -> SlotRuleRegistry:
    """The built-in rule types plus every plugin's ``register_slot_rules()``.

    Every vertical's default slot rules are checked against the result, so a
    vertical naming a rule type no installed plugin provides stops start-up.

    :raises PluginLoadError: naming the plugin, if it registers an invalid rule
        type or a key another plugin (or the host) already registered.
    :raises PluginDeclarationError: if a vertical's default slot rules are invalid.
    """
    registry = builtin_registry().copy()
    for impl in host.hook.register_slot_rules.get_hookimpls():
        for rule_type in impl.function() or []:
            try:
                registry.register(rule_type, impl.plugin_name)
            except SlotRuleTypeError as error:
                raise PluginLoadError(f"plugin {impl.plugin_name!r} registers an invalid slot rule type: {error}") from None
    for vertical in host.verticals.values():
        problems = registry.problems(vertical.default_slot_rules, "/default_slot_rules")
        if problems:
            raise PluginDeclarationError(vertical.plugin, f"default slot rules of vertical {vertical.key!r}", problems[0].pointer, problems[0].message)
    return registry


def slot_rules(app: Flask | None = None) -> SlotRuleRegistry:
    """The slot-rule registry of ``app`` (default: the current application)."""
    return (app or current_app).extensions[EXTENSION]


def current_registry() -> SlotRuleRegistry:
    """The registry of the current application, or the built-ins outside an application."""
    if has_app_context() and EXTENSION in current_app.extensions:
        return slot_rules()
    return builtin_registry()
