"""The ``yuyue`` command line, through its public surface: ``yuyue.cli.main`` and ``python -m yuyue``.

Each test gets its own SQLite file, so commands start from an empty database exactly
as an operator's first run does. Every failure must be one ``error: …`` line on
stderr and a non-zero exit.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import click
import click.testing
import pytest
from sqlalchemy import create_engine, text

from yuyue import cli as cli_module
from yuyue.app import create_app
from yuyue.cli import build_cli, init_database, main
from yuyue.db import db
from yuyue.sealing import sealer_from_env

VERTICAL_PLUGINS = ("activity", "course", "exhibition", "scenic", "vehicle")
UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:1/nope"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def table(result: Result) -> list[list[str]]:
    """The rows of a ``list`` command's table after its header, split on the runs of spaces between columns."""
    assert result.code == 0, result.err
    return [re.split(r"  +", line) for line in result.lines[1:]]


def assert_one_error_line(result: Result, *fragments: str) -> None:
    assert result.code != 0, result
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith("error: "), result.err
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in result.err


@pytest.fixture
def database_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty SQLite file of this test's own, configured the way an operator would: by environment."""
    path = tmp_path / "yuyue.db"
    monkeypatch.setenv("YUYUE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("YUYUE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("YUYUE_PLUGINS", raising=False)
    monkeypatch.delenv("YUYUE_SECRET_KEY", raising=False)
    # FlaskGroup sets this for the process; recorded here so it is removed again after the test.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    return path


@pytest.fixture
def yuyue(database_file: Path, capsys: pytest.CaptureFixture[str]):
    """Run ``yuyue ARGS…`` in this process: ``yuyue("tenants", "list")`` returns a :class:`Result`."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def initialised_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database that ``yuyue init`` has run on, made once; the init tests above check the command itself."""
    path = tmp_path_factory.mktemp("template") / "yuyue.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "INSTANCE_PATH": str(path.parent), "SECRET_KEY": "test"})
    with app.app_context():
        init_database()
        db.session.remove()
        db.engine.dispose()
    return path


@pytest.fixture
def initialised(database_file: Path, initialised_template: Path) -> None:
    shutil.copyfile(initialised_template, database_file)


@pytest.fixture
def tenant_acme(yuyue, initialised) -> str:
    assert yuyue("tenants", "create", "acme", "--name", "Acme").code == 0
    return "acme"


def run_process(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m yuyue ARGS…`` as a real process (stdin closed, like cron or CI)."""
    return subprocess.run(
        [sys.executable, "-m", "yuyue", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def process_env(database_file: Path) -> dict[str, str]:
    # database_file has already put these in os.environ; spelt out so the child's settings are visible here.
    return {"YUYUE_DATABASE_URL": f"sqlite:///{database_file}", "YUYUE_INSTANCE_PATH": str(database_file.parent / "instance")}


def table_rows(database_file: Path, table: str) -> list[dict]:
    engine = create_engine(f"sqlite:///{database_file}")
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(text(f"SELECT * FROM {table}"))]
    finally:
        engine.dispose()


def plugin_settings(database_file: Path, plugin: str) -> dict:
    """``plugin``'s settings for the one tenant that enabled it, opened with the instance's key (they are sealed at rest)."""
    [row] = [row for row in table_rows(database_file, "tenant_plugins") if row["plugin"] == plugin]
    return json.loads(sealer_from_env().open(row["config"]))


# --- init ---


def test_init_creates_the_schema_in_an_empty_database(yuyue, database_file):
    result = yuyue("init")
    assert result.code == 0, result.err
    assert result.lines[0] == f"database ready: sqlite:///{database_file}"
    assert result.err == ""
    assert table_rows(database_file, "alembic_version")
    assert {row["name"] for row in table_rows(database_file, "ab_role")} >= {"Admin", "Public", "Operator"}


def test_init_on_a_fresh_database_says_how_to_create_an_admin(yuyue):
    assert "yuyue admin create USERNAME --email EMAIL" in yuyue("init").out


def test_init_twice_is_idempotent(yuyue, database_file):
    first = yuyue("init")
    roles = table_rows(database_file, "ab_role")
    permissions = table_rows(database_file, "ab_permission_view")
    second = yuyue("init")
    assert (first.code, second.code) == (0, 0)
    assert second.out == first.out
    assert table_rows(database_file, "ab_role") == roles
    assert table_rows(database_file, "ab_permission_view") == permissions


def test_init_as_a_real_process(database_file, tmp_path):
    completed = run_process("init", cwd=tmp_path, env=process_env(database_file))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("database ready: ")
    assert completed.stderr == ""


def test_version_is_the_yuyue_version(yuyue):
    import yuyue as package

    result = yuyue("--version")
    assert (result.code, result.out) == (0, f"yuyue {package.__version__}\n")


# --- tenants ---


def test_tenants_create_then_list_shows_slug_status_time_zone_plugins_and_name(yuyue, initialised):
    created = yuyue("tenants", "create", "museum", "--name", "City Museum", "--time-zone", "Europe/Berlin", "--plugin", "exhibition", "--config", "course={}")
    assert created.code == 0, created.err
    assert created.out == "created tenant museum (Europe/Berlin) with plugins: course, exhibition\n"
    listed = yuyue("tenants", "list")
    assert listed.code == 0
    assert listed.lines == [
        "SLUG    STATUS  TIME ZONE      PLUGINS            NAME",
        "museum  active  Europe/Berlin  course,exhibition  City Museum",
    ]


def test_tenants_list_on_an_empty_database_prints_the_header_only(yuyue, initialised):
    assert yuyue("tenants", "list") == Result(0, "SLUG  STATUS  TIME ZONE  PLUGINS  NAME\n", "")


def test_tenants_list_aligns_columns_after_wide_characters_and_shows_a_line_break_escaped(yuyue, initialised):
    yuyue("tenants", "create", "kaiyuan", "--name", "开元寺\n景区", "--plugin", "scenic")
    yuyue("tenants", "create", "b", "--name", "B")

    lines = yuyue("tenants", "list").lines

    assert lines == [
        "SLUG     STATUS  TIME ZONE      PLUGINS  NAME",
        "b        active  Asia/Shanghai  -        B",
        "kaiyuan  active  Asia/Shanghai  scenic   开元寺\\n景区",
    ]


def test_tenants_list_json_is_an_array_of_objects_with_stable_keys(yuyue, initialised):
    yuyue("tenants", "create", "museum", "--name", "City Museum", "--time-zone", "Europe/Berlin", "--locale", "en", "--plugin", "exhibition")

    result = yuyue("tenants", "list", "--json")

    assert result.code == 0, result.err
    [tenant] = json.loads(result.out)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", tenant.pop("created_at"))
    assert tenant == {"slug": "museum", "name": "City Museum", "status": "active", "time_zone": "Europe/Berlin", "locales": ["en"], "plugins": ["exhibition"]}


def test_tenants_list_json_of_no_tenants_is_an_empty_array(yuyue, initialised):
    result = yuyue("tenants", "list", "--json")
    assert (result.code, json.loads(result.out)) == (0, [])


def test_tenants_suspend_marks_the_tenant_suspended(yuyue, tenant_acme):
    result = yuyue("tenants", "suspend", "acme")
    assert (result.code, result.out) == (0, "suspended tenant acme\n")
    assert table(yuyue("tenants", "list"))[0][:2] == ["acme", "suspended"]


def test_tenants_reinstate_makes_a_suspended_tenant_active(yuyue, tenant_acme):
    yuyue("tenants", "suspend", "acme")
    result = yuyue("tenants", "reinstate", "acme")
    assert (result.code, result.out) == (0, "reinstated tenant acme\n")
    assert table(yuyue("tenants", "list"))[0][:2] == ["acme", "active"]


def test_tenants_reinstate_of_an_unknown_tenant_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tenants", "reinstate", "ghost"), "no tenant 'ghost'")


def test_tenants_create_with_a_taken_slug_is_one_error_line(yuyue, tenant_acme):
    assert_one_error_line(yuyue("tenants", "create", "acme", "--name", "Again"), "'acme' already exists")
    assert len(table(yuyue("tenants", "list"))) == 1


def test_tenants_create_with_an_unknown_time_zone_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tenants", "create", "mars", "--name", "Mars", "--time-zone", "Mars/Olympus"), "/time_zone", "Mars/Olympus")
    assert table(yuyue("tenants", "list")) == []


def test_tenants_create_with_config_that_is_not_json_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tenants", "create", "museum", "--name", "M", "--config", "exhibition={oops"), "--config", "not JSON")


def test_tenants_create_with_config_missing_its_name_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tenants", "create", "museum", "--name", "M", "--config", '{"a": 1}'), "NAME=JSON")


def test_tenants_create_with_config_the_plugin_refuses_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tenants", "create", "museum", "--name", "M", "--config", 'exhibition={"no_such_setting": 1}'), "/plugins/exhibition")


def test_tenants_create_with_an_unknown_plugin_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tenants", "create", "museum", "--name", "M", "--plugin", "bowling"), "/plugins/bowling", "not installed")


def test_tenants_create_with_an_invalid_slug_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tenants", "create", "Not A Slug", "--name", "M"), "/slug")


def test_tenants_create_without_a_name_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tenants", "create", "museum"), "--name")


def test_tenants_suspend_of_an_unknown_tenant_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tenants", "suspend", "ghost"), "no tenant 'ghost'")


def test_customers_purge_logins_says_how_many_tokens_it_deleted(yuyue, initialised):
    assert yuyue("customers", "purge-logins") == Result(0, "purged 0 refresh tokens of ended logins\n", "")


def test_serve_starts_gunicorn_with_two_sync_workers_per_core_plus_one(yuyue, initialised, monkeypatch):
    started = []
    monkeypatch.setattr(os, "execv", lambda path, args: started.append(args))  # the process would become gunicorn here

    assert yuyue("serve", "--bind", "127.0.0.1:0").code == 0

    [args] = started
    assert args[args.index("--workers") + 1] == str(2 * os.cpu_count() + 1)
    assert args[args.index("--bind") + 1] == "127.0.0.1:0" and args[-1] == "yuyue.app:create_app()"
    assert args[args.index("--worker-class") + 1] == "yuyue.serving.ProblemSyncWorker"  # refusals answered as problem documents


def test_demo_serves_with_the_same_worker_class_and_a_worker_beside_it(yuyue, monkeypatch):
    started = []
    monkeypatch.setattr(os, "execv", lambda path, args: started.append(args))

    result = yuyue("demo", "--port", "0")
    assert result.code == 0

    [args] = started
    assert args[args.index("--worker-class") + 1] == "yuyue.serving.ProblemSyncWorker"
    assert args[args.index("--workers") + 1] == "2"
    # The outbox is delivered beside the server: a `yuyue worker` child, which outlives the exec into gunicorn.
    pid = int(re.search(r"^worker delivering the outbox beside the server: pid (\d+), log (\S+)$", result.out, re.MULTILINE).group(1))
    try:
        assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[-3:-1] == [b"yuyue", b"worker"]
    finally:
        os.kill(pid, signal.SIGTERM)
        [worker] = [w for w in cli_module._DEMO_WORKERS if w.pid == pid]
        assert worker.wait(timeout=60) in (0, -signal.SIGTERM)  # stopped cleanly, or before it had set its handlers
        cli_module._DEMO_WORKERS.remove(worker)


def test_serve_says_nothing_about_limits_on_sqlite(yuyue, initialised, monkeypatch):
    monkeypatch.setattr(os, "execv", lambda path, args: None)

    assert yuyue("serve", "--bind", "127.0.0.1:0").err == ""


def test_serve_on_postgresql_without_redis_notes_that_limits_hold_per_node(yuyue, monkeypatch):
    monkeypatch.setenv("YUYUE_DATABASE_URL", UNREACHABLE_DATABASE)  # serve starts without reaching it
    monkeypatch.setenv("YUYUE_LOG_FORMAT", "text")
    monkeypatch.setattr(os, "execv", lambda path, args: None)

    result = yuyue("serve", "--bind", "127.0.0.1:0")

    assert result.code == 0
    assert result.err == "note: rate limits are counted on this node only; set YUYUE_REDIS_URL when several nodes serve this database\n"
    monkeypatch.setenv("YUYUE_LOG_FORMAT", "json")  # a line of the server's log
    assert json.loads(yuyue("serve", "--bind", "127.0.0.1:0").err)["message"].startswith("note: rate limits are counted on this node only")
    monkeypatch.setenv("YUYUE_REDIS_URL", "redis://127.0.0.1:6379/7")
    assert yuyue("serve", "--bind", "127.0.0.1:0").err == ""


def test_unknown_command_is_one_error_line(yuyue):
    assert_one_error_line(yuyue("tenant", "list"), "No such command")


# --- tokens ---


def operator_api_status(secret: str) -> int:
    """What the operator API answers this token, from an application of its own."""
    app = create_app()
    try:
        return app.test_client().get("/api/v1/operator/tenants", headers={"Authorization": f"Bearer {secret}"}).status_code
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_operator_token_is_printed_once_authenticates_and_only_its_digest_is_stored(yuyue, initialised, database_file):
    result = yuyue("tokens", "create", "--operator", "--name", "ci")
    assert result.code == 0, result.err
    assert len(result.lines) == 1
    secret = result.lines[0]

    assert (operator_api_status(secret), operator_api_status(secret + "x")) == (200, 401)

    [row] = table_rows(database_file, "api_tokens")
    assert row["digest"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["kind"] == "operator" and row["tenant_id"] is None and row["name"] == "ci"
    assert not any(secret in str(value) for value in row.values())


def test_staff_token_belongs_to_its_tenant_with_its_role(yuyue, tenant_acme, database_file):
    result = yuyue("tokens", "create", "--tenant", "acme", "--role", "manager", "--name", "front desk")
    assert result.code == 0, result.err
    [row] = table_rows(database_file, "api_tokens")
    [tenant] = table_rows(database_file, "tenants")
    assert (row["kind"], row["tenant_id"], row["role"], row["name"]) == ("staff", tenant["id"], "manager", "front desk")
    assert row["digest"] == hashlib.sha256(result.lines[0].encode()).hexdigest()


def test_tokens_list_shows_every_token_without_its_secret(yuyue, tenant_acme):
    operator = yuyue("tokens", "create", "--operator", "--name", "ci").lines[0]
    staff = yuyue("tokens", "create", "--tenant", "acme", "--role", "manager", "--name", "front desk").lines[0]

    result = yuyue("tokens", "list")

    assert result.lines[0].split() == ["ID", "KIND", "TENANT", "ROLE", "CREATED", "REVOKED", "NAME"]
    rows = table(result)
    assert [row[:4] + row[5:] for row in rows] == [["1", "operator", "-", "-", "live", "ci"], ["2", "staff", "acme", "manager", "live", "front desk"]]
    assert operator not in result.out and staff not in result.out


def test_tokens_list_json_shows_every_token_without_its_secret_or_digest(yuyue, tenant_acme, database_file):
    operator = yuyue("tokens", "create", "--operator", "--name", "ci").lines[0]
    staff = yuyue("tokens", "create", "--tenant", "acme", "--role", "manager", "--name", "front desk").lines[0]
    yuyue("tokens", "revoke", "1")

    result = yuyue("tokens", "list", "--json")

    assert result.code == 0, result.err
    tokens = json.loads(result.out)
    assert [sorted(token) for token in tokens] == [["created_at", "id", "kind", "name", "revoked_at", "role", "tenant"]] * 2
    assert [(t["id"], t["kind"], t["tenant"], t["role"], t["name"]) for t in tokens] == [
        (1, "operator", None, None, "ci"),
        (2, "staff", "acme", "manager", "front desk"),
    ]
    assert tokens[0]["revoked_at"] >= tokens[0]["created_at"] and tokens[1]["revoked_at"] is None
    for secret_or_digest in (operator, staff, *(row["digest"] for row in table_rows(database_file, "api_tokens"))):
        assert secret_or_digest not in result.out


def test_tokens_list_of_no_tokens_is_the_header_or_an_empty_array(yuyue, initialised):
    assert yuyue("tokens", "list").lines == ["ID  KIND  TENANT  ROLE  CREATED  REVOKED  NAME"]
    assert json.loads(yuyue("tokens", "list", "--json").out) == []


def test_a_revoked_token_stops_working_at_once(yuyue, initialised):
    secret = yuyue("tokens", "create", "--operator", "--name", "ci").lines[0]
    assert operator_api_status(secret) == 200

    assert yuyue("tokens", "revoke", "1") == Result(0, "revoked token 1\n", "")

    assert operator_api_status(secret) == 401
    assert table(yuyue("tokens", "list"))[0][5] != "live"
    assert yuyue("tokens", "revoke", "1").code == 0  # again: nothing changes


def test_tokens_revoke_of_an_unknown_token_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tokens", "revoke", "7"), "no API token 7")


def test_tokens_revoke_of_an_id_no_database_can_hold_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tokens", "revoke", "99999999999999999999999"), "TOKEN_ID")


def test_staff_token_is_refused_by_the_operator_api(yuyue, tenant_acme):
    secret = yuyue("tokens", "create", "--tenant", "acme", "--name", "desk").lines[0]
    assert operator_api_status(secret) == 403


def test_token_without_operator_or_tenant_is_one_error_line(yuyue, initialised, database_file):
    assert_one_error_line(yuyue("tokens", "create", "--name", "desk"), "--operator", "--tenant")
    assert table_rows(database_file, "api_tokens") == []


def test_token_with_both_operator_and_tenant_is_one_error_line(yuyue, tenant_acme, database_file):
    assert_one_error_line(yuyue("tokens", "create", "--operator", "--tenant", "acme", "--name", "x"), "exactly one")
    assert table_rows(database_file, "api_tokens") == []


def test_operator_token_with_a_role_is_one_error_line(yuyue, initialised, database_file):
    assert_one_error_line(yuyue("tokens", "create", "--operator", "--role", "owner", "--name", "x"), "--role")
    assert table_rows(database_file, "api_tokens") == []


def test_staff_token_role_defaults_to_staff(yuyue, tenant_acme, database_file):
    assert yuyue("tokens", "create", "--tenant", "acme", "--name", "desk").code == 0
    assert [row["role"] for row in table_rows(database_file, "api_tokens")] == ["staff"]


def test_staff_token_for_an_unknown_tenant_is_one_error_line(yuyue, initialised, database_file):
    assert_one_error_line(yuyue("tokens", "create", "--tenant", "ghost", "--name", "x"), "no tenant 'ghost'")
    assert table_rows(database_file, "api_tokens") == []


# --- plugins ---


def test_plugins_lists_the_five_verticals_with_version_and_hooks(yuyue):
    result = yuyue("plugins")
    assert result.code == 0, result.err
    lines = {line.split(" ", 1)[0]: line for line in result.lines}
    for name in VERTICAL_PLUGINS:
        assert re.fullmatch(rf"{name} \d+\.\d+\S*\thooks: .*register_verticals.*\tverticals: {name}", lines[name]), lines.get(name)


def test_plugins_json_is_machine_readable(yuyue):
    result = yuyue("plugins", "--json")
    assert result.code == 0, result.err
    plugins = {p["name"]: p for p in json.loads(result.out)}
    for name in VERTICAL_PLUGINS:
        assert plugins[name]["version"]
        assert "register_verticals" in plugins[name]["hooks"]
        assert plugins[name]["verticals"] == [name]


def test_plugins_respects_the_allow_list(yuyue, monkeypatch):
    monkeypatch.setenv("YUYUE_PLUGINS", "course")
    assert [line.split(" ")[0] for line in yuyue("plugins").lines] == ["course"]


def test_allow_list_naming_an_uninstalled_plugin_is_one_error_line(yuyue, monkeypatch):
    monkeypatch.setenv("YUYUE_PLUGINS", "course,bowling")
    assert_one_error_line(yuyue("plugins"), "YUYUE_PLUGINS", "bowling")


def test_plugin_new_writes_an_installable_plugin_into_yuyue_name(yuyue, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = yuyue("plugin", "new", "car_wash")

    assert result.code == 0, result.err
    written = {path.relative_to(tmp_path / "yuyue-car_wash").as_posix() for path in (tmp_path / "yuyue-car_wash").rglob("*") if path.is_file()}
    assert written == {
        "README.md",
        "pyproject.toml",
        "tests/conftest.py",
        "tests/test_car_wash.py",
        "yuyue_car_wash/__init__.py",
        "yuyue_car_wash/hooks.py",
        "yuyue_car_wash/messages.py",
        "yuyue_car_wash/vertical/vertical.json",
        "yuyue_car_wash/vertical/form.schema.json",
        "yuyue_car_wash/vertical/form.ui.json",
        "yuyue_car_wash/vertical/settings.schema.json",
        *(f"yuyue_car_wash/translations/{locale}/LC_MESSAGES/messages.po" for locale in ("zh_Hans", "zh_Hant", "en")),
    }
    assert 'car_wash = "yuyue_car_wash"' in (tmp_path / "yuyue-car_wash" / "pyproject.toml").read_text()
    assert "{{" not in "".join(path.read_text() for path in (tmp_path / "yuyue-car_wash").rglob("*") if path.is_file())


def test_plugin_new_writes_into_the_directory_given(yuyue, tmp_path):
    assert yuyue("plugin", "new", "dental", "--directory", str(tmp_path / "here")).code == 0
    assert (tmp_path / "here" / "yuyue_dental" / "hooks.py").is_file()


@pytest.mark.parametrize("name", ["Dental", "dental-clinic", "3d", "x", "dental.clinic", "a" * 41])
def test_plugin_new_with_a_name_that_is_no_slug_is_one_error_line(yuyue, tmp_path, name):
    assert_one_error_line(yuyue("plugin", "new", name, "--directory", str(tmp_path / "out")), "invalid plugin name")
    assert not (tmp_path / "out").exists()


def test_plugin_new_with_the_name_of_an_installed_plugin_is_one_error_line(yuyue, tmp_path):
    assert_one_error_line(yuyue("plugin", "new", "course", "--directory", str(tmp_path / "out")), "'course' is installed already")


def test_plugin_new_into_a_directory_with_files_is_one_error_line_and_changes_nothing(yuyue, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")

    assert_one_error_line(yuyue("plugin", "new", "dental", "--directory", str(tmp_path / "out")), "not an empty directory")
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["notes.txt"]


def _commands(group: click.Group, context: click.Context, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            yield from _commands(command, context, f"{prefix}{name} ")
        else:
            yield prefix + name, command


def test_every_yuyue_command_is_in_the_readme_command_table(database_file):
    cli = build_cli()
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    own = [path for path, command in _commands(cli, click.Context(cli)) if command.callback.__module__.startswith("yuyue.")]

    assert "plugin new" in own
    assert [path for path in own if f"`yuyue {path}" not in readme] == []


# --- demo ---


def test_demo_seeds_the_demo_tenant_with_every_vertical_and_an_admin(yuyue, database_file):
    result = yuyue("demo", "--no-serve")
    assert result.code == 0, result.err
    assert "admin / admin" in result.out
    assert re.search(r"^operator API token: yy_\S+$", result.out, re.MULTILINE)
    [demo] = table(yuyue("tenants", "list"))
    slug, status, _, plugins, _ = demo
    assert (slug, status) == ("demo", "active")
    assert set(plugins.split(",")) == set(VERTICAL_PLUGINS)
    assert sorted(row["username"] for row in table_rows(database_file, "ab_user")) == ["admin", "desk", "manager"]
    roles = {row["user_id"]: row["role"] for row in table_rows(database_file, "staff_memberships")}
    users = {row["username"]: row["id"] for row in table_rows(database_file, "ab_user")}
    assert {name: roles[user_id] for name, user_id in users.items()} == {"admin": "owner", "manager": "manager", "desk": "staff"}


def test_demo_tenant_has_a_bookable_booking_type_for_every_vertical(yuyue, database_file):
    assert yuyue("demo", "--no-serve").code == 0
    assert {row["vertical"] for row in table_rows(database_file, "booking_types")} == set(VERTICAL_PLUGINS)
    assert all(row["form_version"] == 1 for row in table_rows(database_file, "booking_types"))
    kinds = {row["kind"] for row in table_rows(database_file, "resources")}
    assert {"coach", "vehicle", "driver", "hall"} <= kinds


def test_demo_caps_the_days_of_its_scenic_area_and_exhibition(yuyue, database_file):
    assert yuyue("demo", "--no-serve").code == 0
    rules = {row["vertical"]: json.loads(row["availability_rules"]) for row in table_rows(database_file, "booking_types")}
    caps = {vertical: [r["params"] for r in found if r["type"] == "daily_cap"] for vertical, found in rules.items()}
    assert caps["scenic"] == [{"capacity": 3000, "by_channel": {"group": 600}}]
    assert caps["exhibition"] == [{"capacity": 1000}]
    assert caps["course"] == []


def test_demo_exhibition_and_scenic_types_take_groups_on_a_channel_of_their_own(yuyue, database_file):
    assert yuyue("demo", "--no-serve").code == 0
    types = {row["vertical"]: row for row in table_rows(database_file, "booking_types")}
    for vertical in ("exhibition", "scenic"):
        windows = json.loads(types[vertical]["availability_rules"])[0]["params"]
        assert windows["capacity_by_channel"].keys() == {"individual", "group"}, vertical
        assert types[vertical]["max_party_size"] == 200, vertical


def test_demo_shuttle_has_stops_with_times_and_event_sessions_a_minimum(yuyue, database_file):
    assert yuyue("demo", "--no-serve").code == 0
    stops = sorted(table_rows(database_file, "route_stops"), key=lambda row: row["position"])
    assert [(row["code"], row["kind"], row["minutes_after_departure"]) for row in stops] == [
        ("civic_centre", "pickup", 0),
        ("science_park", "both", 15),
        ("airport_t3", "dropoff", 50),
    ]
    assert plugin_settings(database_file, "activity") | {"terms": None} == {"terms": None, "min_participants": 5, "decision_hours_before": 24}


def test_demo_sells_adult_child_senior_and_student_tickets_for_timed_entry(yuyue, database_file):
    assert yuyue("demo", "--no-serve").code == 0
    ticketed = {row["vertical"]: json.loads(row["ticket_types"]) for row in table_rows(database_file, "booking_types") if row["ticket_types"] != "[]"}

    assert set(ticketed) == {"exhibition", "scenic"}
    for ticket_types in ticketed.values():
        adult, child, senior, student = ticket_types
        assert [t["key"] for t in ticket_types] == ["adult", "child", "senior", "student"]
        assert child["price_amount"] == adult["price_amount"] // 2 and (child["min_age"], child["max_age"]) == (6, 17)
        assert senior["min_age"] == 60 and student["proof"]["zh-Hans"] == "学生证"


def test_demo_can_be_run_again(yuyue, database_file):
    assert yuyue("demo", "--no-serve").code == 0
    again = yuyue("demo", "--no-serve")
    assert again.code == 0, again.err
    assert "already exists" in again.out
    assert len(table(yuyue("tenants", "list"))) == 1
    assert len(table_rows(database_file, "ab_user")) == 3, "admin, manager and desk, once each"


def test_each_demo_run_prints_a_working_operator_token_and_revokes_the_one_before(yuyue, database_file):
    first = yuyue("demo", "--no-serve").out.split("operator API token: ")[1].split()[0]
    again = yuyue("demo", "--no-serve").out
    second = again.split("operator API token: ")[1].split()[0]

    assert "the one printed before is revoked" in again
    assert (operator_api_status(first), operator_api_status(second)) == (401, 200)
    assert [row["revoked_at"] is None for row in table_rows(database_file, "api_tokens")] == [False, True]


def test_demo_on_a_port_in_use_is_one_error_line(yuyue):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_error_line(yuyue("demo", "--port", str(port)), f"127.0.0.1:{port}")


# --- the environment ---


def test_unreachable_database_is_one_error_line(yuyue, monkeypatch):
    monkeypatch.setenv("YUYUE_DATABASE_URL", UNREACHABLE_DATABASE)
    for command in (["init"], ["tenants", "list"], ["tokens", "create", "--operator", "--name", "x"], ["demo", "--no-serve"]):
        assert_one_error_line(yuyue(*command), "cannot reach the database")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [("mysql://root@127.0.0.1/test", "names 'mysql'"), ("mariadb+pymysql://x@h/db", "names 'mariadb'"), ("nonsense", "not a database URL")],
)
def test_a_database_yuyue_does_not_run_on_is_one_error_line(yuyue, monkeypatch, url, fragment):
    monkeypatch.setenv("YUYUE_DATABASE_URL", url)

    result = yuyue("tenants", "list")

    assert_one_error_line(result, "YUYUE_DATABASE_URL", fragment)
    assert "ModuleNotFoundError" not in result.err


def test_unreachable_database_as_a_real_process(database_file, tmp_path):
    completed = run_process("tenants", "list", cwd=tmp_path, env={"YUYUE_DATABASE_URL": UNREACHABLE_DATABASE})
    assert_one_error_line(Result(completed.returncode, completed.stdout, completed.stderr), "cannot reach the database")
    assert completed.stdout == ""


def test_database_folder_that_cannot_be_created_is_one_error_line(yuyue, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("YUYUE_DATABASE_URL", f"sqlite:///{blocker}/sub/yuyue.db")
    assert_one_error_line(yuyue("init"))


def test_invalid_plugin_declaration_stops_every_command_with_one_line(database_file, tmp_path, make_plugin):
    folder = resources.files("yuyue_exhibition") / "vertical"
    files = {f"vertical/{p.name}": json.loads(p.read_text("utf-8")) for p in folder.iterdir() if p.name.endswith(".json")}
    files = copy.deepcopy(files)
    files["vertical/vertical.json"]["key"] = "broken"
    files["vertical/form.schema.json"]["properties"]["visitor_name"]["type"] = "strin"
    source = """
        from yuyue import VerticalFile, hookimpl

        @hookimpl
        def register_verticals():
            return [VerticalFile(__package__, "vertical/vertical.json")]
    """
    make_plugin("broken", source, files)
    env = {**process_env(database_file), "PYTHONPATH": str(tmp_path / "site-packages")}
    completed = run_process("init", cwd=tmp_path, env=env)
    assert_one_error_line(
        Result(completed.returncode, completed.stdout, completed.stderr), "plugin 'broken'", "vertical/form.schema.json", "/properties/visitor_name/type"
    )
    assert not database_file.exists()


# --- staff ---


def test_add_staff_creates_the_user_and_gives_them_a_role_at_the_tenant(yuyue, tenant_acme, database_file):
    result = yuyue("tenants", "add-staff", "acme", "wang", "--role", "manager", "--email", "wang@acme.invalid", "--password", "s3cret!")
    assert result.code == 0 and result.out == "wang is manager at acme\n"
    [membership] = table_rows(database_file, "staff_memberships")
    [user] = [u for u in table_rows(database_file, "ab_user") if u["username"] == "wang"]
    assert (membership["user_id"], membership["role"]) == (user["id"], "manager")


def test_add_staff_again_changes_the_role(yuyue, tenant_acme, database_file):
    yuyue("tenants", "add-staff", "acme", "wang", "--email", "wang@acme.invalid", "--password", "s3cret!")
    assert yuyue("tenants", "add-staff", "acme", "wang", "--role", "owner").code == 0
    assert [m["role"] for m in table_rows(database_file, "staff_memberships")] == ["owner"]


def test_add_staff_for_an_unknown_user_without_credentials_is_one_error_line(yuyue, tenant_acme):
    assert_one_error_line(yuyue("tenants", "add-staff", "acme", "ghost"), "no user 'ghost'")


def test_add_staff_at_an_unknown_tenant_is_one_error_line(yuyue, initialised):
    assert_one_error_line(yuyue("tenants", "add-staff", "nowhere", "wang", "--email", "w@x.invalid", "--password", "p"), "no tenant 'nowhere'")


# --- admin users ---


def admin_signing_in(username: str, password: str) -> list[str] | None:
    """The roles of ``username`` when Flask-AppBuilder's login check accepts ``password``; None when it refuses."""
    app = create_app()
    with app.app_context():
        user = app.appbuilder.sm.auth_user_db(username, password)
        roles = None if user is None else [role.name for role in user.roles]
        db.session.remove()
        db.engine.dispose()
    return roles


def test_admin_create_makes_a_user_who_signs_in_as_admin_and_says_so_in_one_line(yuyue, initialised, database_file):
    result = yuyue("admin", "create", "root", "--email", "root@example.com", "--password", "s3cret!")

    assert result == Result(0, "created admin user root (root@example.com)\n", "")
    assert admin_signing_in("root", "s3cret!") == ["Admin"]
    assert audit_rows(database_file, "operator_audit_records") == [("cli", "admin.created", "user", "1")]
    assert "s3cret!" not in json.dumps(table_rows(database_file, "operator_audit_records"), default=str)


@pytest.mark.parametrize("command", [("admin", "create"), ("fab", "create-admin")], ids=["admin-create", "fab-create-admin"])
@pytest.mark.parametrize(
    ("username", "email", "fragment"),
    [
        ("root", "other@example.com", "a user named 'root' already exists (/username: already taken)"),
        ("other", "root@example.com", "another user has the email 'root@example.com' (/email: already used)"),
    ],
    ids=["taken-name", "taken-email"],
)
def test_creating_an_admin_whose_name_or_email_is_taken_is_one_error_line_and_changes_nothing(
    yuyue, initialised, database_file, command, username, email, fragment
):
    assert yuyue("admin", "create", "root", "--email", "root@example.com", "--password", "first").code == 0

    if command == ("admin", "create"):
        result = yuyue(*command, username, "--email", email, "--password", "second")
    else:
        result = yuyue(*command, "--username", username, "--firstname", "A", "--lastname", "B", "--email", email, "--password", "second")

    assert_one_error_line(result, fragment)
    assert result.code == 1 and result.out == ""
    assert [user["username"] for user in table_rows(database_file, "ab_user")] == ["root"]
    assert admin_signing_in("root", "first") == ["Admin"]


def test_fab_create_admin_takes_flask_appbuilders_options_and_says_so_in_one_line(yuyue, initialised):
    result = yuyue("fab", "create-admin", "--username", "ops", "--firstname", "Ops", "--lastname", "Team", "--email", "ops@example.com", "--password", "pw")

    assert result == Result(0, "created admin user ops (ops@example.com)\n", "")
    assert admin_signing_in("ops", "pw") == ["Admin"]


@pytest.mark.parametrize(
    "command",
    [("admin", "password", "root", "--password", "n3w!"), ("fab", "reset-password", "--username", "root", "--password", "n3w!")],
    ids=["admin-password", "fab-reset-password"],
)
def test_setting_a_users_password_lets_them_sign_in_with_it_only_and_records_it_without_it(yuyue, initialised, database_file, command):
    assert yuyue("admin", "create", "root", "--email", "root@example.com", "--password", "old").code == 0

    result = yuyue(*command)

    assert result == Result(0, "password set for root\n", "")
    assert admin_signing_in("root", "n3w!") == ["Admin"]
    assert admin_signing_in("root", "old") is None
    assert audit_rows(database_file, "operator_audit_records") == [("cli", "admin.created", "user", "1"), ("cli", "user.password_set", "user", "1")]
    assert "n3w!" not in json.dumps(table_rows(database_file, "operator_audit_records"), default=str)
    assert yuyue("audit", "verify").code == 0


@pytest.mark.parametrize(
    ("command", "fragment"),
    [
        (("admin", "password", "nobody", "--password", "x"), "no user named 'nobody'"),
        (("fab", "reset-password", "--username", "nobody", "--password", "x"), "no user named 'nobody'"),
        (("admin", "password", "root", "--password", ""), "a password is required"),
        (
            ("fab", "create-user", "--role", "Public", "--username", "u", "--firstname", "U", "--lastname", "V", "--email", "u@example.com", "--password", "p"),
            "not 'Public'",
        ),
        (
            (
                "fab",
                "create-user",
                "--role",
                "Admin",
                "--username",
                "root",
                "--firstname",
                "U",
                "--lastname",
                "V",
                "--email",
                "u@example.com",
                "--password",
                "p",
            ),
            "already exists",
        ),
    ],
    ids=["no-such-user", "fab-no-such-user", "empty-password", "fab-create-user-other-role", "fab-create-user-taken"],
)
def test_flask_appbuilders_user_commands_and_admin_password_fail_in_one_error_line_and_change_nothing(yuyue, initialised, database_file, command, fragment):
    """Flask-AppBuilder's own print such failures as a log line and exit 0."""
    assert yuyue("admin", "create", "root", "--email", "root@example.com", "--password", "first").code == 0

    result = yuyue(*command)

    assert_one_error_line(result, fragment)
    assert [user["username"] for user in table_rows(database_file, "ab_user")] == ["root"]
    assert admin_signing_in("root", "first") == ["Admin"]


def test_fab_create_user_with_the_admin_role_makes_an_admin(yuyue, initialised):
    result = yuyue(
        "fab", "create-user", "--role", "Admin", "--username", "ops", "--firstname", "O", "--lastname", "T", "--email", "ops@example.com", "--password", "pw"
    )

    assert result == Result(0, "created admin user ops (ops@example.com)\n", "")
    assert admin_signing_in("ops", "pw") == ["Admin"]


def test_fab_create_db_makes_the_schema_through_the_migrations_so_init_and_every_command_work_after_it(yuyue):
    """Flask-AppBuilder's made the tables around the migrations, and `yuyue init` then failed on them."""
    made = yuyue("fab", "create-db")

    assert made.code == 0 and made.out.startswith("database ready: "), made
    assert yuyue("init").code == 0
    assert yuyue("tenants", "create", "acme", "--name", "Acme").code == 0


def test_admin_create_asks_for_the_password_twice_on_a_terminal_without_showing_it(initialised, database_file, tmp_path):
    import pty
    import select

    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "yuyue", "admin", "create", "root", "--email", "root@example.com"],
        cwd=tmp_path,
        env={**os.environ, **process_env(database_file)},
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # no controlling terminal: the password is read from the pseudo-terminal on stdin
    )
    os.close(secondary)
    shown = b""
    for prompt in (b"Password: ", b"Repeat for confirmation: "):
        # Typed once the prompt is shown: turning echo off flushes what the terminal holds before.
        while not shown.endswith(prompt):
            character = os.read(process.stderr.fileno(), 1) if select.select([process.stderr], [], [], 60)[0] else b""
            if not character:  # ended, or asked elsewhere
                process.kill()
                pytest.fail(f"no {prompt!r} on stderr: {shown!r}")
            shown += character
        os.write(primary, b"s3cret!\n")
    out, err = process.communicate(timeout=120)
    try:
        echoed = os.read(primary, 65536)  # what the terminal would show
    except OSError:  # nothing: Linux answers EIO once the process closed its end
        echoed = b""
    os.close(primary)

    assert process.returncode == 0, err
    assert out.decode() == "created admin user root (root@example.com)\n"
    assert "s3cret!" not in (out + shown + err + echoed).decode()
    assert admin_signing_in("root", "s3cret!") == ["Admin"]


