"""Outbox draining: ``yuyue worker`` delivering a burst of committed events to a loopback webhook receiver and SMTP server,
and what it costs the bookings served beside it.

    python bench/outbox_drain.py [--database sqlite|postgresql|both] [--quick] [--no-write]

For each database (fresh, as ``booking_rush.py`` makes them) it seeds the rush tenant, places one
booking over HTTP to have a real ``booking.confirmed`` payload, inserts a webhook endpoint (every
topic) pointing at an HTTP receiver and the tenant's email channel settings pointing at an aiosmtpd
server, both on 127.0.0.1 in this process, and commits 10,000 copies of the event (1,000 with
``--quick``). Then:

* *drain*: a ``yuyue worker`` process starts; events/s is the events fanned out divided by the time
  from the first delivery planned to the last one settled (delivered or dead), read from the
  events' and deliveries' own timestamps (the first event fanned out to the last delivery settled), so
  the worker's start-up is not counted;
* *bookings*: the booking rush's *spread* scenario (20 clients over HTTP against gunicorn), once
  with no worker and once while a worker drains another burst of the same size.

The figures go to ``docs/performance.md`` between the ``outbox_drain`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import report
from booking_rush import DATABASES, GUNICORN, PERFORMANCE, TENANT, drive, free_port, gunicorn, seed, spread_plan, stop, write_section

START, END = "<!-- outbox_drain:start -->", "<!-- outbox_drain:end -->"
SPREAD_CLIENTS = 20
WORKER_OPTIONS: list[str] = []


# --- receivers ------------------------------------------------------------------------------


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def add(self) -> None:
        with self.lock:
            self.count += 1


@contextmanager
def receivers() -> Iterator[tuple[str, int, Counter, Counter]]:
    """An HTTP receiver answering 204 and an SMTP server accepting everything, on 127.0.0.1; what each received."""
    from aiosmtpd.controller import Controller

    posts, mails = Counter(), Counter()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            posts.add()

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
            pass

    class Mail:
        async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
            mails.add()
            await asyncio.sleep(0)
            return "250 OK"

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    smtp_port = free_port()
    controller = Controller(Mail(), hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", smtp_port, posts, mails
    finally:
        controller.stop()
        server.shutdown()
        server.server_close()


# --- a relaying plugin ---------------------------------------------------------------------------
#
# Until the notices' email channel and the webhook endpoints deliver, a plugin implementing
# ``handle_event`` relays each event to both receivers (one POST, one email), as the crash test's
# plugins do; afterwards the endpoint and the channel settings below add their own deliveries.

RELAY = """
import json
import os
import smtplib
import urllib.request
from email.message import EmailMessage

from yuyue.plugin_api import hookimpl


@hookimpl
def handle_event(event):
    body = json.dumps({"event_id": event.id, "topic": event.topic, "payload": dict(event.payload)}, default=str).encode()
    request = urllib.request.Request(os.environ["BENCH_HTTP_URL"], data=body, headers={"Content-Type": "application/json", "webhook-id": event.message_id})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "bench@yuyue.test", "desk@rush.test", event.topic
    message["Message-ID"] = f"<{event.message_id}@yuyue.test>"
    message.set_content(f"event {event.id}")
    smtp = smtplib.SMTP("127.0.0.1", int(os.environ["BENCH_SMTP_PORT"]), timeout=10)
    try:
        smtp.send_message(message)
    finally:
        smtp.close()
