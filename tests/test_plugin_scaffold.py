"""``yuyue plugin new`` gives an author a working vertical: a dental clinic in under 100 lines of their own.

The slow test does what an author does: scaffold, edit, ``pip install``, enable
the plugin for a tenant, publish a booking type and book it, all through the
operator, merchant and customer APIs; then run the plugin's own tests.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from yuyue.cli import main
from yuyue.db import db
from yuyue.provisioning.operations import create_token
from yuyue.tenancy.models import StaffRole, TokenKind
from yuyue.testing import vertical_declaration_problems

ROOT = Path(__file__).resolve().parent.parent
EVERY_DAY = {day: [{"start": "09:00", "end": "17:00"}] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}

# What the author of the dental-clinic vertical writes, file by file: (text the scaffold wrote, what it becomes).
DENTAL_EDITS: dict[str, list[tuple[str, str]]] = {
    "yuyue_dental/vertical/vertical.json": [
        (
            """  "name": {
    "zh-Hans": "Dental",
    "zh-Hant": "Dental",
    "en": "Dental"
  },
  "description": {
    "zh-Hans": "Dental预约",
    "zh-Hant": "Dental預約",
    "en": "Book Dental"
  },""",
            """  "name": {
    "zh-Hans": "牙科诊所",
    "zh-Hant": "牙科診所",
    "en": "Dental clinic"
  },
  "description": {
    "zh-Hans": "洁牙、补牙与检查预约；3 岁以下儿童请到儿科就诊。",
    "zh-Hant": "洗牙、補牙與檢查預約；3 歲以下兒童請到兒科就診。",
    "en": "Check-ups, cleaning and fillings; children under 3 are seen at the paediatric clinic."
  },""",
        )
    ],
    "yuyue_dental/vertical/form.schema.json": [
        (
            """    "mobile": {""",
            """    "patient_birth_date": {
      "type": "string",
      "x-field": "date",
      "x-person": "birth_date",
      "format": "date",
      "title": "Patient's date of birth"
    },
    "mobile": {""",
        ),
        ('"required": ["name", "mobile"]', '"required": ["name", "patient_birth_date", "mobile"]'),
    ],
    "yuyue_dental/vertical/form.ui.json": [
        ('"order": ["name", "mobile", "remarks"]', '"order": ["name", "patient_birth_date", "mobile", "remarks"]'),
        (
            """    "mobile": {""",
            """    "patient_birth_date": {
      "label": {"zh-Hans": "患者出生日期", "zh-Hant": "患者出生日期", "en": "Patient's date of birth"}
    },
    "mobile": {""",
        ),
    ],
    "yuyue_dental/vertical/settings.schema.json": [
        (
            """    "booking_fee": {""",
            """    "min_patient_age_years": {
      "type": "integer",
      "title": "Youngest patient, in whole years",
      "x-label": {"zh-Hans": "患者最小年龄（周岁）", "zh-Hant": "患者最小年齡（週歲）", "en": "Youngest patient (years)"},
      "default": 3,
      "minimum": 0,
      "maximum": 18
    },
    "booking_fee": {""",
        )
    ],
    "yuyue_dental/hooks.py": [
        ("from datetime import timedelta", "from datetime import date, timedelta"),
        (
            '''    """Refuse a booking that starts sooner than the tenant's ``min_notice_hours``."""''',
            '''    """Refuse a booking sooner than the tenant's ``min_notice_hours``, or for a patient younger than ``min_patient_age_years``."""''',
        ),
        (
            "    return problems\n",
            """    born, on = date.fromisoformat(request.answers["patient_birth_date"]), request.local_date
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if age < settings["min_patient_age_years"]:
        youngest = settings["min_patient_age_years"]
        problems.append(FieldProblem("/answers/patient_birth_date", f"patients must be at least {youngest} years old", "patient_too_young"))
    return problems
""",
        ),
    ],
    "tests/test_dental.py": [
        ("from yuyue.testing import", "from datetime import date, timedelta\n\nfrom yuyue.testing import"),
        ('ANSWERS = {"name": "Li Lei", "mobile": "13800138000"}', 'ANSWERS = {"name": "Li Lei", "patient_birth_date": "1990-05-01", "mobile": "13800138000"}'),
    ],
}
DENTAL_TEST = """

def test_a_patient_under_3_is_refused_naming_the_birth_date(yuyue_customer):
    two_years_old = date.today() - timedelta(days=2 * 365)

    response = yuyue_customer.book({**ANSWERS, "patient_birth_date": two_years_old.isoformat()})

    assert response.status_code == 422, response.get_json()
    assert [problem["pointer"] for problem in response.get_json()["errors"]] == ["/answers/patient_birth_date"]
"""
AUTHOR_LINE_BUDGET = 100


def scaffold(name: str, directory: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """``yuyue plugin new NAME --directory DIRECTORY``, as an author runs it."""
    monkeypatch.setenv("YUYUE_INSTANCE_PATH", str(directory.parent / "instance"))
    assert main(["plugin", "new", name, "--directory", str(directory)]) == 0, capsys.readouterr().err
    return directory


def author_lines(before: dict[str, str], after: dict[str, str]) -> int:
    """Lines of Python and JSON the author added or changed, as ``diff`` counts them."""
    return sum(
        1
        for path in after
        if path.endswith((".py", ".json"))
        for line in difflib.unified_diff(before[path].splitlines(), after[path].splitlines(), lineterm="", n=0)
        if line.startswith("+") and not line.startswith("+++")
    )


def texts(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8") for path in folder.rglob("*") if path.is_file()}


# --- the scaffold's declaration and the shared check ----------------------------------


def test_the_scaffolded_vertical_passes_the_declaration_check(tmp_path, monkeypatch, capsys):
    folder = scaffold("scaffold_check", tmp_path / "plugin", monkeypatch, capsys)
    monkeypatch.syspath_prepend(str(folder))

    assert vertical_declaration_problems("yuyue_scaffold_check") == []


def test_the_declaration_check_names_the_file_and_the_field_of_each_problem(tmp_path, monkeypatch, capsys):
    folder = scaffold("scaffold_drift", tmp_path / "plugin", monkeypatch, capsys)
    ui_file = folder / "yuyue_scaffold_drift" / "vertical" / "form.ui.json"
    ui = json.loads(ui_file.read_text())
    del ui["fields"]["name"]["label"]["zh-Hant"]
    ui["order"].append("shoe_size")
    ui_file.write_text(json.dumps(ui))
    monkeypatch.syspath_prepend(str(folder))

    problems = vertical_declaration_problems("yuyue_scaffold_drift")

    assert problems == [
        "yuyue_scaffold_drift/vertical/form.ui.json: /order lists ['mobile', 'name', 'remarks', 'shoe_size'], the form's fields are ['mobile', 'name', 'remarks']",
        "yuyue_scaffold_drift/vertical/form.ui.json: /fields/name/label has ['en', 'zh-Hans'], needs exactly ['en', 'zh-Hans', 'zh-Hant']",
        "yuyue_scaffold_drift/vertical/form.ui.json: /fields/shoe_size/label has [], needs exactly ['en', 'zh-Hans', 'zh-Hant']",
    ]


# --- the dental clinic, from scaffold to booking ----------------------------------------


@dataclass(frozen=True)
class AuthoredPlugin:
    folder: Path
    author_lines: int


@pytest.fixture
def dental_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[AuthoredPlugin]:
    """The scaffold with the author's dental edits, pip-installed into this environment; uninstalled afterwards."""
    repository_before = _repository_status()
    folder = scaffold("dental", tmp_path / "yuyue-dental", monkeypatch, capsys)
    generated = texts(folder)
    for path, edits in DENTAL_EDITS.items():
        text = (folder / path).read_text(encoding="utf-8")
        for old, new in edits:
            assert text.count(old) == 1, f"{path}: the scaffold no longer writes {old!r}"
            text = text.replace(old, new)
        (folder / path).write_text(text + (DENTAL_TEST if path == "tests/test_dental.py" else ""), encoding="utf-8")
    written = author_lines(generated, texts(folder))
    _pip("install", "--no-deps", "--no-build-isolation", str(folder))
    importlib.invalidate_caches()
    try:
        yield AuthoredPlugin(folder, written)
    finally:
        _pip("uninstall", "--yes", "yuyue-dental")
        for module in [name for name in sys.modules if name == "yuyue_dental" or name.startswith("yuyue_dental.")]:
            del sys.modules[module]
        importlib.invalidate_caches()
    assert _repository_status() == repository_before, "installing the plugin changed files outside its own folder"


def _pip(*args: str) -> None:
    completed = subprocess.run([sys.executable, "-m", "pip", "--quiet", *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def _repository_status() -> str | None:
    """``git status`` of the repository this test lives in; None outside a git checkout."""
    if shutil.which("git") is None:
        return None
    completed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True, timeout=60)
    return completed.stdout if completed.returncode == 0 else None


def _bearer(app: Flask, secret: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


@pytest.mark.slow
def test_a_dental_clinic_vertical_from_the_scaffold_books_adults_and_refuses_toddlers(dental_plugin, make_app, problem):
    assert dental_plugin.author_lines <= AUTHOR_LINE_BUDGET
    app = make_app()
    with app.app_context():
        _, operator_secret = create_token(db.session, kind=TokenKind.operator, name="dental test")
        operator = _bearer(app, operator_secret)
        assert operator.post("/api/v1/operator/tenants", json={"slug": "smile", "name": "Smile Dental"}).status_code == 201
        enabled = operator.put("/api/v1/operator/tenants/smile/plugins", json={"plugins": {"dental": {}}})
        assert enabled.status_code == 200, enabled.get_json()
        _, staff_secret = create_token(db.session, kind=TokenKind.staff, name="front desk", tenant_slug="smile", role=StaffRole.manager)
    merchant, customer = _bearer(app, staff_secret), app.test_client()

    created = merchant.post(
        "/api/v1/t/smile/admin/booking-types",
        json={
            "vertical": "dental",
            "slug": "check-up",
            "name": {"zh-Hans": "口腔检查", "en": "Check-up"},
            "availability_rules": [{"type": "weekly_hours", "params": {"weekdays": EVERY_DAY, "slot_minutes": 30, "capacity": 2}}],
        },
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["status"] == "active"
    assert "patient_birth_date" in created.get_json()["form"]["definition"]["required"]
    first, last = date.today() + timedelta(days=1), date.today() + timedelta(days=7)
    slots = customer.get(f"/api/v1/t/smile/booking-types/check-up/availability?from={first}&to={last}").get_json()["slots"]
    starts_at = next(slot["starts_at"] for slot in slots if slot["bookable"])

    def book(birth_date: date):
        answers = {"name": "Li Lei", "patient_birth_date": birth_date.isoformat(), "mobile": "13800138000"}
        return customer.post("/api/v1/t/smile/bookings", json={"booking_type": "check-up", "starts_at": starts_at, "answers": answers, "phone": "13800138000"})

    adult = book(date(1990, 5, 1))
    toddler = book(date.today() - timedelta(days=2 * 365))

    assert adult.status_code == 201, adult.get_json()
    body = problem(toddler, 422, "validation_failed")
    assert [(error["pointer"], error["code"]) for error in body["errors"]] == [("/answers/patient_birth_date", "patient_too_young")]

    # On SQLite of their own: the plugin's tests empty every table after each test, and this test's rows are in its database.
    own_tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=dental_plugin.folder,
        env={key: value for key, value in os.environ.items() if key != "YUYUE_TEST_DATABASE_URL"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert own_tests.returncode == 0, own_tests.stdout + own_tests.stderr
    assert "5 passed" in own_tests.stdout