def test_admin_create_reads_the_password_from_a_pipe(initialised):
    result = click.testing.CliRunner().invoke(build_cli(), ["admin", "create", "root", "--email", "root@example.com"], input="s3cret!\n")

    assert (result.exit_code, result.output) == (0, "created admin user root (root@example.com)\n")
    assert admin_signing_in("root", "s3cret!") == ["Admin"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("admin", "create", " ", "--email", "a@example.com", "--password", "p"), "/username: A user name of 1 to 64 characters."),
        (("admin", "create", "root", "--email", "not-an-email", "--password", "p"), "/email: this is not an email address"),
        (("admin", "create", "root", "--email", "a@example.com", "--password", ""), "/password: a password is required"),
    ],
    ids=["blank-name", "bad-email", "empty-password"],
)
def test_admin_create_with_a_bad_field_is_one_error_line_naming_it(yuyue, initialised, database_file, args, fragment):
    assert_one_error_line(yuyue(*args), fragment)
    assert table_rows(database_file, "ab_user") == []


def test_admin_create_without_a_password_and_nothing_on_standard_input_is_one_error_line(initialised, database_file):
    result = run_process("admin", "create", "root", "--email", "root@example.com", cwd=database_file.parent, env=process_env(database_file))

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "error: password is not valid (/password: a password is required)\n"
    assert table_rows(database_file, "ab_user") == []


