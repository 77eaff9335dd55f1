"""Outbox draining: ``yuyue worker`` delivering a burst of committed events to a loopback webhook receiver and SMTP server,
and what it costs the bookings served beside it.

    python bench/outbox_drain.py [--database sqlite|postgresql|both] [--quick] [--no-write] [--worker-nice N]

For each database (fresh, as ``booking_rush.py`` makes them) it seeds the rush tenant, sets its email
channel (``host``, ``port``, ``security: none``, ``from_address``) to an aiosmtpd server and creates a
webhook endpoint (every topic) at an HTTP receiver, both on 127.0.0.1 in a process of their own at the
lowest CPU priority (``os.nice(19)``: they stand for other machines). It places 40 bookings over HTTP,
gives their customers an email address, and commits 10,000 copies of the last ``booking.confirmed``
(1,000 with ``--quick``): each is one email (rendered with its QR code and ``.ics``) and one signed
webhook, delivered for real. Then:

* *drain*: a ``yuyue worker`` process starts; events/s is the events fanned out divided by the time
  from the first delivery planned to the last one settled (delivered or dead), read from the
  events' and deliveries' own timestamps (the first event fanned out to the last delivery settled), so
  the worker's start-up is not counted;
* *bookings*: the booking rush's *spread* scenario (20 clients over HTTP against gunicorn), once
  with no worker and once while a worker drains another burst of the same size; with ``--worker-nice N``
  once more beside a worker started at niceness N (19: the lowest priority).

The figures go to ``docs/performance.md`` between the ``outbox_drain`` markers.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import report
from booking_rush import DATABASES, GUNICORN, PERFORMANCE, TENANT, drive, gunicorn, seed, spread_plan, stop, write_section

START, END = "<!-- outbox_drain:start -->", "<!-- outbox_drain:end -->"
SPREAD_CLIENTS = 20
WORKER_OPTIONS: list[str] = []


# --- receivers ---------------------------------------------------------------------------------
#
# The crash test's receivers (tests/outbox_receivers.py): an aiosmtpd server and an HTTP server answering
# 204, in a child process at niceness 19, each logging what it acknowledged. Lowest priority, because on a
# real installation they are other machines: they must not take the CPU from the bookings measured here.

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from outbox_receivers import LoggedInbox, receivers_process  # noqa: E402

RECEIVERS_NICE = 19
# The receivers are on loopback: the installation lets a tenant name them (set-up) and the worker reach them.
LOOPBACK_ENV = {"YUYUE_CHANNEL_PRIVATE_HOSTS": "1", "YUYUE_WEBHOOKS_ALLOW_HTTP": "1", "YUYUE_WEBHOOKS_ALLOW_PRIVATE": "1"}


@contextmanager
def receivers(folder: str) -> Iterator[tuple[str, int, LoggedInbox, LoggedInbox]]:
    """The HTTP receiver's URL, the SMTP port, and what each received (webhooks, emails)."""
    with receivers_process(folder, nice=RECEIVERS_NICE) as (smtp_port, url, mails, posts):
        yield url, smtp_port, posts, mails


# --- the database -----------------------------------------------------------------------------


def subscribe(app: Any, url: str, smtp_port: int) -> None:
    """The tenant's email channel at the SMTP server and a webhook endpoint for every topic, through their operations."""
    from yuyue.db import db, tenant_scope
    from yuyue.events.channel_settings import set_channel_settings
    from yuyue.events.webhooks import create_endpoint
    from yuyue.provisioning.operations import get_tenant

    app.config.update(CHANNEL_PRIVATE_HOSTS=True, WEBHOOKS_ALLOW_HTTP=True, WEBHOOKS_ALLOW_PRIVATE=True)
    with app.app_context():
        tenant = get_tenant(db.session, TENANT)
        with tenant_scope(tenant.id):
            email = {"host": "127.0.0.1", "port": smtp_port, "security": "none", "from_address": "bench@yuyue.test"}
            set_channel_settings(db.session, app, "email", config=email, actor="bench")
            create_endpoint(db.session, url=url, topics=["*"], description="bench", actor="bench", allow_http=True, allow_private=True)
        db.session.remove()


