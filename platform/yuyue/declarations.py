"""What plugins declare as data (verticals, themes): loading and validation.

A declaration that does not match ``yuyue-schemas`` stops start-up with one
message naming the plugin, the file and the JSON pointer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import PurePosixPath
from typing import Any

from flask_babel import lazy_gettext as _l

import yuyue_schemas
from yuyue.errors import FieldProblem, schema_problem_message

LocalizedText = str | dict[str, str]


@dataclass(frozen=True)
class VerticalFile:
    """A ``vertical.json`` inside an installed package, e.g. ``VerticalFile(__package__, "vertical/vertical.json")``.

    Files the declaration references (form schema, UI schema, settings schema)
    are resolved relative to it.
    """

    package: str
    path: str = "vertical/vertical.json"

    def sibling(self, name: str) -> VerticalFile:
        return VerticalFile(self.package, str(PurePosixPath(self.path).parent / name))

    def __str__(self) -> str:
        return f"{self.package}/{self.path}"


@dataclass(frozen=True)
class Vertical:
    """A kind of booking business (activity sign-up, course, …) as a plugin declared it."""

    key: str
    plugin: str
    name: LocalizedText
    description: LocalizedText
    form_schema: dict[str, Any]
    ui_schema: dict[str, Any]
    settings_schema: dict[str, Any]
    default_slot_rules: list[dict[str, Any]]
    resource_kinds: list[dict[str, Any]]
    default_policies: dict[str, Any] = field(default_factory=dict)
    icon: str | None = None


@dataclass(frozen=True)
class Theme:
    key: str
    plugin: str
    name: LocalizedText
    package: str


class PluginDeclarationError(Exception):
    """A plugin declared something invalid; the message names plugin, file and JSON pointer."""

    def __init__(self, plugin: str, source: str, pointer: str, message: str):
        self.plugin, self.source, self.pointer = plugin, source, pointer
        where = f"{source} at {pointer or '/'}"
        super().__init__(f"plugin {plugin!r} declares an invalid vertical or theme: {where}: {message}")


def _read_text(plugin: str, ref: VerticalFile) -> str:
    try:
        return resources.files(ref.package).joinpath(ref.path).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError) as error:
        raise PluginDeclarationError(plugin, str(ref), "", f"cannot read file ({error})") from None


def _parse_json(plugin: str, ref: VerticalFile, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise PluginDeclarationError(plugin, str(ref), "", f"not JSON: {error}") from None


def _read_json(plugin: str, ref: VerticalFile) -> Any:
    return _parse_json(plugin, ref, _read_text(plugin, ref))


# The declarations this process has validated: (plugin, vertical.json, the text of each of its files). Every
# application reads the files again, but validates only what it has not seen (a process that builds many
# applications, a test run or a server's workers, paid a JSON-Schema validation per vertical and application);
# a changed file is new text and is validated again.
_validated: set[tuple[str, str, tuple[str, ...]]] = set()


def _raise_first(plugin: str, source: str, problems: list, prefix: str = "") -> None:
    if problems:
        first = problems[0]
        raise PluginDeclarationError(plugin, source, prefix + first.pointer, first.message)


def load_vertical(plugin: str, ref: VerticalFile) -> Vertical:
    """Read, validate and assemble one vertical declaration.

    Its default slot rules are checked later, against the application's rule
    types (:func:`yuyue.scheduling.registry.build_slot_rules`).
    """
    if not isinstance(ref, VerticalFile):
        raise PluginDeclarationError(plugin, "register_verticals()", "", f"expected a VerticalFile, got {ref!r}")
    declaration_text = _read_text(plugin, ref)
    declaration = _parse_json(plugin, ref, declaration_text)
    known = (plugin, str(ref), (declaration_text,))
    if known not in _validated:
        _raise_first(plugin, str(ref), yuyue_schemas.problems("vertical", declaration))

    form_ref, ui_ref = ref.sibling(declaration["form"]["schema"]), ref.sibling(declaration["form"]["ui"])
    settings_ref = ref.sibling(declaration["settings_schema"])
    texts = tuple(_read_text(plugin, r) for r in (form_ref, ui_ref, settings_ref))
    form, ui, settings = (_parse_json(plugin, r, text) for r, text in zip((form_ref, ui_ref, settings_ref), texts, strict=True))
    validated = (plugin, str(ref), (declaration_text, *texts))
    if validated not in _validated:
        _check_vertical_files(plugin, form_ref, ui_ref, settings_ref, form, ui, settings)
        _validated.add(validated)
        _validated.add(known)

    return Vertical(
        key=declaration["key"],
        plugin=plugin,
        name=declaration["name"],
        description=declaration["description"],
        form_schema=form,
        ui_schema=ui,
        settings_schema=settings,
        default_slot_rules=declaration["default_slot_rules"],
        resource_kinds=declaration["resource_kinds"],
        default_policies=declaration.get("default_policies", {}),
        icon=declaration.get("icon"),
    )


def _check_vertical_files(plugin: str, form_ref: VerticalFile, ui_ref: VerticalFile, settings_ref: VerticalFile, form: Any, ui: Any, settings: Any) -> None:
    _raise_first(plugin, str(form_ref), yuyue_schemas.problems("form-dialect", form))
    _raise_first(plugin, str(ui_ref), yuyue_schemas.problems("ui-schema", ui))
    fields = set(form.get("properties", {}))
    for index, name in enumerate(ui.get("order", [])):
        if name not in fields:
            raise PluginDeclarationError(plugin, str(ui_ref), f"/order/{index}", f"{name!r} is not a field of the form")
    for name in ui.get("fields", {}):
        if name not in fields:
            raise PluginDeclarationError(plugin, str(ui_ref), f"/fields/{name}", f"{name!r} is not a field of the form")
    _raise_first(plugin, str(settings_ref), yuyue_schemas.check_json_schema(settings) or yuyue_schemas.check_bounded_numbers(settings))


def load_theme(plugin: str, declaration: Any) -> Theme:
    source = "register_themes()"
    if not isinstance(declaration, dict) or not {"key", "name", "package"} <= declaration.keys():
        raise PluginDeclarationError(plugin, source, "", "a theme is a dict with key, name and package")
    try:
        resources.files(declaration["package"])
    except ModuleNotFoundError:
        raise PluginDeclarationError(plugin, source, "/package", f"no package {declaration['package']!r}") from None
    return Theme(key=declaration["key"], plugin=plugin, name=declaration["name"], package=declaration["package"])


# Settings a plugin or a channel declares as a JSON Schema (a login provider's, a notification channel's): secrets are
# the properties marked ``writeOnly``, never shown again and never quoted back in an error.


def write_only_keys(schema: Mapping[str, Any]) -> set[str]:
    """The top-level settings that ``schema`` marks ``writeOnly``: secrets."""
    return {key for key, spec in (schema.get("properties") or {}).items() if isinstance(spec, Mapping) and spec.get("writeOnly")}


def public_settings(schema: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` without the values ``schema`` marks ``writeOnly``."""
    hidden = write_only_keys(schema)
    return {key: value for key, value in config.items() if key not in hidden}


def settings_problems(schema: Mapping[str, Any], config: Mapping[str, Any], prefix: str = "") -> list[FieldProblem]:
    """What is wrong with ``config`` against its settings ``schema``, each at ``prefix`` + its pointer, never quoting a secret.

    jsonschema quotes the offending value (or the whole object) in its messages; the keyword's own message names the
    schema's limit, never the value, and jsonschema's, the fallback, is replaced when it would show a secret.
    """
    hidden = write_only_keys(schema)
    secrets = [str(config[name]) for name in hidden if config.get(name)]
    problems = []
    for problem in yuyue_schemas.problems_against(dict(schema), dict(config)):
        setting = problem.pointer.split("/")[1].replace("~1", "/").replace("~0", "~") if problem.pointer else None
        if setting in hidden or any(secret in problem.message for secret in secrets):
            fallback = _l("not a valid value (%(keyword)s)", keyword=problem.keyword)
        else:
            fallback = problem.message
        problems.append(FieldProblem(f"{prefix}{problem.pointer}", schema_problem_message(problem.keyword, problem.limit, fallback), problem.keyword))
    return problems