# --- operators are audited ---


def audit_rows(database_file: Path, table: str = "audit_records") -> list[tuple]:
    return [(row["actor"], row["action"], row["subject_type"], row["subject_id"]) for row in sorted(table_rows(database_file, table), key=lambda r: r["id"])]


def test_each_tenant_command_leaves_one_record_by_cli_in_the_tenants_chain(yuyue, initialised, database_file):
    yuyue("tenants", "create", "acme", "--name", "Acme", "--plugin", "exhibition")
    yuyue("tenants", "suspend", "acme")
    yuyue("tenants", "reinstate", "acme")

    assert audit_rows(database_file) == [
        ("cli", "tenant.created", "tenant", "acme"),
        ("cli", "tenant.suspended", "tenant", "acme"),
        ("cli", "tenant.reinstated", "tenant", "acme"),
    ]
    assert json.loads(table_rows(database_file, "audit_records")[0]["data"])["plugins"] == ["exhibition"]


def test_add_staff_leaves_one_record_without_the_password_or_email(yuyue, tenant_acme, database_file):
    yuyue("tenants", "add-staff", "acme", "wang", "--role", "manager", "--email", "wang@acme.invalid", "--password", "s3cret!")

    [user] = [u for u in table_rows(database_file, "ab_user") if u["username"] == "wang"]
    assert audit_rows(database_file)[1:] == [("cli", "staff.added", "user", str(user["id"]))]
    data = table_rows(database_file, "audit_records")[-1]["data"]
    assert json.loads(data) == {"username": "wang", "role": "manager", "previous_role": None, "user_created": True}
    assert "s3cret!" not in data and "wang@acme.invalid" not in data


