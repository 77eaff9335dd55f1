"""The Dockerfile builds a wheel of every distribution in one stage and runs them, without a compiler, as a
non-root user in a slim one; the build context holds only what the wheels are made of.

The image itself is built by tests/deploy/test_image_build.py where a Docker engine runs.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_files import DOCKERFILE, DOCKERIGNORE, ROOT, Instruction, compose, distributions, dockerfile_instructions, normalized
from werkzeug.serving import make_server

INSTRUCTIONS = dockerfile_instructions()
RUNTIME = max(instruction.stage for instruction in INSTRUCTIONS)


def runtime(keyword: str) -> list[Instruction]:
    return [instruction for instruction in INSTRUCTIONS if instruction.stage == RUNTIME and instruction.keyword == keyword]


def build(keyword: str) -> list[Instruction]:
    return [instruction for instruction in INSTRUCTIONS if instruction.stage < RUNTIME and instruction.keyword == keyword]


def test_the_instruction_reader_joins_continued_lines_and_skips_comments():
    text = "# syntax=docker/dockerfile:1\nFROM python:3.12-slim AS build\n# note\nRUN a \\\n    b\nFROM python:3.12-slim\nUSER 1\n"
    assert dockerfile_instructions(text) == [
        Instruction("FROM", "python:3.12-slim AS build", 0),
        Instruction("RUN", "a b", 0),
        Instruction("FROM", "python:3.12-slim", 1),
        Instruction("USER", "1", 1),
    ]


def test_image_is_built_in_stages_on_a_slim_python_with_a_version():
    images = [instruction.arguments.split()[0] for instruction in INSTRUCTIONS if instruction.keyword == "FROM"]
    assert len(images) >= 2
    assert re.fullmatch(r"python:3\.1[12]-slim(-\w+)?", images[-1])
    assert [image for image in images if ":" not in image or image.endswith(":latest")] == []


def test_build_stage_makes_a_wheel_of_every_distribution_without_their_dependencies():
    [wheels] = [instruction for instruction in build("RUN") if "pip wheel" in instruction.arguments]
    words = shlex.split(wheels.arguments)
    assert "--no-deps" in words
    built = [normalized(word) for word in words[words.index("wheel") + 1 :] if not word.startswith("-") and word != "/wheels"]
    assert sorted(built) == sorted(normalized(path) for path in distributions())


def test_runtime_installs_only_the_built_wheels_and_nothing_needs_compiling():
    installs = [instruction.arguments for instruction in runtime("RUN") if "pip install" in instruction.arguments]
    assert installs and all("/wheels/*.whl" in command and "--only-binary=:all:" in command for command in installs)
    assert all("from=build" in command for command in installs)
    packages = " ".join(instruction.arguments for instruction in runtime("RUN") if "apt-get install" in instruction.arguments)
    assert not re.search(r"\b(gcc|g\+\+|build-essential|make|cc|libpq-dev|python3-dev)\b", packages)
    assert runtime("COPY") == []  # no sources in the image: everything comes from the wheels


def test_dockerfile_declares_the_syntax_its_build_mounts_need():
    assert DOCKERFILE.read_text(encoding="utf-8").splitlines()[0] == "# syntax=docker/dockerfile:1"


def test_runtime_has_pg_dump_for_backups_of_postgresql():
    assert any("postgresql-client" in instruction.arguments for instruction in runtime("RUN"))


def test_image_runs_as_a_numeric_non_root_user():
    users = runtime("USER")
    assert users, "the runtime stage sets no USER: it would run as root"
    user = users[-1].arguments.split(":")[0]
    assert user.isdigit() and int(user) != 0


def test_instance_folder_is_var_lib_yuyue_and_the_working_directory():
    environment = " ".join(instruction.arguments for instruction in runtime("ENV"))
    assert "YUYUE_INSTANCE_PATH=/var/lib/yuyue" in environment.split()
    assert runtime("WORKDIR")[-1].arguments == "/var/lib/yuyue"


def test_image_serves_on_port_8000_through_the_yuyue_command():
    assert [instruction.arguments for instruction in runtime("EXPOSE")] == ["8000"]
    assert runtime("ENTRYPOINT")[-1].exec_form() == ["yuyue"]
    assert runtime("CMD")[-1].exec_form() == ["serve", "--bind", "0.0.0.0:8000"]


def healthcheck_command() -> list[str]:
    [healthcheck] = runtime("HEALTHCHECK")
    return Instruction("CMD", healthcheck.arguments.split(" CMD ", 1)[1], RUNTIME).exec_form()


def test_image_health_check_asks_for_liveness_with_python_alone():
    command = healthcheck_command()
    assert command[:2] == ["python", "-c"] and "curl" not in command[2]
    assert "http://127.0.0.1:8000/api/v1/health" in command[2]


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed: pip install -r requirements-dev.txt")
    completed = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr


# --- the health checks' commands, run against the application over HTTP ---


@pytest.fixture
def served(make_app) -> Iterator[str]:
    """The application on the test database, served over HTTP on a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, make_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def run_check(command: list[str], base_url: str, path: str | None = None) -> int:
    """Run a health check's python -c code with the server's address for 127.0.0.1:8000 (and ``path`` for its path)."""
    code = command[2].replace("http://127.0.0.1:8000", base_url)
    if path is not None:
        code = re.sub(r"/api/v1/\w+", path, code)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode


