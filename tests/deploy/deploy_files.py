"""What the deployment tests read: the Dockerfile as instructions, compose.yaml as data with its ``${…}``
defaults applied, and the distributions the repository holds (requirements-dev.txt's ``-e`` lines)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal dollar.
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?])(?P<argument>[^}]*))?\}")


def distributions() -> list[str]:
    """The folders of the repository's distributions, as requirements-dev.txt installs them (``.``, ``./schemas``…)."""
    lines = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
    return [line.removeprefix("-e").strip() for line in lines if line.startswith("-e ")]


def normalized(path: str) -> str:
    return "." if path.strip("./") == "" else path.removeprefix("./").rstrip("/")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    stage: int

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form instruction (``CMD ["serve", …]``)."""
        return json.loads(self.arguments)


def dockerfile_instructions(text: str | None = None) -> list[Instruction]:
    """The Dockerfile's instructions in order, continuation lines joined, comments dropped; ``stage`` counts FROMs."""
    text = DOCKERFILE.read_text(encoding="utf-8") if text is None else text
    instructions: list[Instruction] = []
    pending = ""
    stage = -1
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            stage += 1
        instructions.append(Instruction(keyword.upper(), " ".join(arguments.split()), stage))
    return instructions


def compose(environment: dict[str, str] | None = None) -> dict[str, Any]:
    """compose.yaml as Compose reads it: each ``${NAME…}`` replaced by ``environment[NAME]``, else its default."""
    values = environment or {}

    def substitute(match: re.Match[str]) -> str:
        name, operator, argument = match["name"], match["operator"] or "", match["argument"] or ""
        if name in values:
            return values[name]
        if operator.endswith("?"):
            raise KeyError(f"compose.yaml needs {name}: {argument}")
        return argument

    text = VARIABLE.sub(substitute, COMPOSE_FILE.read_text(encoding="utf-8")).replace("$$", "$")
    return yaml.safe_load(text)


def compose_variables() -> dict[str, str]:
    """Every variable compose.yaml interpolates, with its operator (``""`` when it has none)."""
    return {match["name"]: match["operator"] or "" for match in VARIABLE.finditer(COMPOSE_FILE.read_text(encoding="utf-8"))}


def env_example() -> dict[str, str]:
    """The settings deploy/env.example sets (not the commented-out ones)."""
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}