def test_token_commands_leave_one_record_each_in_the_right_chain_without_the_secret(yuyue, tenant_acme, database_file):
    operator_secret = yuyue("tokens", "create", "--operator", "--name", "ci").lines[0]
    staff_secret = yuyue("tokens", "create", "--tenant", "acme", "--name", "desk").lines[0]
    yuyue("tokens", "revoke", "1")
    yuyue("tokens", "revoke", "2")

    assert audit_rows(database_file, "operator_audit_records") == [("cli", "token.created", "api_token", "1"), ("cli", "token.revoked", "api_token", "1")]
    assert audit_rows(database_file)[1:] == [("cli", "token.created", "api_token", "2"), ("cli", "token.revoked", "api_token", "2")]
    stored = json.dumps(table_rows(database_file, "audit_records") + table_rows(database_file, "operator_audit_records"), default=str)
    assert operator_secret not in stored and staff_secret not in stored
    assert hashlib.sha256(operator_secret.encode()).hexdigest() not in stored


def test_audit_verify_checks_the_tenant_chains_and_the_operator_chain(yuyue, tenant_acme, database_file):
    yuyue("tokens", "create", "--operator", "--name", "ci")

    assert yuyue("audit", "verify") == Result(0, "ok: 1 records in 1 tenants, 0 rows, 1 in the operator chain\n", "")

    engine = create_engine(f"sqlite:///{database_file}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE operator_audit_records SET actor = 'operator:9'"))
    engine.dispose()
    assert yuyue("audit", "verify") == Result(1, "(operator): seq 1 (record 1): hash_mismatch\n", "")


