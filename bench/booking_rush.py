"""The booking rush: gunicorn serving the customer API, driven over HTTP from another process.

    python bench/booking_rush.py [--database sqlite|postgresql|both] [--quick] [--gunicorn ARGS]

For each database (fresh: a file in a temporary folder, or ``yuyue_rush_<pid>``
created on ``127.0.0.1:5432`` and dropped afterwards) it initialises the schema,
seeds a tenant with two free booking types, starts gunicorn with the
recommended worker settings (rate limits off unless ``--rate-limits``) and runs
two scenarios from a client process of its own (``--client``; threads with
keep-alive connections, each from an address of its own, 127.0.x.y):

* *spread*: 20 clients booking across many slots, each request a new phone and slot;
* *rush*: 200 clients rushing one slot of capacity 1,000; afterwards the
  database must say ``taken == 1000`` with 1,000 confirmed bookings, and every
  other answer must be a 409 ``slot_full``.

The figures go to ``docs/performance.md`` between the ``booking_rush`` markers;
``bench/run.py`` keeps that block when it rewrites the rest of the file.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from yuyue.cli import recommended_workers

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE = ROOT / "docs" / "performance.md"
START, END = "<!-- booking_rush:start -->", "<!-- booking_rush:end -->"
POSTGRESQL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
TENANT = "rush"
ZONE = ZoneInfo("Asia/Shanghai")
# What `yuyue serve` starts by default: gunicorn's own advice, 2 × cores + 1 sync workers. It beat "--workers 2
# --worker-class gthread --threads 4" on PostgreSQL (60 against 25 bookings/s in --quick runs): a thread holding the
# tenant's audit-head row lock also waited for its process's GIL, so the lock was held longer; on SQLite the two were alike.
GUNICORN = f"--workers {recommended_workers()}"
SPREAD_CLIENTS, RUSH_CLIENTS, RUSH_CAPACITY = 20, 200, 1000
SLOT_MINUTES = 5
PY_SPY = Path(sys.executable).parent / "py-spy"
FORM = {"type": "object", "properties": {"name": {"type": "string", "x-field": "text", "minLength": 1}}, "required": ["name"]}
TARGET_RATE, TARGET_P99_MS = 150, 150
# --rate-limits: every booking is counted as `yuyue serve` counts it (the node's file), under a limit that refuses none.
RATE_LIMITED_APP = "yuyue.app:create_app({'RATELIMIT_BOOKING': '100000/minute'})"


# --- databases ------------------------------------------------------------------------


@contextmanager
def sqlite_database() -> Iterator[tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="yuyue-rush-") as folder:
        yield f"sqlite:///{folder}/rush.db", folder


@contextmanager
def postgresql_database() -> Iterator[tuple[str, str]]:
    from sqlalchemy import create_engine, text

    name = f"yuyue_rush_{os.getpid()}"
    server = create_engine(f"{POSTGRESQL_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory(prefix="yuyue-rush-") as folder:
            yield f"{POSTGRESQL_SERVER}/{name}", folder
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


DATABASES = {"sqlite": sqlite_database, "postgresql": postgresql_database}


def first_day() -> date:
    """Two days ahead in the tenant's zone, so no slot is in the past while the run lasts."""
    return datetime.now(ZONE).date() + timedelta(days=2)


