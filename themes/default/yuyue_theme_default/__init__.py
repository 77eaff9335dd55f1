"""The default customer-site theme: a clean, mobile-first layout in neutral colours."""

import json
from importlib.resources import files
from typing import Any

from yuyue import hookimpl


@hookimpl
def register_themes() -> list[dict[str, Any]]:
    # theme.json is the one place the key and name are written, so a theme
    # gallery can read it without importing the package.
    declaration = json.loads(files(__package__).joinpath("theme.json").read_text("utf-8"))
    return [{"key": declaration["key"], "name": declaration["name"], "package": __package__}]