# --- audit ---


@pytest.fixture
def signing_key(yuyue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("YUYUE_AUDIT_SIGNING_KEY", "YUYUE_AUDIT_CHECKPOINTS"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "audit-signing.pem"
    made = yuyue("audit", "keygen", "--output", str(path))
    assert made.code == 0 and made.lines[0].startswith("public key: ed25519:") and made.lines[1].startswith("key id: ")
    return path


def test_audit_checkpoint_then_verify_with_the_configured_key(yuyue, tenant_acme, signing_key, tmp_path, monkeypatch):
    monkeypatch.setenv("YUYUE_AUDIT_SIGNING_KEY", str(signing_key))
    monkeypatch.setenv("YUYUE_AUDIT_CHECKPOINTS", str(tmp_path / "checkpoints.jsonl"))
    assert yuyue("audit", "checkpoint").code == 0
    verified = yuyue("audit", "verify", "--checkpoints", str(tmp_path / "checkpoints.jsonl"))
    assert verified.code == 0 and verified.lines[0].startswith("ok: ")


def test_audit_keygen_over_an_existing_file_is_one_error_line(yuyue, signing_key):
    assert_one_error_line(yuyue("audit", "keygen", "--output", str(signing_key)), "already exists")


def test_audit_checkpoint_with_a_missing_key_file_is_one_error_line(yuyue, initialised, tmp_path):
    result = yuyue("audit", "checkpoint", "--output", str(tmp_path / "checkpoints.jsonl"), "--key", str(tmp_path / "nope.pem"))
    assert_one_error_line(result, "cannot read the signing key", "nope.pem")


def test_audit_checkpoint_without_a_key_is_one_error_line(yuyue, initialised, tmp_path, monkeypatch):
    monkeypatch.delenv("YUYUE_AUDIT_SIGNING_KEY", raising=False)
    assert_one_error_line(yuyue("audit", "checkpoint", "--output", str(tmp_path / "checkpoints.jsonl")), "YUYUE_AUDIT_SIGNING_KEY")


def test_audit_verify_with_an_unreadable_checkpoint_file_is_one_error_line(yuyue, initialised, signing_key, tmp_path):
    result = yuyue("audit", "verify", "--checkpoints", str(tmp_path / "missing.jsonl"), "--public-key", str(signing_key))
    assert_one_error_line(result, "cannot read the checkpoint file", "missing.jsonl")


def test_audit_verify_with_a_public_key_that_is_none_is_one_error_line(yuyue, initialised, tmp_path):
    (tmp_path / "checkpoints.jsonl").write_text("")
    result = yuyue("audit", "verify", "--checkpoints", str(tmp_path / "checkpoints.jsonl"), "--public-key", "ed25519:bm90IGEga2V5")
    assert_one_error_line(result, "not an Ed25519 public key")


def test_demo_sells_class_packages_and_pays_classes_with_credits(yuyue, database_file):
    assert yuyue("demo", "--no-serve").code == 0
    packages = {row["code"]: (row["credits"], row["price_amount"], row["valid_days"]) for row in table_rows(database_file, "credit_packages")}
    assert packages == {"ten-classes": (10, 80000, 90), "trial-class": (1, 0, 14)}
    assert plugin_settings(database_file, "course")["pay_with_credits"] is True
    assert "yoga-class" in {row["slug"] for row in table_rows(database_file, "booking_types")}


# --- outbox ---


def seed_deliveries(database_file: Path, tenant_slug: str) -> dict[str, int]:
    """Two fanned-out events of ``tenant_slug`` (a dead webhook delivery, a delivered hook) and one waiting: their ids by name."""
    from datetime import UTC, datetime

    from yuyue.db import tenant_scope, write_transaction
    from yuyue.events.models import Delivery, DeliveryKind, DeliveryStatus, OutboxEvent
    from yuyue.provisioning.operations import get_tenant

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database_file}", "INSTANCE_PATH": str(database_file.parent), "SECRET_KEY": "test"})
    at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    with app.app_context():
        tenant = get_tenant(db.session, tenant_slug)
        with tenant_scope(tenant.id), write_transaction(db.session):
            first = OutboxEvent(topic="booking.confirmed", payload={}, created_at=at, delivered_at=at)
            second = OutboxEvent(topic="booking.cancelled", payload={}, created_at=at.replace(day=2), delivered_at=at)
            waiting = OutboxEvent(topic="booking.held", payload={}, created_at=at.replace(day=3))
            db.session.add_all([first, second, waiting])
            db.session.flush()
            dead = Delivery(
                message_id="msg_dead", event_id=first.id, topic=first.topic, subscriber="webhook:1", kind=DeliveryKind.webhook, target="1",
                payload={}, status=DeliveryStatus.dead, attempts=9, last_error="HTTP 500 from receiver",
            )  # fmt: skip
            sent = Delivery(
                message_id="msg_sent", event_id=second.id, topic=second.topic, subscriber="hook:crm", kind=DeliveryKind.hook, target="crm",
                payload={}, status=DeliveryStatus.delivered, attempts=1, delivered_at=at,
            )  # fmt: skip
            db.session.add_all([dead, sent])
            db.session.flush()
            ids = {"first": first.id, "second": second.id, "dead": dead.id, "sent": sent.id}
        db.session.remove()
        db.engine.dispose()
    return ids


def test_outbox_status_on_an_empty_installation(yuyue, initialised):
    result = yuyue("outbox", "status")
    assert result.code == 0, result.err
    assert result.lines == ["events waiting: 0", "deliveries: none", "oldest pending: -"]


def test_outbox_status_counts_by_status_and_kind_and_lists_the_dead_with_their_error(yuyue, tenant_acme, database_file):
    ids = seed_deliveries(database_file, tenant_acme)
    result = yuyue("outbox", "status")
    assert result.code == 0, result.err
    assert result.lines[:4] == ["events waiting: 1", "deliveries: dead 1, delivered 1", "  hook: delivered 1", "  webhook: dead 1"]
    assert f"dead {ids['dead']}\tevent {ids['first']} booking.confirmed\twebhook:1\t9 attempts\tHTTP 500 from receiver" in result.lines
    as_json = json.loads(yuyue("outbox", "status", "--json", "--tenant", tenant_acme).out)
    assert (as_json["events_waiting"], as_json["deliveries"], as_json["dead"][0]["last_error"]) == (1, {"dead": 1, "delivered": 1}, "HTTP 500 from receiver")


def test_outbox_status_of_another_tenant_sees_none_of_these(yuyue, tenant_acme, database_file):
    seed_deliveries(database_file, tenant_acme)
    assert yuyue("tenants", "create", "other", "--name", "Other").code == 0
    assert yuyue("outbox", "status", "--tenant", "other").lines == ["events waiting: 0", "deliveries: none", "oldest pending: -"]
    assert_one_error_line(yuyue("outbox", "status", "--tenant", "ghost"), "no tenant 'ghost'")


def test_outbox_retry_puts_a_dead_delivery_back_to_pending_and_says_which_ids_were_not_dead(yuyue, tenant_acme, database_file):
    ids = seed_deliveries(database_file, tenant_acme)
    result = yuyue("outbox", "retry", "--delivery", str(ids["dead"]), "--delivery", str(ids["sent"]))
    assert (result.code, result.out, result.err) == (1, "1 deliveries will be sent again\n", f"delivery {ids['sent']}: not found or not dead\n")
    row = next(r for r in table_rows(database_file, "deliveries") if r["id"] == ids["dead"])
    assert (row["status"], row["attempts"], row["message_id"]) == ("pending", 0, "msg_dead")
    assert yuyue("outbox", "retry", "--all-dead").out == "0 deliveries will be sent again\n"
    assert any(r["action"] == "outbox.delivery_retried" for r in table_rows(database_file, "audit_records"))


def test_outbox_retry_needs_ids_or_all_dead(yuyue, initialised):
    assert_one_error_line(yuyue("outbox", "retry"), "--all-dead")


def test_outbox_replay_sends_a_delivered_event_again_with_the_same_message_id(yuyue, tenant_acme, database_file):
    ids = seed_deliveries(database_file, tenant_acme)
    assert (
        yuyue("outbox", "replay", "--since", "2026-03-02", "--until", "2026-03-03T00:00:00+00:00", "--subscriber", "hook:").out
        == "1 deliveries will be sent again\n"
    )
    row = next(r for r in table_rows(database_file, "deliveries") if r["id"] == ids["sent"])
    assert (row["status"], row["message_id"], row["delivered_at"]) == ("pending", "msg_sent", None)
    assert yuyue("outbox", "replay", "--event", str(ids["first"]), "--subscriber", "hook:").out == "0 deliveries will be sent again\n"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--since", "yesterday"], "not an ISO 8601 date or date-time: 'yesterday'"),
        (["--since", "2026-03-02", "--until", "2026-03-01"], "must be after --since"),
        (["--until", "2026-03-01"], "--until goes with --since"),
        ([], "--event ID"),
        (["--event", "0"], "--event"),
    ],
)
def test_outbox_replay_refuses_bad_input_in_one_line(yuyue, initialised, args, fragment):
    assert_one_error_line(yuyue("outbox", "replay", *args), fragment)


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (("serve", "--bind", "nonsense"), "cannot listen on nonsense"),
        (("serve", "--bind", "127.0.0.1:99999"), "from 0 to 65535"),
        (("serve", "--bind", "127.0.0.1:http"), "from 0 to 65535"),
        (("demo", "--port", "99999"), "--port"),
        (("demo", "--port", "-1"), "--port"),
    ],
)
def test_a_place_to_listen_that_cannot_be_is_one_error_line(yuyue, monkeypatch, arguments, fragment):
    started = []
    monkeypatch.setattr(os, "execv", lambda path, args: started.append(args))

    assert_one_error_line(yuyue(*arguments), fragment)
    assert started == []


