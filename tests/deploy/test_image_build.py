"""The image builds: with ``docker build`` where a Docker engine runs; everywhere, the same wheels the Dockerfile
builds, from the same build context, installed the way its runtime stage installs them into an empty virtual
environment, give a working ``yuyue`` with every plugin and theme.

tests/test_layout.py checks what four of the wheels contain; this checks that all of them install and run together.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from deploy_files import ROOT, distributions, normalized
from test_dockerfile import ignored

import yuyue


def docker_engine() -> str | None:
    """Why no image can be built here, or None when a Docker engine answers."""
    docker = shutil.which("docker")
    if docker is None:
        return "no docker client on PATH"
    info = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        return (info.stderr.strip().splitlines() or ["docker info failed"])[-1]
    return None


@pytest.mark.slow
def test_docker_builds_the_image_and_it_runs_yuyue_as_non_root():
    if reason := docker_engine():
        pytest.skip(f"no Docker engine: {reason}; the Dockerfile and compose.yaml are checked as files, and the wheels are built and installed below")
    tag = f"yuyue-test:{uuid.uuid4().hex[:12]}"
    try:
        built = subprocess.run(["docker", "build", "--tag", tag, str(ROOT)], capture_output=True, text=True, timeout=1800)
        assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
        helped = subprocess.run(["docker", "run", "--rm", tag, "--help"], capture_output=True, text=True, timeout=300)
        assert helped.returncode == 0 and "serve" in helped.stdout, helped.stderr
        user = subprocess.run(["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"], capture_output=True, text=True, timeout=300)
        assert user.stdout.strip() not in {"", "0"}
    finally:
        subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True, timeout=300)


def build_context(target: Path) -> Path:
    """A copy of the files .dockerignore lets into the build context (tracked files only, as a clean checkout has)."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.splitlines()
    for path in tracked:
        if not ignored(path) and (ROOT / path).is_file():
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, target / path)
    return target


@pytest.mark.slow
def test_the_wheels_of_every_distribution_install_into_an_empty_environment_and_yuyue_runs(tmp_path):
    context = build_context(tmp_path / "context")
    wheels = tmp_path / "wheels"
    # As the Dockerfile's build stage, without build isolation (this environment's setuptools builds, as in test_layout).
    made = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels), *distributions()],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert made.returncode == 0, made.stdout[-4000:] + made.stderr[-4000:]
    assert len(list(wheels.glob("*.whl"))) == len(distributions())

    # As the runtime stage: an empty virtual environment, the wheels and their dependencies, all as wheels.
    environment = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(environment)], check=True, timeout=300)
    python = environment / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--only-binary=:all:", *map(str, sorted(wheels.glob("*.whl")))],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stdout[-4000:] + installed.stderr[-4000:]

    instance = tmp_path / "instance"
    run_env = {"PATH": f"{environment / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "YUYUE_INSTANCE_PATH": str(instance), "LANG": "C.UTF-8"}
    helped = subprocess.run([str(environment / "bin" / "yuyue"), "--help"], cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0, helped.stderr
    assert "serve" in helped.stdout and "worker" in helped.stdout

    listed = subprocess.run([str(environment / "bin" / "yuyue"), "plugins", "--json"], cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    plugins = json.loads(listed.stdout)
    versions = subprocess.run(
        [str(python), "-c", "import yuyue; print(yuyue.__file__, yuyue.__version__)"], cwd=tmp_path, env=run_env, capture_output=True, text=True, check=True
    )
    module_file, version = versions.stdout.split()
    assert Path(module_file).is_relative_to(environment) and version == yuyue.__version__
    expected = {f"theme-{path.split('/')[1]}" if path.startswith("themes/") else path.split("/")[1] for path in map(normalized, distributions()) if "/" in path}
    assert {plugin["name"] for plugin in plugins} == expected