def test_image_health_check_passes_while_the_server_answers(served):
    assert run_check(healthcheck_command(), served) == 0


def test_image_health_check_fails_when_nothing_listens():
    assert run_check(healthcheck_command(), "http://127.0.0.1:9") == 1


def test_app_health_check_fails_on_an_error_status(served):
    command = compose({"POSTGRES_PASSWORD": "p", "YUYUE_SECRET_KEY": "k", "YUYUE_SECRETS_KEY": "f"})["services"]["app"]["healthcheck"]["test"][1:]
    assert run_check(command, served, path="/api/v1/no-such-thing") == 1
    assert run_check(command, served, path="/api/v1/health") == 0


# --- the build context ---


def dockerignore_pattern(pattern: str) -> re.Pattern[str]:
    """Docker's pattern as a regular expression: ``**/`` is any number of folders, ``*`` and ``?`` stay within one."""
    translated = ""
    for token in re.split(r"(\*\*/|\*|\?)", pattern):
        translated += {"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
    return re.compile(translated)


def ignored(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context: a line matches a path or a folder above it,
    and the last line that matches wins (``!`` lets back in)."""
    parts = path.split("/")
    folders_and_path = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    verdict = False
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pattern = dockerignore_pattern(line.removeprefix("!"))
            if any(pattern.fullmatch(candidate) for candidate in folders_and_path):
                verdict = not line.startswith("!")
    return verdict


@pytest.mark.parametrize(
    "path", [".venv/bin/python", ".git/HEAD", "instance/yuyue.db", "tests/test_cli.py", "platform/yuyue.egg-info/PKG-INFO", "deploy/.env", "bench/run.py"]
)
def test_build_context_leaves_out_local_state_and_what_no_wheel_holds(path):
    assert ignored(path)


def test_build_context_holds_every_distribution_and_the_host_metadata():
    needed = ["setup.cfg", "pyproject.toml", "README.md", "platform/yuyue/__init__.py"]
    for distribution in distributions():
        if normalized(distribution) != ".":
            needed.append(f"{normalized(distribution)}/pyproject.toml")
    assert [path for path in needed if not (ROOT / path).exists() or ignored(path)] == []


def test_no_file_of_a_package_is_left_out_of_the_build_context():
    tracked = subprocess.run(
        ["git", "ls-files", "platform", "schemas", "plugins", "themes"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    packaged = [path for path in tracked if "tests" not in path.split("/")]
    assert len(packaged) > 100
    assert [path for path in packaged if ignored(path)] == []