def test_the_help_lists_yuyues_commands_and_options_only(yuyue):
    help_text = yuyue("--help").out
    commands = help_text.split("Commands:")[1]

    assert {"demo", "serve", "init", "tenants", "tokens", "worker", "audit"} <= {line.split()[0] for line in commands.splitlines() if line.strip()}
    for foreign in ("run ", "shell ", "routes ", "fab ", "limiter "):
        assert f"\n  {foreign}" not in commands, foreign
    assert "--app" not in help_text and "--env-file" not in help_text and "--debug" not in help_text


def test_an_unlisted_flask_command_still_answers_when_named(yuyue):
    result = yuyue("fab", "--help")

    assert result.code == 0 and "create-admin" in result.out


# --- hostile input: every failure one line ---

USAGE, FAILURE = 2, 1


@pytest.mark.parametrize(
    ("args", "status", "fragment"),
    [
        ((), USAGE, "missing command: yuyue COMMAND, one of admin, audit, "),
        (("tenants",), USAGE, "missing command: yuyue tenants COMMAND, one of add-staff, create, export, import, list, reinstate, suspend"),
        (("tokens",), USAGE, "one of create, list, revoke"),
        (("outbox",), USAGE, "one of replay, retry, status"),
        (("tenants", "list", "extra"), USAGE, "unexpected extra argument"),
        (("tenants", "list", "--bogus"), USAGE, "No such option '--bogus'"),
        (("tenants", "suspend", ""), FAILURE, "no tenant ''"),
        (("tenants", "create", "", "--name", "X"), FAILURE, "/slug"),
        (("tenants", "create", "b", "--name", ""), FAILURE, "/name"),
        (("tenants", "create", "b", "--name", "B", "--locale", "xx"), FAILURE, "/locales/0"),
        (("tenants", "add-staff", "acme", "bob", "--role", "god"), USAGE, "'god' is not one of"),
        (("tenants", "add-staff", "acme", "", "--email", "a@example.com", "--password", "pw"), FAILURE, "/username: A user name of 1 to 64"),
        (("tenants", "add-staff", "acme", "x" * 65, "--email", "a@example.com", "--password", "pw"), FAILURE, "/username"),
        (("tenants", "add-staff", "acme", "bob", "--email", "not-an-email", "--password", "pw"), FAILURE, "/email: this is not an email address"),
        (("tokens", "create", "--operator", "--name", ""), FAILURE, "/name: a name of 1-100 characters is required"),
        (("tokens", "create", "--tenant", "acme", "--name", "x" * 101), FAILURE, "/name: a name of 1-100 characters is required"),
        (("tokens", "revoke", "99999999999999999999999"), USAGE, "not in the range"),
        (("tokens", "revoke", "abc"), USAGE, "not a valid integer"),
        (("migrations", "revision", "-m", " "), USAGE, "give the migration a message"),
        (("serve", "--workers", "0"), USAGE, "not in the range 1<=x<=256"),
        (("serve", "--workers", "99999999999999999999"), USAGE, "not in the range 1<=x<=256"),
        (("worker", "--workers", "0"), USAGE, "not in the range 1<=x<=64"),
        (("demo", "--port", "-1"), USAGE, "--port"),
        (("outbox", "status", "--tenant", "nope"), FAILURE, "no tenant 'nope'"),
        (("audit", "verify", "--tenant", "nope"), FAILURE, "no tenant 'nope'"),
        (("audit", "keygen", "--output", "{blocker}/key"), FAILURE, "cannot write the signing key"),
        (("plugin", "new", "good", "--directory", "{blocker}/sub"), FAILURE, "cannot use"),
    ],
)
def test_hostile_arguments_are_one_error_line(yuyue, tenant_acme, tmp_path, args, status, fragment):
    blocker = tmp_path / "a-file"
    blocker.write_text("")

    result = yuyue(*(arg.format(blocker=blocker) for arg in args))

    assert_one_error_line(result, fragment)
    assert result.code == status
    assert "Usage:" not in result.err and "[Errno" not in result.err


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("YUYUE_SECURE_COOKIES", "maybe", "YUYUE_SECURE_COOKIES must be on or off (1 or 0), not 'maybe'"),
        ("YUYUE_AUDIT_CHECKPOINT_MINUTES", "x", "YUYUE_AUDIT_CHECKPOINT_MINUTES must be a whole number from 1 to 60"),
        ("YUYUE_AUDIT_CHECKPOINT_MINUTES", "1.5", "YUYUE_AUDIT_CHECKPOINT_MINUTES must be a whole number from 1 to 60"),
        ("YUYUE_SQLITE_BUSY_TIMEOUT", "soon", "YUYUE_SQLITE_BUSY_TIMEOUT must be a number from 0 to 3600"),
        ("YUYUE_OUTBOX_RUSH_SHARE", "2", "YUYUE_OUTBOX_RUSH_SHARE must be a number from 0.01 to 1"),
        ("YUYUE_REDIS_URL", "nonsense", "YUYUE_REDIS_URL must be a redis:// or rediss:// URL with a host, or unix:///path/to/socket"),
        ("YUYUE_REDIS_URL", "redis://", "YUYUE_REDIS_URL must be a redis://"),
    ],
)
def test_a_setting_that_cannot_be_used_is_one_line_naming_it(yuyue, initialised, monkeypatch, variable, value, fragment):
    monkeypatch.setenv(variable, value)

    result = yuyue("tenants", "list")

    assert_one_error_line(result, fragment)
    assert "ValueError" not in result.err and "YUYUE_DEBUG" not in result.err


