"""The import contracts of setup.cfg hold, and they are not vacuous: a forbidden import breaks them.

``lint-imports`` runs in a subprocess from the repository root, as ``.ci/run`` runs it. To show
a contract bites, the host package is copied to a temporary folder, one import is added, and the
copy is linted with the same configuration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path, python_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(python_path)} if python_path else None
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def test_the_host_keeps_its_import_contracts():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "added", "broken"),
    [
        pytest.param(
            "catalog/operations.py",
            "from yuyue.bookings import waitlist",
            "yuyue.catalog is not allowed to import yuyue.bookings",
            id="lower-area-imports-higher",
        ),
        pytest.param("events/operations.py", "from yuyue import worker", "yuyue.events is not allowed to import yuyue.worker", id="outbox-imports-worker"),
        pytest.param(
            "plugins.py", "from yuyue.scheduling import rules", "yuyue.plugins is not allowed to import yuyue.scheduling", id="plugins-import-an-area"
        ),
        pytest.param("api/core.py", "from yuyue import plugin_api", "yuyue.api is not allowed to import yuyue.plugin_api", id="host-imports-plugin-api"),
        pytest.param(
            "scheduling/rules.py", "from yuyue.scheduling import builtin_rules", "No cycles are allowed in yuyue.scheduling", id="loop-inside-an-area"
        ),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, added: str, broken: str):
    shutil.copytree(ROOT / "platform" / "yuyue", tmp_path / "platform" / "yuyue", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    changed = tmp_path / "platform" / "yuyue" / module
    changed.write_text(changed.read_text(encoding="utf-8") + f"\n{added}  # noqa\n", encoding="utf-8")

    result = lint_imports(tmp_path, python_path=tmp_path / "platform")

    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout
