"""Every ``YUYUE_*`` setting the code reads is in the README's Configuration table, and every row there is read.

Settings of the installation (``platform/``, ``plugins/``, ``themes/``, ``schemas/``) belong in the first table;
those only the test suite reads (``tests/``, ``bench/``, ``.ci/``) may be in the second, "read by the test suite
only". A setting in both places is an installation setting.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETTING = re.compile(r"\bYUYUE_[A-Z0-9_]*[A-Z0-9]\b")
INSTALLATION = ("platform", "plugins", "themes", "schemas")
TEST_SUITE = ("tests", "bench", ".ci")
# Built or cached copies of the sources, not sources.
SKIPPED_PARTS = {"__pycache__", "build", "dist", ".venv", "node_modules"}


def settings_read_under(folders: tuple[str, ...]) -> dict[str, Path]:
    """Each ``YUYUE_*`` name in the text files under ``folders``, with one file that names it."""
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT)
            if not path.is_file() or SKIPPED_PARTS & set(relative.parts) or any(part.endswith(".egg-info") for part in relative.parts):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue  # compiled catalogs, images, fonts
            for name in SETTING.findall(text):
                found.setdefault(name, relative)
    return found


def readme_tables() -> tuple[set[str], set[str]]:
    """The settings of the Configuration section's first table, and of the tables after it (the test suite's)."""
    section = re.search(r"^## Configuration\n(.*?)^## ", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE)
    assert section, "README.md has no '## Configuration' section"
    tables = re.split(r"\n\n(?=[^|])", section.group(1))
    rows = [[line for line in table.splitlines() if line.startswith("| `")] for table in tables]
    tables_with_rows = [table_rows for table_rows in rows if table_rows]
    first, *rest = [{name for line in table_rows for name in SETTING.findall(line.split(" | ")[0])} for table_rows in tables_with_rows]
    return first, set().union(*rest)


def test_the_readme_has_a_configuration_table_and_a_tests_table():
    installation, test_suite = readme_tables()
    assert "YUYUE_DATABASE_URL" in installation
    assert "YUYUE_TEST_DATABASE_URL" in test_suite


def test_every_setting_the_installation_reads_is_in_the_configuration_table():
    installation, _ = readme_tables()
    missing = {name: str(path) for name, path in settings_read_under(INSTALLATION).items() if name not in installation}
    # The test fixtures shipped to plugin authors (yuyue.testing) read the test database's URL: a test setting.
    missing.pop("YUYUE_TEST_DATABASE_URL", None)
    assert not missing, f"README.md's Configuration table lacks {sorted(missing)} (read in {missing})"


def test_every_setting_only_the_test_suite_reads_is_in_a_readme_table():
    installation, test_suite = readme_tables()
    missing = {name: str(path) for name, path in settings_read_under(TEST_SUITE).items() if name not in installation | test_suite}
    assert not missing, f"README.md's Configuration section lacks {sorted(missing)} (read in {missing})"


@pytest.mark.parametrize("table", ["installation", "test suite"])
def test_every_setting_in_the_readme_is_read_somewhere(table):
    installation, test_suite = readme_tables()
    documented = installation if table == "installation" else test_suite
    read = settings_read_under(INSTALLATION if table == "installation" else INSTALLATION + TEST_SUITE)
    assert documented - set(read) == set(), "documented in README.md but read nowhere"
