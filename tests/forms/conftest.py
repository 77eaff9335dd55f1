"""Fixtures for the form dialect: a form registry built the way an application builds it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from yuyue.forms import builtin
from yuyue.forms.registry import FormRegistry, build_form_registry
from yuyue.plugins import PluginHost, make_plugin_host


def _registry_of(host: PluginHost) -> FormRegistry:
    # The built-ins come through the hooks; register them if the host does not list them as a default plugin yet.
    if not host.manager.is_registered(builtin):
        host.manager.register(builtin, name="yuyue.forms.builtin")
    return build_form_registry(host)


@pytest.fixture
def registry_for() -> Callable[[PluginHost], FormRegistry]:
    """``registry_for(host)``: the form registry an application with plugin host ``host`` gets."""
    return _registry_of


@pytest.fixture(scope="session")
def registry() -> FormRegistry:
    """The form registry of an application with no installed plugin: the built-in field types and formats."""
    return _registry_of(make_plugin_host([]))
