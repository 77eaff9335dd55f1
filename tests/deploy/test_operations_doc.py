"""docs/operations.md is reachable from the README, its links lead somewhere, and what it says of the deployment
files matches them."""

from __future__ import annotations

import re

from deploy_files import ROOT, compose

OPERATIONS = ROOT / "docs" / "operations.md"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#([^)\s]*))?\)")


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#{1,6} (.+)$", markdown, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_readme_links_the_operations_guide():
    assert "](docs/operations.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_link_of_the_operations_guide_leads_to_a_file_and_heading_that_exist():
    text = OPERATIONS.read_text(encoding="utf-8")
    broken = []
    for target, anchor in LINK.findall(text):
        if target.startswith(("http://", "https://")):
            continue
        path = (OPERATIONS.parent / target).resolve()
        if not path.exists() or (anchor and anchor not in anchors(path.read_text(encoding="utf-8"))):
            broken.append(f"{target}#{anchor}" if anchor else target)
    for anchor in re.findall(r"\]\(#([^)\s]+)\)", text):
        if anchor not in anchors(text):
            broken.append(f"#{anchor}")
    assert broken == []


def test_operations_guide_names_the_files_and_settings_of_the_deployment():
    text = OPERATIONS.read_text(encoding="utf-8")
    services = compose({"POSTGRES_PASSWORD": "p", "YUYUE_SECRET_KEY": "k", "YUYUE_SECRETS_KEY": "f"})["services"]
    for named in (
        "deploy/compose.yaml",
        "deploy/env.example",
        "Dockerfile",
        services["app"]["environment"]["YUYUE_BACKUP_DIR"],
        "/api/v1/ready",
        "/api/v1/health",
    ):
        assert named in text, named


def test_operations_guide_quotes_the_measurements_it_plans_with_and_their_dates():
    performance = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    text = OPERATIONS.read_text(encoding="utf-8")
    for quoted in ("Median: 189 bookings/s, p99 154 ms", "2026-12-06", "at 22 ms (SQLite) and 28 ms (PostgreSQL", "2026-12-07"):
        assert quoted in performance, f"docs/performance.md no longer says {quoted!r}: update docs/operations.md's capacity table"
    for quoted in ("189 bookings/s", "2026-12-06", "22 ms", "28 ms", "2026-12-07"):
        assert quoted in text