def seed(url: str, folder: str) -> tuple[Any, str]:
    """``yuyue init`` and a tenant with a *spread* type (5-minute slots, 08:00–20:00, every day) and a *rush* type (one window of 1,000)."""
    from yuyue.app import create_app
    from yuyue.catalog.operations import create_booking_type
    from yuyue.cli import init_database
    from yuyue.db import db
    from yuyue.forms.registry import form_registry
    from yuyue.plugins import plugin_host
    from yuyue.provisioning.operations import create_tenant
    from yuyue.scheduling.registry import current_registry

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "rush", "INSTANCE_PATH": folder})
    every_day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    rules = {
        "spread": [
            {
                "type": "weekly_hours",
                "params": {"weekdays": {day: [{"start": "08:00", "end": "20:00"}] for day in every_day}, "slot_minutes": SLOT_MINUTES, "capacity": 1000},
            }
        ],
        "rush": [{"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "11:00", "capacity": RUSH_CAPACITY}]}}],
    }
    with app.app_context():
        init_database()
        tenant = create_tenant(db.session, plugin_host(), slug=TENANT, name="Rush", plugins={"activity": {}})
        for slug, availability in rules.items():
            create_booking_type(
                db.session, plugin_host(), form_registry(), current_registry(), tenant,
                vertical="activity", slug=slug, name={"en": slug}, availability_rules=availability, policies={}, form=FORM, ui={"order": ["name"], "fields": {}},
            )  # fmt: skip
        db.session.remove()
        version = db.session.connection().exec_driver_sql("select sqlite_version()" if url.startswith("sqlite") else "show server_version").scalar_one()
        db.session.remove()
    return app, str(version)


def rush_outcome(app: Any) -> dict[str, int]:
    """What the database says about the rushed slot: places taken and confirmed bookings."""
    from sqlalchemy import func, select

    from yuyue.bookings.models import Booking, BookingStatus
    from yuyue.catalog.models import BookingType
    from yuyue.db import db, tenant_scope
    from yuyue.provisioning.operations import get_tenant
    from yuyue.scheduling.models import SlotInventory

    with app.app_context():
        tenant = get_tenant(db.session, TENANT)
        with tenant_scope(tenant.id):
            type_id = db.session.scalar(select(BookingType.id).where(BookingType.slug == "rush"))
            taken = db.session.scalars(select(SlotInventory.taken).where(SlotInventory.booking_type_id == type_id)).all()
            confirmed = db.session.scalar(
                select(func.count()).select_from(Booking).where(Booking.booking_type_id == type_id, Booking.status == BookingStatus.confirmed)
            )
        db.session.remove()
        db.engine.dispose()
    return {"taken": sum(taken), "inventory_rows": len(taken), "confirmed": confirmed}


# --- the server -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(url: str, folder: str, settings: str, rate_limits: bool = False) -> Iterator[tuple[int, subprocess.Popen, Path]]:
    """gunicorn on a free port of 127.0.0.1, stopped (its whole process group) however the block ends."""
    port = free_port()
    log = Path(folder) / "gunicorn.log"
    env = {
        **os.environ,
        "YUYUE_DATABASE_URL": url,
        "YUYUE_INSTANCE_PATH": folder,
        "YUYUE_SECRET_KEY": "rush",
        "YUYUE_RATELIMIT_ENABLED": "1" if rate_limits else "0",
    }
    app = RATE_LIMITED_APP if rate_limits else "yuyue.app:create_app()"
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *shlex.split(settings), app]
    with open(log, "wb") as output:
        server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
    try:
        wait_until_serving(port, server, log)
        yield port, server, log
    finally:
        stop(server)


def wait_until_serving(port: int, server: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", f"/api/v1/t/{TENANT}/booking-types")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {seconds:.0f} s")


def stop(process: subprocess.Popen, first: signal.Signals = signal.SIGTERM) -> None:
    """Signal the process group (TERM unless told), then KILL it if it lingers."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, first)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds each live process has used (``/proc/<pid>/stat``); gone processes are left out."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime and stime, fields 14 and 15 of stat(5)
    return used


def database_backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving the benchmark's database (none for SQLite, which runs inside the workers)."""
    if not url.startswith("postgresql"):
        return []
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            query = "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
            return list(connection.execute(text(query)).scalars())
    finally:
        engine.dispose()


@contextmanager
def cpu_used(url: str, server: subprocess.Popen) -> Iterator[dict[str, float]]:
    """CPU seconds used during the block by the gunicorn workers, the database's server processes and the client process.

    A server process that starts during the block counts from its start; one
    that ends during it is missed (the workers' pools keep theirs open).
    """
    workers, backends = cpu_seconds(worker_pids(server)), cpu_seconds(database_backends(url))
    client = resource.getrusage(resource.RUSAGE_CHILDREN)
    used: dict[str, float] = {}
    yield used
    after_client = resource.getrusage(resource.RUSAGE_CHILDREN)
    used["workers"] = sum(t - workers.get(pid, 0.0) for pid, t in cpu_seconds(worker_pids(server)).items())
    used["database"] = sum(t - backends.get(pid, 0.0) for pid, t in cpu_seconds(database_backends(url)).items())
    used["client"] = (after_client.ru_utime + after_client.ru_stime) - (client.ru_utime + client.ru_stime)


def worker_pids(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


# --- the client process ---------------------------------------------------------------


def client_main() -> int:
    """Read a plan from stdin, send every request with one keep-alive connection per thread, print the answers as JSON."""
    plan = json.load(sys.stdin)
    port, per_client = plan["port"], plan["requests"]
    origin: list[float] = []
    barrier = threading.Barrier(len(per_client), action=lambda: origin.append(time.perf_counter()))
    answers: list[tuple[float, float, int, str]] = []
    lock = threading.Lock()

    def client(number: int, requests: list[dict[str, Any]]) -> None:
        # An address per client, as guests on their own phones would be: a per-address limit then counts each apart.
        source = (f"127.0.{1 + number // 250}.{1 + number % 250}", 0)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=source)
        mine = []
        barrier.wait()
        for body in requests:
            before = time.perf_counter()
            try:
                connection.request("POST", f"/api/v1/t/{TENANT}/bookings", json.dumps(body), {"Content-Type": "application/json"})
                response = connection.getresponse()
                payload = response.read()
                status = response.status
                code = (
                    "created" if status == 201 else str(json.loads(payload).get("code")) if payload.startswith(b"{") else payload[:200].decode(errors="replace")
                )
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                status, code = 0, f"{type(error).__name__}: {error}"
            after = time.perf_counter()
            mine.append((after - before, after, status, code))
        connection.close()
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=client, args=(number, requests)) for number, requests in enumerate(per_client)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    json.dump({"origin": origin[0], "answers": answers}, sys.stdout)
    return 0


