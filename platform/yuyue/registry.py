"""Keyed things that plugins register (login providers, channels, payment providers, field types, verticals).

Each is collected once per application from a registration hook into a
:class:`Registry`, which remembers which plugin registered each key, so a
second plugin using the same key stops start-up with both plugins named.
A leaf module: the areas that hold registries import it, it imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["DuplicateRegistration", "PluginLoadError", "Registry", "collect"]

Item = TypeVar("Item")
AnyRegistry = TypeVar("AnyRegistry", bound="Registry[Any]")

# What holds the things before any plugin registers one, in messages.
HOST = "yuyue"


class PluginLoadError(Exception):
    """An installed plugin could not be loaded or does not match the contract."""


class DuplicateRegistration(PluginLoadError):
    """Two plugins registered the same key; ``owner`` registered it first, ``plugin`` second."""

    def __init__(self, kind: str, key: str, owner: str, plugin: str):
        self.kind, self.key, self.owner, self.plugin = kind, key, owner, plugin
        super().__init__(f"plugin {plugin!r}: {kind} {key!r} is registered by both plugin {owner!r} and plugin {plugin!r}")


class Registry(Generic[Item]):
    """Items by key, each with the plugin that registered it.

    ``kind`` names one item in messages ("notification channel"); subclasses
    set it once, a plain registry is given it.
    """

    kind = "item"

    def __init__(self, items: Mapping[str, Item] | None = None, *, kind: str | None = None):
        self.kind = kind or self.kind
        self._items: dict[str, Item] = {}
        self._owners: dict[str, str] = {}
        for key, item in (items or {}).items():
            self.add(key, item, HOST)

    def add(self, key: str, item: Item, plugin: str) -> None:
        """Register ``item`` under ``key`` for ``plugin``; a key taken by any plugin raises :class:`DuplicateRegistration`."""
        if key in self._items:
            raise DuplicateRegistration(self.kind, key, self._owners[key], plugin)
        self._items[key], self._owners[key] = item, plugin

    def __contains__(self, key: object) -> bool:
        return key in self._items

    @property
    def keys(self) -> list[str]:
        return sorted(self._items)

    def get(self, key: str) -> Item:
        """The item registered as ``key``; an unknown key raises :class:`LookupError` listing the known ones."""
        try:
            return self._items[key]
        except KeyError:
            raise LookupError(f"no {self.kind} {key!r}; registered: {', '.join(self.keys) or 'none'}") from None

    def as_mapping(self) -> Mapping[str, Item]:
        """Key → item, read-only, in registration order."""
        return MappingProxyType(self._items)


class _RegistrationHook(Protocol):
    def get_hookimpls(self) -> list[Any]: ...


def collect(registry: AnyRegistry, hook: _RegistrationHook, key_of: Callable[[str, Any], str]) -> AnyRegistry:
    """Add to ``registry`` every item that each implementation of registration ``hook`` returns in a list.

    ``key_of(plugin, item)`` checks one item and returns its key; it raises
    :class:`PluginLoadError`, naming the plugin, for an item that does not fit
    the contract. Implementations are asked in registration order: the host's
    built-ins first, so a plugin cannot take a built-in's key.
    """
    for impl in hook.get_hookimpls():
        for item in impl.function() or []:
            registry.add(key_of(impl.plugin_name, item), item, impl.plugin_name)
    return registry
