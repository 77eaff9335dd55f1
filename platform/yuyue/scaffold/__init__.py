"""``yuyue plugin new``: a new, installable plugin package, written from the templates beside this module.

Templates are package data (``template/**/*.tmpl``); ``{{name}}`` and
``{{title}}`` in their text are replaced, ``package/`` becomes
``yuyue_<name>/`` and ``tests/test_plugin.py`` becomes ``tests/test_<name>.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["NAME_PATTERN", "ScaffoldError", "create_plugin"]

# The plugin's name is its entry point, its vertical's key and part of its package name, so it must suit all three.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
SUFFIX = ".tmpl"


class ScaffoldError(Exception):
    """The plugin cannot be created as asked; the message says why, in one line."""


def create_plugin(name: str, directory: Path, installed: Iterable[str]) -> list[Path]:
    """Write plugin ``name`` into ``directory`` (new or empty); returns the files written.

    :param installed: names of the plugins installed already; the new one must differ from each.
    :raises ScaffoldError: for a name that does not fit, a taken name or a directory with files in it.
    """
    if not NAME_PATTERN.match(name):
        raise ScaffoldError(f"invalid plugin name {name!r}: use 2-40 lowercase letters, digits and underscores, starting with a letter")
    if name in set(installed):
        raise ScaffoldError(f"a plugin named {name!r} is installed already; choose another name")
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ScaffoldError(f"{directory} exists and is not an empty directory")
    values = {"{{name}}": name, "{{title}}": name.replace("_", " ").title()}
    written = []
    for template, relative in _templates(files(__package__).joinpath("template"), ""):
        target = directory / _target_path(relative, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = template.read_text(encoding="utf-8")
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def _templates(folder: Traversable, prefix: str) -> Iterable[tuple[Traversable, str]]:
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if entry.is_dir():
            yield from _templates(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(SUFFIX):
            yield entry, prefix + entry.name.removesuffix(SUFFIX)


def _target_path(relative: str, name: str) -> str:
    if relative == "tests/test_plugin.py":
        return f"tests/test_{name}.py"
    return re.sub(r"^package/", f"yuyue_{name}/", relative)