"""
RELAY_PLUGIN = "bench_relay"


def install_relay(folder: str, hook_url: str, smtp_port: int) -> None:
    """The relaying plugin as pip would install it (a package and a dist-info with the entry point), on this process's and its children's path."""
    import importlib

    site = Path(folder) / "site-packages"
    (site / "yuyue_bench_relay").mkdir(parents=True)
    (site / "yuyue_bench_relay" / "__init__.py").write_text(RELAY)
    dist_info = site / "yuyue_bench_relay-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: yuyue-bench-relay\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(f"[yuyue.plugins]\n{RELAY_PLUGIN} = yuyue_bench_relay\n")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    os.environ["BENCH_HTTP_URL"], os.environ["BENCH_SMTP_PORT"] = hook_url, str(smtp_port)


# --- the database -----------------------------------------------------------------------------


def subscribe(app: Any, url: str, smtp_port: int) -> None:
    """The relaying plugin enabled; a webhook endpoint for every topic and the tenant's email channel, inserted with the contract's models."""
    from yuyue.db import db, tenant_scope, write_transaction
    from yuyue.events.models import ChannelSettings, WebhookEndpoint
    from yuyue.plugins import plugin_host
    from yuyue.provisioning.operations import enabled_plugins, get_tenant, set_tenant_plugins

    with app.app_context():
        tenant = get_tenant(db.session, TENANT)
        set_tenant_plugins(db.session, plugin_host(), TENANT, {**enabled_plugins(db.session, tenant), RELAY_PLUGIN: {}})
        tenant = get_tenant(db.session, TENANT)
        with tenant_scope(tenant.id), write_transaction(db.session):
            db.session.add(WebhookEndpoint(url=url, topics=["*"], secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", description="bench"))
            db.session.add(ChannelSettings(channel="email", config={"host": "127.0.0.1", "port": smtp_port, "from": "bench@yuyue.test"}))
        db.session.remove()


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


@contextmanager
def worker(url: str, folder: str) -> Iterator[subprocess.Popen]:
    env = {**os.environ, "YUYUE_DATABASE_URL": url, "YUYUE_INSTANCE_PATH": folder, "YUYUE_SECRET_KEY": "rush"}
    with open(Path(folder) / "worker.log", "ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "yuyue", "worker", *WORKER_OPTIONS], env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
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


def measure(name: str, quick: bool) -> dict[str, Any]:
    events = 1000 if quick else 10_000
    spread_total = 400 if quick else 2000
    with DATABASES[name]() as (url, folder), receivers() as (hook_url, smtp_port, posts, mails):
        install_relay(folder, hook_url, smtp_port)
        app, version = seed(url, folder)
        subscribe(app, hook_url, smtp_port)
        with gunicorn(url, folder, GUNICORN) as (port, server, _):
            drive(port, spread_plan(40, 4))  # warm the workers, and a real booking.confirmed to copy
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
                "posts": posts.count,
                "mails": mails.count,
            }
            print(f"  drain: {drain}", flush=True)
            # Bookings alone, then beside a worker draining a burst of the same size; each on slots of its own days.
            alone = drive(port, spread_plan(spread_total, SPREAD_CLIENTS))
            beside_first = burst(app, events)
            with worker(url, folder) as process:
                time.sleep(3)  # the worker's start-up, so the bookings meet it draining
                beside = drive(port, later_days(spread_plan(spread_total, SPREAD_CLIENTS), spread_total))
                during = drained(app, beside_first)
                state = wait_drained(app, beside_first, process, 1800)
        print(
            f"  bookings alone: {alone['bookings_per_s']:.0f}/s p99 {alone['p99_ms']:.0f} ms {alone['outcomes']}; "
            f"beside the worker: {beside['bookings_per_s']:.0f}/s p99 {beside['p99_ms']:.0f} ms {beside['outcomes']}",
            flush=True,
        )
    return {
        "version": version,
        "drain": drain,
        "alone": alone,
        "beside": beside,
        "still_waiting_when_bookings_ended": during["waiting"],
        "beside_settled": state["settled"],
    }


def later_days(plan: list[list[dict[str, Any]]], offset: int) -> list[list[dict[str, Any]]]:
    """The same plan on other slots and phones, so the second run books no slot the first one took."""
    shifted = spread_plan(offset * 2, len(plan))
    return [requests[len(requests) // 2 :] for requests in shifted]


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
        alone, beside = result["alone"], result["beside"]
        change = 100 * (beside["bookings_per_s"] / alone["bookings_per_s"] - 1)
        booking_rows.append(
            [
                names[name],
                f"{alone['bookings_per_s']:.0f}",
                f"{alone['p99_ms']:.0f}",
                f"{beside['bookings_per_s']:.0f}",
                f"{beside['p99_ms']:.0f}",
                f"{change:+.0f} %",
                str(alone["server_errors"] + beside["server_errors"]),
                f"{result['still_waiting_when_bookings_ended']:,}",
            ]
        )
    parts = [
        START,
        "## Outbox draining",
        "Measured by `bench/outbox_drain.py`, which rewrites this section. A burst of committed `booking.confirmed` events "
        "(copies of a real booking's) is drained by a `yuyue worker` process to a webhook endpoint (every topic) on an HTTP "
        "receiver and the tenant's email channel on an aiosmtpd server, both on 127.0.0.1. Events/s is events divided by the "
        "time from the first event fanned out to the last delivery settled, from the rows' timestamps. Until the email channel and "
        "the webhook endpoints deliver, a test plugin implementing `handle_event` relays every event to both receivers (one POST "
        "and one email per event, a new connection each). Then the booking rush's "
        f"*spread* scenario ({SPREAD_CLIENTS} clients over HTTP, gunicorn with `yuyue serve`'s workers) runs alone and beside a "
        "worker draining a second burst of the same size.",
        report.table(["", ""], [[key, value] for key, value in facts.items()]),
        report.table(["database", "events", "deliveries", "webhooks received", "emails received", "seconds", "events/s"], drain_rows),
        report.table(
            ["database", "bookings/s alone", "p99 ms", "bookings/s beside the worker", "p99 ms", "change", "5xx", "events still waiting at the end"],
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
    parser.add_argument("--worker", default="", help="options of `yuyue worker`, e.g. '--workers 2'")
    args = parser.parse_args(argv)
    WORKER_OPTIONS[:] = shlex.split(args.worker)
    command = shlex.join(["python", "bench/outbox_drain.py", *argv])
    started = datetime.now().astimezone()
    measured = {}
    for name in ["sqlite", "postgresql"] if args.database == "both" else [args.database]:
        print(f"{name}:", flush=True)
        measured[name] = measure(name, args.quick)
    if not args.no_write:
        write_section(section(measured, {"command": command, "started": started, "load": os.getloadavg(), "notes": previous_notes()}), start=START, end=END)
        print("wrote docs/performance.md")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main(sys.argv[1:]))
