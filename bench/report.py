"""The benchmark report: the machine it ran on and a Markdown table per scenario, with ratios."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Sections other benchmarks write into the same file, between <!-- NAME:start --> and <!-- NAME:end -->.
KEPT_SECTIONS = ("booking_rush", "slot_page", "outbox_drain")


def server_version(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return sqlite3.sqlite_version
    with engine.connect() as connection:
        return connection.execute(text("SHOW server_version")).scalar_one()


def machine() -> dict[str, str]:
    cpuinfo = open("/proc/cpuinfo", encoding="utf-8").read()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), platform.processor())
    memory_kb = next(int(line.split()[1]) for line in open("/proc/meminfo", encoding="utf-8") if line.startswith("MemTotal"))
    return {
        "CPU": model,
        "Cores": str(os.cpu_count()),
        "RAM": f"{memory_kb / 1024 / 1024:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_version()} ({sys.implementation.name})",
    }


def number(value: float) -> str:
    if value != value:  # NaN: the run never got that far
        return "—"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def median(summary: dict[str, Any], key: str) -> str:
    return number(summary[key][0])


def spread(summary: dict[str, Any], key: str) -> str:
    _, low, high = summary[key]
    return f"{number(low)}–{number(high)}"


def ratio(top: float, bottom: float) -> str:
    return f"{top / bottom:.2f}×" if bottom else "—"


def one_line(result: dict[str, Any]) -> str:
    return ", ".join(f"{key} {number(value) if isinstance(value, float) else value}" for key, value in result.items())


def all_results(database: dict[str, Any]) -> list[dict[str, Any]]:
    return [*database["contended"].values(), database["flash"], database["processes"], database["availability"]]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])


def errors(summary: dict[str, Any]) -> str:
    kinds = summary.get("error_kinds") or []
    return str(summary["errors"]) + (f" ({'; '.join(kinds)[:200]})" if kinds else "")


def render(measured: dict[str, Any], context: dict[str, Any]) -> str:
    ran = {name: result for name, result in measured.items() if "skipped" not in result}
    plan, clients, processes = context["plan"], context["clients"], context["processes"]
    (before, after) = context["load"]
    facts = {
        **machine(),
        **{f"{NAMES[name]} version": result["version"] for name, result in ran.items()},
        **{f"{NAMES[name]}": f"skipped: {result['skipped']}" for name, result in measured.items() if "skipped" in result},
        "Date": context["started"].strftime("%Y-%m-%d %H:%M %Z"),
        "Command": f"`{context['command']}`",
        "Runs per scenario": str(plan["runs"]) + (" (`--quick`)" if plan["runs"] < 5 else ""),
        "Load average (1, 5, 15 min)": f"{', '.join(f'{x:.2f}' for x in before)} before, {', '.join(f'{x:.2f}' for x in after)} after",
    }
    parts = [
        "# Performance",
        "Measured by `bench/run.py`, which rewrites this file; do not edit it by hand. "
        "Every number is the median of the runs; *spread* is the lowest and highest run. "
        "The machine is shared and noisy, so compare medians and ratios, not single runs.",
        "## Machine",
        table(["", ""], [[key, value] for key, value in facts.items()]),
        "## How to read this",
        HOW_TO_READ.format(
            bookings=plan["bookings"],
            processes=processes,
            threads=clients[-1] // processes,
            cores=os.cpu_count(),
            calls=plan["availability_calls"],
        ),
    ]
    if len(ran) == 2:
        parts += ["## SQLite and PostgreSQL side by side", headline(ran["sqlite"], ran["postgresql"], clients)]
    for name, result in ran.items():
        parts += [f"## {NAMES[name]}", *scenario_tables(result, clients, processes, plan)]
    return "\n\n".join(parts) + "\n"


def with_kept_sections(rendered: str, previous: str) -> str:
    """``rendered`` followed by each marked section of ``previous`` (the file being replaced), so rewriting keeps them."""
    for name in KEPT_SECTIONS:
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        _, found, rest = previous.partition(start)
        if found and end in rest and start not in rendered:
            rendered = rendered.rstrip("\n") + "\n\n" + start + rest.partition(end)[0] + end + "\n"
    return rendered


def scenario_tables(result: dict[str, Any], clients: tuple[int, ...], processes: int, plan: dict[str, int]) -> list[str]:
    contended, flash, spread_over, listing = result["contended"], result["flash"], result["processes"], result["availability"]
    alone = contended[clients[0]]["bookings_per_s"][0]
    most = contended[clients[-1]]["bookings_per_s"][0]
    return [
        f"### Contended booking: {plan['bookings']} bookings of one slot with room for all",
        table(
            ["clients (threads)", "bookings/s", "spread", "p50 ms", "p99 ms", "errors", f"bookings/s vs {clients[0]} client"],
            [
                [
                    str(n),
                    median(s, "bookings_per_s"),
                    spread(s, "bookings_per_s"),
                    median(s, "p50_ms"),
                    median(s, "p99_ms"),
                    errors(s),
                    ratio(s["bookings_per_s"][0], alone),
                ]
                for n, s in contended.items()
            ],
        ),  # fmt: skip
        "### Flash sale: 64 threads racing for 20 places",
        table(
            ["sold out in ms", "spread", "all 64 answered in ms", "sold per run", "refused per run", "errors", "exactly 20 sold, every run"],
            [
                [
                    median(flash, "sold_out_ms"),
                    spread(flash, "sold_out_ms"),
                    median(flash, "all_answered_ms"),
                    median(flash, "sold"),
                    median(flash, "refused"),
                    errors(flash),
                    "yes" if flash["exactly_sold"] else "**NO**",
                ]
            ],
        ),  # fmt: skip
        f"### Processes: {processes} processes × {clients[-1] // processes} threads, {plan['bookings']} bookings of one slot",
        table(
            ["bookings/s", "spread", "p50 ms", "p99 ms", "errors", f"vs {clients[-1]} threads in one process"],
            [
                [
                    median(spread_over, "bookings_per_s"),
                    spread(spread_over, "bookings_per_s"),
                    median(spread_over, "p50_ms"),
                    median(spread_over, "p99_ms"),
                    errors(spread_over),
                    ratio(spread_over["bookings_per_s"][0], most),
                ]
            ],
        ),  # fmt: skip
        "### Availability: 31 days of hourly slots 08:00–20:00",
        table(
            ["slots listed", "inventory rows", "ms per call", "spread", "SQL statements per call"],
            [
                [
                    median(listing, "slots"),
                    median(listing, "inventory_rows"),
                    median(listing, "median_ms"),
                    spread(listing, "median_ms"),
                    median(listing, "statements"),
                ]
            ],
        ),  # fmt: skip
    ]


def headline(sqlite: dict[str, Any], postgresql: dict[str, Any], clients: tuple[int, ...]) -> str:
    few, many = clients[0], clients[-1]
    measures = [
        (f"bookings/s, {few} client", lambda r: r["contended"][few]["bookings_per_s"][0]),
        (f"bookings/s, {many} clients", lambda r: r["contended"][many]["bookings_per_s"][0]),
        (f"p99 ms, {many} clients", lambda r: r["contended"][many]["p99_ms"][0]),
        ("flash sale sold out in ms", lambda r: r["flash"]["sold_out_ms"][0]),
        ("bookings/s, processes", lambda r: r["processes"]["bookings_per_s"][0]),
        ("availability ms per call", lambda r: r["availability"]["median_ms"][0]),
        ("availability SQL statements", lambda r: r["availability"]["statements"][0]),
    ]
    rows = [[label, number(value(sqlite)), number(value(postgresql)), ratio(value(postgresql), value(sqlite))] for label, value in measures]
    return table(["median", "SQLite", "PostgreSQL", "PostgreSQL ÷ SQLite"], rows)


HOW_TO_READ = """\
A *booking* is one call of `yuyue.bookings.operations.book` for a new customer
(validation, policies, the conditional `UPDATE` that takes capacity, the booking,
its audit record and outbox event, commit) in a session of its own, as a request
would make it; no HTTP, no template. A *client* is a thread with its own
application context and session. Throughput counts confirmed bookings from the
common start to the last answer; latency is per booking and includes waiting for
a pooled connection (SQLAlchemy's default pool: 5 connections plus 10 overflow
per process) and, on SQLite, for the single write lock (`BEGIN IMMEDIATE`, 30 s
busy timeout). *Contended booking*: the fixed {bookings} bookings shared among the
clients, all on one slot, so every writer touches the same inventory row.
*Processes*: {processes} processes × {threads} threads, the same {bookings}
bookings, started together once every process has connected. *Availability*:
`list_availability` over 31 days of a booking type with hourly slots and a 7-day
release window, every third slot with an inventory row (some full); the
statement count is taken by a `before_cursor_execute` listener for one call,
and the time is the median of {calls} calls per run.

With {cores} cores, more clients cannot add throughput once the CPU is busy; what
concurrency should not do is fail or oversell. For context only — reported by
others, not measured here, and not the same workload — the project's domain notes
collect these from the peers' trackers: pretix serialises each quota behind an
advisory lock of about 48 ms, about 10 orders/s on 2 vCPU with a p99 of about
2.6 s at 20 clients on PostgreSQL, and on its default SQLite 59 % of concurrent
orders fail with "database is locked"; LibreBooking issues 1,000+ SQL queries for
an availability page with 110 resources; Cal.com availability pages take 10–40 s."""
