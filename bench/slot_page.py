"""The slot page: gunicorn serving a booking type's page of the customer site, read over HTTP from another process.

    python bench/slot_page.py [--database sqlite|postgresql|both] [--quick] [--runs N] [--no-write]

For each database (fresh, as ``booking_rush.py`` makes them) it seeds a tenant with a booking type of
hourly slots 08:00–20:00 on every one of the next 31 days, released a week ahead (so most days show
"not yet released"), a third of the released slots booked (some full), starts gunicorn with ``yuyue serve``'s default workers and has a client process of its own
read ``GET /t/<tenant>/book/<type>/?day=…`` from threads with keep-alive connections, each request a
day of the 31 in turn. Requests/s counts 200 answers from the common start to the last answer;
latency is per request as the client sees it. Each run is repeated and the medians are written to
``docs/performance.md`` between the ``slot_page`` markers (``bench/run.py`` keeps that block).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shlex
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import report
from booking_rush import DATABASES, GUNICORN, PERFORMANCE, TENANT, ZONE, cpu_used, first_day, gunicorn, percentile, write_section

START, END = "<!-- slot_page:start -->", "<!-- slot_page:end -->"
TYPE = "hourly"
DAYS = 31
CLIENTS = 16
RELEASED_DAYS = 5  # booked from two days ahead: inside the week that is released
RELEASED_A_WEEK_AHEAD = {"type": "booking_window", "params": {"opens_days_ahead": 7, "release_time": "17:00", "closes_minutes_before": 0}}
FORM = {"type": "object", "properties": {"name": {"type": "string", "x-field": "text", "minLength": 1, "maxLength": 40}}, "required": ["name"]}


def seed(url: str, folder: str) -> str:
    """``yuyue init``, a tenant with the hourly type and bookings on every third released slot (every ninth full); the database's version."""
    from yuyue.app import create_app
    from yuyue.bookings.operations import book
    from yuyue.catalog.operations import create_booking_type
    from yuyue.cli import init_database
    from yuyue.db import db
    from yuyue.forms.registry import form_registry
    from yuyue.plugins import plugin_host
    from yuyue.provisioning.operations import create_tenant
    from yuyue.scheduling.registry import current_registry

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "slot-page", "INSTANCE_PATH": folder})
    every_day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    hours = {"weekdays": {day: [{"start": "08:00", "end": "20:00"}] for day in every_day}, "slot_minutes": 60, "capacity": 2}
    with app.app_context():
        init_database()
        tenant = create_tenant(db.session, plugin_host(), slug=TENANT, name="Slot page", plugins={"activity": {}})
        create_booking_type(
            db.session, plugin_host(), form_registry(), current_registry(), tenant,
            vertical="activity", slug=TYPE, name={"en": "Hourly"}, availability_rules=[{"type": "weekly_hours", "params": hours}, RELEASED_A_WEEK_AHEAD],
            policies={}, form=FORM, ui={"order": ["name"], "fields": {}},
        )  # fmt: skip
        phone = 0
        for n in range(0, RELEASED_DAYS * 12, 3):
            starts_at = datetime.combine(first_day() + timedelta(days=n // 12), datetime.min.time(), ZONE) + timedelta(hours=8 + n % 12)
            for _place in range(2 if n % 9 == 0 else 1):
                phone += 1
                book(db.session, form_registry(), tenant, booking_type_slug=TYPE, starts_at=starts_at, phone=f"139{phone:08d}", answers={"name": "Bench"})
        db.session.remove()
        version = db.session.connection().exec_driver_sql("select sqlite_version()" if url.startswith("sqlite") else "show server_version").scalar_one()
        db.session.remove()
        db.engine.dispose()
    return str(version)


def client_main() -> int:
    """Read a plan from stdin, GET every path with one keep-alive connection per thread, print the answers as JSON."""
    plan = json.load(sys.stdin)
    port, per_client = plan["port"], plan["paths"]
    origin: list[float] = []
    barrier = threading.Barrier(len(per_client), action=lambda: origin.append(time.perf_counter()))
    answers: list[tuple[float, float, int, int]] = []
    lock = threading.Lock()

    def client(paths: list[str]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = []
        barrier.wait()
        for path in paths:
            before = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Accept-Language": "zh-CN", "Accept-Encoding": "identity"})
                response = connection.getresponse()
                size, status = len(response.read()), response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                size, status = 0, 0
            after = time.perf_counter()
            mine.append((after - before, after, status, size))
        connection.close()
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=client, args=(paths,)) for paths in per_client]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    json.dump({"origin": origin[0], "answers": answers}, sys.stdout)
    return 0


def plan(requests: int) -> list[list[str]]:
    days = [(first_day() + timedelta(days=n % DAYS)).isoformat() for n in range(requests)]
    paths = [f"/t/{TENANT}/book/{TYPE}/?day={day}" for day in days]
    return [paths[i::CLIENTS] for i in range(CLIENTS)]


def drive(port: int, per_client: list[list[str]]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--client"], input=json.dumps({"port": port, "paths": per_client}), capture_output=True, text=True, check=True
    )
    measured = json.loads(done.stdout)
    answers, origin = measured["answers"], measured["origin"]
    latencies = sorted(latency for latency, *_ in answers)
    served = [finished for _, finished, status, _ in answers if status == 200]
    wall = max(finished for _, finished, _, _ in answers) - origin
    return {
        "requests": len(answers),
        "ok": len(served),
        "per_s": len(served) / wall,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "bytes": statistics.median(size for *_, status, size in answers if status == 200) if served else 0,
        "failed": sum(1 for *_, status, _ in answers if status != 200),
    }


def measure(name: str, requests: int, runs: int) -> dict[str, Any]:
    with DATABASES[name]() as (url, folder):
        version = seed(url, folder)
        with gunicorn(url, folder, GUNICORN) as (port, server, _log):
            drive(port, plan(CLIENTS * 4))  # warm every worker: imports, pools, template caches
            results = []
            for _run in range(runs):
                with cpu_used(url, server) as cpu:
                    result = drive(port, plan(requests))
                result["cpu_ms"] = sum(cpu.values()) * 1000 / max(result["requests"], 1)
                print(
                    f"  {result['ok']}/{result['requests']} ok, {result['per_s']:.0f}/s, p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms",
                    flush=True,
                )
                results.append(result)
    return {"version": version, "runs": results}


def section(measured: dict[str, Any], context: dict[str, Any]) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    before, after = context["load"]
    facts = {
        **report.machine(),
        **{f"{names[name]} version": result["version"] for name, result in measured.items()},
        "Date": context["started"].strftime("%Y-%m-%d %H:%M %Z"),
        "Command": f"`{context['command']}`",
        "gunicorn": f"`{GUNICORN}`, `YUYUE_RATELIMIT_ENABLED=0`, 127.0.0.1",
        "Load average (1, 5, 15 min)": f"{', '.join(f'{x:.2f}' for x in before)} before, {', '.join(f'{x:.2f}' for x in after)} after",
    }
    rows = []
    for name, result in measured.items():
        runs = result["runs"]

        def med(key: str, runs: list[dict[str, Any]] = runs) -> float:
            return statistics.median(run[key] for run in runs)

        rows.append(
            [
                names[name],
                str(len(runs)),
                str(runs[0]["requests"]),
                f"{med('per_s'):.0f} ({min(r['per_s'] for r in runs):.0f}–{max(r['per_s'] for r in runs):.0f})",
                f"{med('p50_ms'):.0f}",
                f"{med('p99_ms'):.0f}",
                f"{med('cpu_ms'):.1f}",
                f"{med('bytes') / 1024:.1f}",
                str(sum(r["failed"] for r in runs)),
            ]
        )
    parts = [
        START,
        "## The slot page over HTTP",
        "Measured by `bench/slot_page.py`, which rewrites this section; `bench/run.py` keeps it. gunicorn serves the "
        f"customer site from a fresh database; a booking type has hourly slots 08:00–20:00 on each of the next {DAYS} days "
        f"released a week ahead (a third of the released slots booked, some full). A client process of its own reads `GET /t/<tenant>/book/<type>/?day=…` from "
        f"{CLIENTS} threads with keep-alive connections, each request the next of the {DAYS} days, all starting together. "
        "Requests/s counts 200 answers from the start to the last; latency is per request as the client sees it; the "
        "figures are medians of the runs (the lowest and highest run in brackets). *CPU ms/request* adds the gunicorn "
        "workers', the database's and the client's CPU time and divides by the requests. *KiB* is one page's HTML, uncompressed.",
        report.table(["", ""], [[key, value] for key, value in facts.items()]),
        report.table(["database", "runs", "requests per run", "requests/s", "p50 ms", "p99 ms", "CPU ms/request", "KiB", "not 200"], rows),
        END,
    ]
    return "\n\n".join(parts) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--client"]:
        return client_main()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="400 requests per run instead of 2,000")
    parser.add_argument("--runs", type=int, default=5, help="runs per database (default 5)")
    parser.add_argument("--no-write", action="store_true", help="print the figures, leave docs/performance.md alone")
    args = parser.parse_args(argv)
    started, load_before = datetime.now().astimezone(), os.getloadavg()
    measured = {}
    for name in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        print(f"{name}:", flush=True)
        measured[name] = measure(name, 400 if args.quick else 2000, args.runs)
    context = {"command": shlex.join(["python", "bench/slot_page.py", *argv]), "started": started, "load": (load_before, os.getloadavg())}
    if not args.no_write:
        write_section(section(measured, context), start=START, end=END)
        print(f"wrote {PERFORMANCE}")
    return 0 if all(run["failed"] == 0 for result in measured.values() for run in result["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