def give_emails(app: Any) -> int:
    """An email address in the preferences of every customer of the tenant, so each confirmation is mailed; how many."""
    from sqlalchemy import select

    from yuyue.customers.models import Customer
    from yuyue.db import db, tenant_scope
    from yuyue.notifying.preferences import set_preferences
    from yuyue.provisioning.operations import get_tenant

    with app.app_context():
        tenant = get_tenant(db.session, TENANT)
        with tenant_scope(tenant.id):
            customers = db.session.scalars(select(Customer)).all()
        for customer in customers:
            set_preferences(db.session, tenant, customer, email=f"customer{customer.id}@rush.test", actor="bench")
        db.session.remove()
    return len(customers)


def burst(app: Any, events: int) -> int:
    """Commit ``events`` copies of the latest ``booking.confirmed`` event (a real booking's payload) in batches of 1,000; the first new id."""
    from sqlalchemy import select

    from yuyue.db import db, tenant_scope, write_transaction
    from yuyue.events.models import OutboxEvent
    from yuyue.events.operations import emit
    from yuyue.provisioning.operations import get_tenant

    with app.app_context():
        tenant = get_tenant(db.session, TENANT)
        with tenant_scope(tenant.id):
            template = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "booking.confirmed").order_by(OutboxEvent.id.desc())).first()
            payload = dict(template.payload) if template else {}
            first = None
            for start in range(0, events, 1000):
                with write_transaction(db.session):
                    made = [emit(db.session, "booking.confirmed", payload) for _ in range(min(1000, events - start))]
                    db.session.flush()
                    first = first or made[0].id
        db.session.remove()
    return first


def drained(app: Any, since_event: int) -> dict[str, Any]:
    """Events from ``since_event`` still waiting, deliveries by status, and the span from the first planned to the last settled."""
    from sqlalchemy import func, select

    from yuyue.db import all_tenants, db
    from yuyue.events.models import Delivery, OutboxEvent

    with app.app_context(), all_tenants():
        waiting = db.session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.id >= since_event, OutboxEvent.delivered_at.is_(None)))
        ours = Delivery.event_id >= since_event
        by_status = dict(db.session.execute(select(Delivery.status, func.count()).where(ours).group_by(Delivery.status)).all())
        fanned = OutboxEvent.id >= since_event
        first = db.session.scalar(select(func.min(OutboxEvent.delivered_at)).where(fanned))
        last = max(
            filter(None, [db.session.scalar(select(func.max(OutboxEvent.delivered_at)).where(fanned)),
                          db.session.scalar(select(func.max(func.coalesce(Delivery.delivered_at, Delivery.next_attempt_at))).where(ours))]),
            default=None,
        )  # fmt: skip
        db.session.remove()
    return {"waiting": waiting, "by_status": {str(k.value): v for k, v in by_status.items()}, "first": first, "last": last}


def fanned_out_since(app: Any, started: datetime) -> int:
    """Events of any tenant fanned out from ``started`` on (the worker starts on the oldest waiting, which may predate its burst)."""
    from sqlalchemy import func, select

    from yuyue.db import all_tenants, db
    from yuyue.events.models import OutboxEvent

    with app.app_context(), all_tenants():
        count = db.session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.delivered_at >= started))
        db.session.remove()
    return count


@contextmanager
def worker(url: str, folder: str, nice: int = 0) -> Iterator[subprocess.Popen]:
    """``yuyue worker`` on the database; ``nice`` added to its niceness (19: it gets the CPU only when nothing else wants it)."""
    env = {**os.environ, **LOOPBACK_ENV, "YUYUE_DATABASE_URL": url, "YUYUE_INSTANCE_PATH": folder, "YUYUE_SECRET_KEY": "rush"}
    with open(Path(folder) / "worker.log", "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "yuyue", "worker", *WORKER_OPTIONS],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,  # noqa: PLW1509 - only os.nice, before exec
        )
    try:
        yield process
    finally:
        stop(process)