def drive(port: int, per_client: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Run the client process on the plan and summarise its answers."""
    plan = json.dumps({"port": port, "requests": per_client})
    done = subprocess.run([sys.executable, __file__, "--client"], input=plan, capture_output=True, text=True, check=True)
    measured = json.loads(done.stdout)
    answers, origin = measured["answers"], measured["origin"]
    latencies = sorted(latency for latency, *_ in answers)
    created = [finished for _, finished, status, _ in answers if status == 201]
    wall = max(finished for _, finished, _, _ in answers) - origin
    outcomes = Counter(f"{status} {code}" for _, _, status, code in answers)
    return {
        "requests": len(answers),
        "created": len(created),
        "bookings_per_s": len(created) / wall,
        "wall_s": wall,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "server_errors": sum(1 for _, _, status, _ in answers if status >= 500 or status == 0),
        "outcomes": dict(outcomes.most_common()),
    }


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def spread_plan(total: int, clients: int) -> list[list[dict[str, Any]]]:
    """``total`` bookings on ``total`` different 5-minute slots from two days ahead, each for a new phone, dealt round-robin."""
    per_day = (20 - 8) * 60 // SLOT_MINUTES
    day = first_day()
    bodies = []
    for n in range(total):
        start = datetime.combine(day + timedelta(days=n // per_day), clock(8), ZONE) + timedelta(minutes=SLOT_MINUTES * (n % per_day))
        bodies.append({"booking_type": "spread", "starts_at": start.isoformat(), "phone": f"139{n:08d}", "answers": {"name": "Rush"}})
    return [bodies[i::clients] for i in range(clients)]


def rush_plan(per_client: int, clients: int) -> list[list[dict[str, Any]]]:
    start = datetime.combine(first_day() + timedelta(days=5), clock(9), ZONE).isoformat()
    body = {"booking_type": "rush", "starts_at": start, "answers": {"name": "Rush"}}
    return [[{**body, "phone": f"137{c * per_client + i:08d}"} for i in range(per_client)] for c in range(clients)]


@contextmanager
def profiled(server: subprocess.Popen, folder: str, seconds: int) -> Iterator[Path | None]:
    """``py-spy record`` of one worker while the block runs; the raw profile's path, or None if no worker was found."""
    pids = worker_pids(server)
    if not pids:
        yield None
        return
    output = Path(folder) / f"worker-{pids[0]}.txt"
    recorder = subprocess.Popen(
        [str(PY_SPY), "record", "--pid", str(pids[0]), "--duration", str(seconds), "--format", "raw", "--output", str(output), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        yield output
    finally:
        stop(recorder, signal.SIGINT)  # py-spy writes what it sampled on SIGINT; TERM would lose it


def hot_frames(raw: Path, top: int = 12) -> list[str]:
    """The functions holding the most samples (self and inclusive) in a py-spy ``raw`` (collapsed stacks) file."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    share = [f"{100 * n / total:.0f}% incl  {frame}" for frame, n in inclusive.most_common(60)]
    return [f"{100 * n / total:.0f}% self  {frame}" for frame, n in own.most_common(top)] + share


# --- one database ---------------------------------------------------------------------


def measure(name: str, settings: str, quick: bool, profile: bool, rate_limits: bool = False) -> dict[str, Any]:
    spread_total = 600 if quick else 3000
    rush_per_client = 6 if quick else 10
    with DATABASES[name]() as (url, folder):
        app, version = seed(url, folder)
        with gunicorn(url, folder, settings, rate_limits) as (port, server, log):
            drive(port, spread_plan(40, 4))  # warm every worker: imports, pools, caches
            with profiled(server, folder, 15) if profile else nullcontext() as flame, cpu_used(url, server) as cpu:
                spread = drive(port, spread_plan(spread_total, SPREAD_CLIENTS))
            spread["cpu_ms_per_request"] = {part: seconds * 1000 / max(spread["requests"], 1) for part, seconds in cpu.items()}
            print(f"  spread: {one_line(spread)}", flush=True)
            with cpu_used(url, server) as cpu:
                rush = drive(port, rush_plan(rush_per_client, RUSH_CLIENTS))
            rush["cpu_ms_per_request"] = {part: seconds * 1000 / max(rush["requests"], 1) for part, seconds in cpu.items()}
            print(f"  rush:   {one_line(rush)}", flush=True)
            time.sleep(0.5)
            locked = log.read_text(errors="replace").count("database is locked")
            if flame is not None and flame.exists():
                print("  profile of one worker during spread:\n    " + "\n    ".join(hot_frames(flame)), flush=True)
        # The spread warm-up used other slots; the rush slot saw only the rush.
        rush["database"] = rush_outcome(app)
    rush["database_is_locked"] = locked + sum(n for outcome, n in rush["outcomes"].items() if "database is locked" in outcome)
    outcomes = Counter(rush["outcomes"])
    rush["exact"] = (
        rush["database"]["taken"] == RUSH_CAPACITY
        and rush["database"]["confirmed"] == RUSH_CAPACITY
        and outcomes["201 created"] == RUSH_CAPACITY
        and outcomes["409 slot_full"] == rush["requests"] - RUSH_CAPACITY
        and rush["server_errors"] == 0
        and rush["database_is_locked"] == 0
    )
    return {"version": version, "spread": spread, "rush": rush}


@contextmanager
def nullcontext() -> Iterator[None]:
    yield None


def one_line(result: dict[str, Any]) -> str:
    cpu = ", ".join(f"{part} {ms:.1f}" for part, ms in result["cpu_ms_per_request"].items())
    return (
        f"{result['created']}/{result['requests']} created, {result['bookings_per_s']:.0f} bookings/s, "
        f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, CPU ms per request: {cpu}, outcomes {result['outcomes']}"
    )


# --- the report -----------------------------------------------------------------------


def section(measured: dict[str, Any], context: dict[str, Any]) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import report

    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    before, after = context["load"]
    facts = {
        **report.machine(),
        **{f"{names[name]} version": result["version"] for name, result in measured.items()},
        "Date": context["started"].strftime("%Y-%m-%d %H:%M %Z"),
        "Command": f"`{context['command']}`",
        "gunicorn": f"`{context['gunicorn']}`, `YUYUE_RATELIMIT_ENABLED={int(context['rate_limits'])}`, 127.0.0.1",
        "Load average (1, 5, 15 min)": f"{', '.join(f'{x:.2f}' for x in before)} before, {', '.join(f'{x:.2f}' for x in after)} after",
    }
    rows = []
    for name, result in measured.items():
        for scenario, label in (
            ("spread", f"(a) {SPREAD_CLIENTS} clients, many slots"),
            ("rush", f"(b) {RUSH_CLIENTS} clients, one slot of {RUSH_CAPACITY:,}"),
        ):
            r = result[scenario]
            rows.append(
                [
                    names[name],
                    label,
                    str(r["requests"]),
                    str(r["created"]),
                    f"{r['bookings_per_s']:.0f}",
                    f"{r['p50_ms']:.0f}",
                    f"{r['p99_ms']:.0f}",
                    *(f"{r['cpu_ms_per_request'][part]:.1f}" for part in ("workers", "database", "client")),
                    str(r["server_errors"]),
                ]
            )
    verdicts = []
    if "postgresql" in measured:
        spread = measured["postgresql"]["spread"]
        met = spread["bookings_per_s"] >= TARGET_RATE and spread["p99_ms"] <= TARGET_P99_MS
        verdicts.append(
            f"- Target (a), PostgreSQL ≥ {TARGET_RATE} bookings/s with p99 ≤ {TARGET_P99_MS} ms: "
            + ("**met**" if met else "**not met**")
            + f" ({spread['bookings_per_s']:.0f} bookings/s, p99 {spread['p99_ms']:.0f} ms)."
        )
    for name, result in measured.items():
        rush = result["rush"]
        database = rush["database"]
        verdicts.append(
            f"- Target (b) on {names[name]}, exactly {RUSH_CAPACITY:,} confirmed and every other answer a 409 `slot_full`, no 5xx, "
            f'no "database is locked": '
            + ("**met**" if rush["exact"] else "**not met**")
            + f" (database: `taken` {database['taken']}, {database['confirmed']} confirmed bookings; answers: "
            + ", ".join(f"{n} × {outcome}" for outcome, n in rush["outcomes"].items())
            + f'; "database is locked" {rush["database_is_locked"]}).'
        )
    parts = [
        START,
        "## Booking rush over HTTP",
        "Measured by `bench/booking_rush.py`, which rewrites this section; `bench/run.py` keeps it. "
        "gunicorn serves the application from a fresh database; a client process of its own sends "
        "`POST /api/v1/t/<tenant>/bookings` for guests (a new phone every request) from threads with "
        "keep-alive connections, all starting together. Bookings/s counts 201 answers from the start to the last answer; "
        "latency is per request as the client sees it. (a) spreads its bookings over as many 5-minute slots; "
        f"(b) sends {RUSH_CLIENTS} clients at one slot of {RUSH_CAPACITY:,} places with more requests than places, "
        "then reads the slot's inventory row and its confirmed bookings from the database. "
        "*CPU ms/request* is the CPU time (user + system, from `/proc/<pid>/stat`) the gunicorn workers, the database's "
        "server processes (PostgreSQL only; SQLite runs inside the workers) and the client process used during the scenario, "
        "divided by its requests: unlike the rates it hardly depends on what else the machine is doing, and "
        "2 cores × 1,000 ÷ their sum is the most requests per second this machine could serve.",
        report.table(["", ""], [[key, value] for key, value in facts.items()]),
        report.table(
            ["database", "scenario", "requests", "201", "bookings/s", "p50 ms", "p99 ms", "CPU ms/request: workers", "database", "client", "5xx or no answer"],
            rows,
        ),
        "\n".join(verdicts),
        context.get("notes", "").strip(),
        END,
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def write_section(text: str, path: Path = PERFORMANCE, start: str = START, end: str = END) -> None:
    """Replace the block of ``path`` between the ``start`` and ``end`` markers, or append it when there is none yet."""
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in current and end in current:
        head, _, rest = current.partition(start)
        _, _, tail = rest.partition(end)
        current = head.rstrip("\n") + "\n\n" + text + tail.lstrip("\n")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    path.write_text(current, encoding="utf-8")


def previous_notes(path: Path = PERFORMANCE) -> str:
    """The hand-written profile notes of the block (from the ``### Where the time goes`` heading to the end marker), kept across runs."""
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    block = current.partition(START)[2].partition(END)[0]
    heading = "### Where the time goes"
    return heading + block.partition(heading)[2].rstrip() if heading in block else ""


def main(argv: list[str]) -> int:
    if argv[:1] == ["--client"]:
        return client_main()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="fewer requests: 600 spread bookings, 6 requests per rushing client")
    parser.add_argument("--gunicorn", default=GUNICORN, help=f"gunicorn worker options (default: {GUNICORN!r})")
    parser.add_argument("--profile", action="store_true", help="py-spy one worker during (a) and print its hottest frames")
    parser.add_argument("--no-write", action="store_true", help="print the figures, leave docs/performance.md alone")
    parser.add_argument("--rate-limits", action="store_true", help="count every booking against the booking limit (raised so none is refused), as served")
    args = parser.parse_args(argv)
    if args.profile and not PY_SPY.exists():
        parser.error(f"--profile needs py-spy at {PY_SPY} (pip install -r requirements-dev.txt)")
    command = shlex.join(["python", "bench/booking_rush.py", *argv])
    started, load_before = datetime.now().astimezone(), os.getloadavg()
    measured = {}
    for name in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        print(f"{name} ({args.gunicorn}):", flush=True)
        measured[name] = measure(name, args.gunicorn, args.quick, args.profile, args.rate_limits)
    context = {
        "command": command,
        "started": started,
        "load": (load_before, os.getloadavg()),
        "gunicorn": args.gunicorn,
        "rate_limits": args.rate_limits,
        "notes": previous_notes(),
    }
    if not args.no_write:
        write_section(section(measured, context))
        print(f"wrote {PERFORMANCE}")
    return 0 if all(result["rush"]["exact"] for result in measured.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