def test_an_instance_folder_that_is_a_file_is_one_error_line(yuyue, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.delenv("YUYUE_DATABASE_URL")
    monkeypatch.setenv("YUYUE_INSTANCE_PATH", str(blocker))

    assert_one_error_line(yuyue("init"), f"cannot use {blocker}")


def test_a_database_without_the_schema_says_to_run_init(yuyue, monkeypatch, tmp_path):
    monkeypatch.setenv("YUYUE_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    for command in (["tenants", "list"], ["tokens", "list", "--json"], ["outbox", "status"]):
        result = yuyue(*command)
        assert_one_error_line(result, "the database has no yuyue schema or an older one (no such table: ", "run `yuyue init`")
        assert "cannot reach" not in result.err


@pytest.mark.skipif(not os.environ.get("YUYUE_TEST_DATABASE_URL", "").startswith("postgresql"), reason="needs YUYUE_TEST_DATABASE_URL on PostgreSQL")
def test_a_postgresql_database_without_the_schema_says_to_run_init(tmp_path):
    test_database = os.environ["YUYUE_TEST_DATABASE_URL"]
    # The test database, seen through a schema search path that holds no table; a process of its own, whose
    # connection ends with it.
    url = f"{test_database}{'&' if '?' in test_database else '?'}options=-csearch_path%3Dyuyue_no_such_schema"

    completed = run_process("tokens", "list", "--json", cwd=tmp_path, env={"YUYUE_DATABASE_URL": url, "YUYUE_INSTANCE_PATH": str(tmp_path)})

    assert_one_error_line(
        Result(completed.returncode, completed.stdout, completed.stderr), 'the database has no yuyue schema or an older one (relation "tenants" does not exist)'
    )
    assert "run `yuyue init`" in completed.stderr


def test_a_group_without_its_command_as_a_real_process(database_file, tmp_path):
    completed = run_process("tokens", cwd=tmp_path, env=process_env(database_file))
    assert (completed.returncode, completed.stdout) == (2, "")
    assert completed.stderr == "error: missing command: yuyue tokens COMMAND, one of create, list, revoke (`yuyue tokens COMMAND --help` tells more)\n"


# --- progress on a terminal ---


def run_with_terminal_stderr(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """``python -m yuyue ARGS…`` with stderr on a pseudo-terminal and stdout on a pipe; returns (code, stdout, terminal)."""
    import pty
    import select

    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "yuyue", *args], cwd=cwd, env={**os.environ, **env}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=secondary
    )
    os.close(secondary)
    terminal = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 120)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        terminal += chunk
    os.close(primary)
    stdout = process.stdout.read().decode()
    process.stdout.close()
    return process.wait(timeout=120), stdout, terminal.decode(errors="replace")


def test_init_on_a_terminal_shows_each_migration_as_it_is_applied(database_file, tmp_path):
    code, stdout, terminal = run_with_terminal_stderr("init", cwd=tmp_path, env=process_env(database_file))

    assert code == 0, terminal
    assert stdout.startswith("database ready: ")
    assert "migrating" in terminal
    revisions = sorted(path.name[:4] for path in (resources.files("yuyue") / "migrations" / "versions").iterdir() if path.name[:4].isdigit())
    for revision in revisions:
        assert f"applying {revision}" in terminal
    assert "100%" in terminal


def test_init_at_head_on_a_terminal_shows_no_progress(initialised, database_file, tmp_path):
    code, _, terminal = run_with_terminal_stderr("init", cwd=tmp_path, env=process_env(database_file))
    assert (code, terminal) == (0, "")


def test_init_piped_shows_no_progress(database_file, tmp_path):
    completed = run_process("init", cwd=tmp_path, env=process_env(database_file))
    assert (completed.returncode, completed.stderr) == (0, "")