def wait_drained(app: Any, since_event: int, process: subprocess.Popen, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        state = drained(app, since_event)
        settled = state["waiting"] == 0 and not (set(state["by_status"]) & {"pending", "sending"})
        if settled or time.monotonic() > deadline or process.poll() is not None:
            return {**state, "settled": settled}
        time.sleep(0.5)


# --- one database ---------------------------------------------------------------------------


def measure(name: str, quick: bool, worker_nice: int | None, rounds: int) -> dict[str, Any]:
    events = 1000 if quick else 10_000
    spread_total = 400 if quick else 2000
    with DATABASES[name]() as (url, folder), receivers(folder) as (hook_url, smtp_port, posts, mails):
        app, version = seed(url, folder)
        subscribe(app, hook_url, smtp_port)
        with gunicorn(url, folder, GUNICORN) as (port, server, _):
            # Warm the workers, and a real booking.confirmed to copy; phones of their own, so the runs below meet no "already signed up".
            drive(port, [[{**body, "phone": "136" + body["phone"][3:]} for body in client] for client in spread_plan(40, 4)])
            give_emails(app)
            first = burst(app, events)
            with worker(url, folder) as process:
                state = wait_drained(app, first, process, 1800)
            span = (state["last"] - state["first"]).total_seconds() if state["first"] and state["last"] else None
            drain = {
                "events": events,
                "deliveries": state["by_status"],
                "settled": state["settled"],
                "seconds": span,
                "events_per_s": events / span if span else None,
                "posts": len(posts),
                "mails": len(mails),
            }
            print(f"  drain: {drain}", flush=True)
            # Bookings alone, then beside a worker draining a burst of the same size (and beside one at lower priority),
            # alternated ``rounds`` times so that neither order nor the database's growth favours one; each run on slots and
            # phones of its own. The worker is stopped when the bookings end: what it left is counted.
            kinds = {"alone": None, "beside": 0} | ({"beside_nice": worker_nice} if worker_nice else {})
            runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
            shift = 0
            for _ in range(rounds):
                for kind, nice in kinds.items():
                    plan = later_days(spread_plan(spread_total, SPREAD_CLIENTS), spread_total, shift) if shift else spread_plan(spread_total, SPREAD_CLIENTS)
                    shift += 1
                    if nice is None:
                        measured = drive(port, plan)
                        runs[kind].append(measured)
                        print(f"  bookings alone: {summary(measured)}", flush=True)
                        continue
                    burst(app, events)
                    with worker(url, folder, nice=nice) as process:
                        time.sleep(3)  # the worker's start-up, so the bookings meet it draining
                        started = datetime.now(UTC)
                        measured = drive(port, plan)
                        fanned = fanned_out_since(app, started)
                    runs[kind].append({**measured, "nice": nice, "fanned": fanned})
                    print(f"  bookings beside the worker (nice {nice}): {summary(measured)}; events it fanned out meanwhile {fanned}", flush=True)
    return {"version": version, "drain": drain, **{kind: median_run(measured) for kind, measured in runs.items()}}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the runs of one kind, and every run's rate (to show the spread)."""
    figures = ("bookings_per_s", "p99_ms", "fanned")
    middle = {key: statistics.median(run[key] for run in runs) for key in figures if key in runs[0]}
    return {
        **runs[0],
        **middle,
        "rates": [run["bookings_per_s"] for run in runs],
        "server_errors": sum(run["server_errors"] for run in runs),
    }


def summary(run: dict[str, Any]) -> str:
    return f"{run['bookings_per_s']:.0f}/s p99 {run['p99_ms']:.0f} ms {run['outcomes']}"


def later_days(plan: list[list[dict[str, Any]]], offset: int, shift: int = 1) -> list[list[dict[str, Any]]]:
    """The same plan on other slots and phones (the ``shift``-th block of ``offset`` after the first), so no run books a slot another took."""
    shifted = spread_plan(offset * (shift + 1), len(plan))
    return [requests[len(requests) * shift // (shift + 1) :] for requests in shifted]


# --- the report ---------------------------------------------------------------------------------


def section(measured: dict[str, Any], context: dict[str, Any]) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    facts = {
        **report.machine(),
        **{f"{names[name]} version": result["version"] for name, result in measured.items()},
        "Date": context["started"].strftime("%Y-%m-%d %H:%M %Z"),
        "Command": f"`{context['command']}`",
        "Load average (1, 5, 15 min)": ", ".join(f"{x:.2f}" for x in context["load"]),
    }
    drain_rows, booking_rows = [], []
    for name, result in measured.items():
        drain = result["drain"]
        deliveries = ", ".join(f"{state} {n}" for state, n in sorted(drain["deliveries"].items())) or "none planned"
        rate = f"{drain['events_per_s']:.0f}" if drain["events_per_s"] else "-"
        drain_rows.append([names[name], f"{drain['events']:,}", deliveries, str(drain["posts"]), str(drain["mails"]), f"{drain['seconds'] or 0:.1f}", rate])
        alone = result["alone"]
        for key in ("beside", "beside_nice"):
            if key not in result:
                continue
            beside = result[key]
            change = 100 * (beside["bookings_per_s"] / alone["bookings_per_s"] - 1)
            booking_rows.append(
                [
                    names[name],
                    str(beside["nice"]),
                    f"{alone['bookings_per_s']:.0f}",
                    f"{alone['p99_ms']:.0f}",
                    f"{beside['bookings_per_s']:.0f}",
                    f"{beside['p99_ms']:.0f}",
                    f"{change:+.0f} %",
                    " / ".join(f"{rate:.0f}" for rate in alone["rates"]) + " · " + " / ".join(f"{rate:.0f}" for rate in beside["rates"]),
                    str(alone["server_errors"] + beside["server_errors"]),
                    f"{beside['fanned']:,.0f}",
                ]
            )
    parts = [
        START,
        "## Outbox draining",
        "Measured by `bench/outbox_drain.py`, which rewrites this section. A burst of committed `booking.confirmed` events "
        "(copies of a real booking's) is drained by a `yuyue worker` process to a webhook endpoint (every topic) on an HTTP "
        "receiver and the tenant's email channel on an aiosmtpd server, both on 127.0.0.1. Events/s is events divided by the "
        "time from the first event fanned out to the last delivery settled, from the rows' timestamps. Each event is delivered "
        "by the real subscribers: the notices mail the customer (text, HTML with the voucher's QR code, the `.ics`; a new SMTP "
        "connection each) and the endpoint gets a signed webhook. The receivers run in a process of their own at niceness "
        f"{RECEIVERS_NICE} (they stand for other machines). Then the booking rush's "
        f"*spread* scenario ({SPREAD_CLIENTS} clients over HTTP, gunicorn with `yuyue serve`'s workers) runs alone and beside a "
        "worker draining a second burst of the same size (stopped when the bookings end), and with `--worker-nice` beside one "
        "started at that niceness; the runs alternate (`--rounds` times) and the table shows their medians.",
        report.table(["", ""], [[key, value] for key, value in facts.items()]),
        report.table(["database", "events", "deliveries", "webhooks received", "emails received", "seconds", "events/s"], drain_rows),
        report.table(
            [
                "database",
                "worker's niceness",
                "bookings/s alone",
                "p99 ms",
                "bookings/s beside the worker",
                "p99 ms",
                "change (of the medians)",
                "each run, alone · beside (bookings/s)",
                "5xx",
                "events the worker fanned out during the bookings",
            ],
            booking_rows,
        ),
        context.get("notes", "").strip(),
        END,
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


NOTES_HEADING = "### Reading these figures"


def previous_notes() -> str:
    """The hand-written notes of the block (from its notes heading to the end marker), kept across runs."""
    current = PERFORMANCE.read_text(encoding="utf-8") if PERFORMANCE.exists() else ""
    block = current.partition(START)[2].partition(END)[0]
    return NOTES_HEADING + block.partition(NOTES_HEADING)[2].rstrip() if NOTES_HEADING in block else ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="1,000 events and 400 bookings instead of 10,000 and 2,000")
    parser.add_argument("--no-write", action="store_true", help="print the figures, leave docs/performance.md alone")
    parser.add_argument("--rounds", type=int, default=3, help="alone and beside runs alternated this many times; the table shows medians")
    parser.add_argument("--worker", default="", help="options of `yuyue worker`, e.g. '--workers 2'")
    parser.add_argument(
        "--worker-nice", type=int, default=None, metavar="N", help="also measure the bookings beside a worker started at niceness N (19: lowest)"
    )
    args = parser.parse_args(argv)
    WORKER_OPTIONS[:] = shlex.split(args.worker)
    command = shlex.join(["python", "bench/outbox_drain.py", *argv])
    started = datetime.now().astimezone()
    measured = {}
    for name in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        print(f"{name}:", flush=True)
        measured[name] = measure(name, args.quick, args.worker_nice, args.rounds)
    if not args.no_write:
        write_section(section(measured, {"command": command, "started": started, "load": os.getloadavg(), "notes": previous_notes()}), start=START, end=END)
        print("wrote docs/performance.md")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main(sys.argv[1:]))
