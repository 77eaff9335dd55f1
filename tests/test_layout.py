"""The repository layout works from its root: ``platform/`` never shadows the stdlib module, the
tools a developer or operator runs there start, and each distribution's wheel carries its data.

Everything runs in subprocesses from the repository root, because that is where the shadowing
would happen: ``python -m …`` and ``python -c …`` put the current directory first on ``sys.path``.
"""

from __future__ import annotations

import configparser
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import textwrap
import time
import urllib.request
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def yuyue_env(tmp_path: Path) -> dict[str, str]:
    """Settings that keep the subprocess's database and secret out of the working tree."""
    return {"YUYUE_DATABASE_URL": f"sqlite:///{tmp_path / 'yuyue.db'}", "YUYUE_INSTANCE_PATH": str(tmp_path / "instance"), "YUYUE_SECRET_KEY": "layout-test"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_platform_folder_has_no_init_so_it_is_not_a_package():
    assert (ROOT / "platform" / "yuyue" / "__init__.py").is_file()
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_import_platform_from_the_repository_root_is_the_stdlib_module():
    completed = run("-c", "import platform, yuyue; print(platform.__file__); print(platform.python_version())")
    assert completed.returncode == 0, completed.stderr
    module_file, python_version = completed.stdout.splitlines()
    assert Path(module_file) == Path(sysconfig.get_path("stdlib")) / "platform.py"
    assert python_version == ".".join(map(str, sys.version_info[:3]))


def test_flask_routes_from_the_repository_root_lists_the_api(yuyue_env):
    completed = run("-m", "flask", "--app", "yuyue.app", "routes", env=yuyue_env)
    assert completed.returncode == 0, completed.stderr
    assert "/api/v1/health" in completed.stdout


def test_gunicorn_from_the_repository_root_serves_the_health_check(yuyue_env, tmp_path):
    init = run("-m", "yuyue", "init", env=yuyue_env)
    assert init.returncode == 0, init.stderr
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "yuyue.app:create_app()", "-b", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env={**os.environ, **yuyue_env},
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        # Generous: a worker imports the whole app before it answers, and CI machines are busy.
        status, deadline = None, time.monotonic() + 30
        while status is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=10) as response:
                    status = response.status
            except OSError:  # refused while binding, or timed out while the worker boots
                time.sleep(0.2)
        assert status == 200, log.read_text()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_pytest_from_the_repository_root_imports_the_stdlib_platform(tmp_path):
    test_file = tmp_path / "test_tiny.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import platform
            import uuid

            import yuyue


            def test_stdlib_platform_and_yuyue_import_side_by_side():
                assert platform.python_version()
                assert uuid.uuid4().version == 4
                assert yuyue.__version__
            """
        )
    )
    completed = run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "1 passed" in completed.stdout


# --- wheels ---

# The distributions whose wheels are checked, and what to copy for a clean build of each.
WHEEL_SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "platform", "schemas", "plugins/exhibition", "themes/default")


def _wheel_files(dist: Path, prefix: str) -> set[str]:
    [wheel] = dist.glob(f"{prefix}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def _source_files(package_dir: Path, *patterns: str) -> set[str]:
    """Package-relative paths as they appear in a wheel, e.g. ``yuyue/migrations/env.py``."""
    found = {path for pattern in patterns for path in package_dir.glob(pattern) if path.is_file() and "__pycache__" not in path.parts}
    assert found, f"nothing matches {patterns} under {package_dir}"
    return {path.relative_to(package_dir.parent).as_posix() for path in found}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels of the host, the schemas, one plugin and one theme, built from a copy of the tree.

    A copy, so the working tree gets no ``build/`` folders and stale ``*.egg-info`` cannot mask missing data.
    """
    # Without build isolation the environment's setuptools builds; PEP 639 licence strings need 77.
    try:
        setuptools_version = version("setuptools")
    except PackageNotFoundError:  # Python 3.12+ venvs come without it
        setuptools_version = "0"
    if Version(setuptools_version) < Version("77"):
        pytest.skip(f"setuptools {setuptools_version} cannot build these wheels: requirements-dev.txt needs setuptools>=77")
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("*.egg-info", "__pycache__", "build", "dist", "*.db")
    for name in WHEEL_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        elif (ROOT / name).exists():
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            "./",
            "./schemas",
            "./plugins/exhibition",
            "./themes/default",
        ],
        cwd=source,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return dist


@pytest.mark.slow
def test_host_wheel_carries_every_migration(wheels):
    files = _wheel_files(wheels, "yuyue")
    migrations = _source_files(ROOT / "platform" / "yuyue", "migrations/env.py", "migrations/script.py.mako", "migrations/versions/*.py")
    assert {"yuyue/migrations/env.py", "yuyue/migrations/script.py.mako"} <= migrations
    assert migrations - files == set()
    assert not any(name.startswith("platform/") for name in files)


@pytest.mark.slow
def test_schemas_wheel_carries_every_schema(wheels):
    schemas = _source_files(ROOT / "schemas" / "yuyue_schemas", "v1/**/*.json")
    assert schemas - _wheel_files(wheels, "yuyue_schemas") == set()


@pytest.mark.slow
def test_plugin_wheel_carries_its_vertical_and_entry_point(wheels):
    files = _wheel_files(wheels, "yuyue_exhibition")
    assert _source_files(ROOT / "plugins" / "exhibition" / "yuyue_exhibition", "vertical/*.json") - files == set()
    [wheel] = wheels.glob("yuyue_exhibition-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        [entry_points] = [name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt")]
        text = archive.read(entry_points).decode()
    assert "exhibition = yuyue_exhibition" in text.splitlines()
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert dict(parser["yuyue.plugins"]) == {"exhibition": "yuyue_exhibition"}


@pytest.mark.slow
def test_theme_wheel_carries_its_templates_and_static_files(wheels):
    theme = _source_files(ROOT / "themes" / "default" / "yuyue_theme_default", "theme.json", "templates/**/*", "static/**/*")
    assert theme - _wheel_files(wheels, "yuyue_theme_default") == set()
