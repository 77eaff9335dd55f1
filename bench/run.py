"""Run every benchmark and write ``docs/performance.md``.

    python bench/run.py [--quick] [--database sqlite|postgresql|both] [--output PATH]

Each database is fresh: a file in a temporary folder, or a PostgreSQL database
created on ``127.0.0.1:5432`` and dropped afterwards (skipped, with a message,
when the server cannot be reached). Each scenario is repeated and reported as
the median and spread of its runs.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import report
import scenarios
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from yuyue.app import create_app
from yuyue.cli import init_database
from yuyue.db import db

POSTGRESQL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
CLIENT_COUNTS = (1, 8, 32)
PROCESSES = 4


class Unreachable(Exception):
    """The database server could not be reached; its scenarios are skipped."""


@contextmanager
def sqlite_database() -> Iterator[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="yuyue-bench-") as folder:
        yield f"sqlite:///{folder}/bench.db", folder


@contextmanager
def postgresql_database() -> Iterator[tuple[str, str]]:
    name = f"yuyue_bench_{os.getpid()}"
    server = create_engine(f"{POSTGRESQL_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        raise Unreachable(str(error).splitlines()[0]) from error
    try:
        with tempfile.TemporaryDirectory(prefix="yuyue-bench-") as folder:
            yield f"{POSTGRESQL_SERVER}/{name}", folder
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


DATABASES = {"sqlite": sqlite_database, "postgresql": postgresql_database}


def repeat(label: str, runs: int, scenario: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``scenario`` ``runs`` times; each number becomes (median, lowest, highest), errors are summed."""
    results = []
    for run in range(runs):
        results.append(scenario())
        print(f"  {label} run {run + 1}/{runs}: {report.one_line(results[-1])}", flush=True)
    summary: dict[str, Any] = {"runs": runs}
    for key, first in results[0].items():
        values = [result[key] for result in results]
        if key == "errors":
            summary[key] = sum(values)
        elif isinstance(first, bool):
            summary[key] = all(values)
        elif isinstance(first, list):
            summary[key] = sorted({item for value in values for item in value})
        else:
            summary[key] = (statistics.median(values), min(values), max(values))
    return summary


def measure(url: str, folder: str, plan: dict[str, int]) -> dict[str, Any]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": folder})
    with app.app_context():
        init_database()
        db.session.remove()
    scenarios.create_bench_tenant(app)
    runs, bookings = plan["runs"], plan["bookings"]
    results: dict[str, Any] = {"contended": {}}
    for clients in CLIENT_COUNTS:
        results["contended"][clients] = repeat(f"contended, {clients} clients", runs, lambda c=clients: scenarios.contended_booking(app, c, bookings))
    results["flash"] = repeat("flash sale", runs, lambda: scenarios.flash_sale(app))
    results["processes"] = repeat(f"{PROCESSES} processes", runs, lambda: scenarios.processes_booking(app, url, PROCESSES, bookings))
    results["availability"] = repeat("availability", runs, lambda: scenarios.availability(app, plan["availability_calls"]))
    with app.app_context():
        db.session.remove()
        results["version"] = report.server_version(db.engine)
        db.engine.dispose()
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 runs of each scenario with fewer bookings")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "performance.md")
    args = parser.parse_args(argv)
    plan = {"runs": 2, "bookings": 64, "availability_calls": 10} if args.quick else {"runs": 5, "bookings": 320, "availability_calls": 50}
    command = shlex.join([sys.executable, "bench/run.py", *argv])
    started, load_before = datetime.now().astimezone(), os.getloadavg()

    measured: dict[str, Any] = {}
    for name in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        print(f"{name}:", flush=True)
        try:
            with DATABASES[name]() as (url, folder):
                measured[name] = measure(url, folder, plan)
        except Unreachable as error:
            print(f"  skipped: PostgreSQL at {POSTGRESQL_SERVER} is unreachable ({error})", flush=True)
            measured[name] = {"skipped": f"unreachable at `127.0.0.1:5432` ({error})"}

    context = {"command": command, "started": started, "load": (load_before, os.getloadavg()), "plan": plan, "clients": CLIENT_COUNTS, "processes": PROCESSES}
    previous = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    args.output.write_text(report.with_kept_sections(report.render(measured, context), previous), encoding="utf-8")
    print(f"wrote {args.output}")
    ran = [database for database in measured.values() if "skipped" not in database]
    failed = any(result.get("errors") for database in ran for result in report.all_results(database))
    failed = failed or not all(database["flash"]["exactly_sold"] for database in ran)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
