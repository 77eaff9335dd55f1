"""Starting the real server (``yuyue serve`` with its default workers, on a fresh instance folder) and talking to it over TCP.

The database is ``yuyue.db`` in that folder, or, when ``YUYUE_TEST_DATABASE_URL``
names a PostgreSQL server, a database of its own there (``<name>_served_<random>``,
dropped afterwards).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url

from yuyue.app import create_app, normalize_database_url
from yuyue.cli import init_database, recommended_workers
from yuyue.db import db
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant
from yuyue.testing import on_database_server

ROOT = Path(__file__).resolve().parents[2]
TENANT = "served"
SECRET_KEY = "served-test-secret-key-of-32-bytes-or-more"
REDIS_URL = "redis://127.0.0.1:6379/7"
# Which worker answered, from whom: the access log says it when told how (GUNICORN_CMD_ARGS; `yuyue serve` sets no format).
ACCESS_LOG_FORMAT = "served-by %(p)s %(h)s %(s)s"
ACCESS_LINE = re.compile(r"served-by <(\d+)> (\S+) (\d+)")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path
    folder: Path
    environment: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: object = None, *, source: str = "127.0.0.1") -> Answer:
        """One request on a connection of its own from ``source`` (any 127.x.y.z address is this machine), so each may meet another worker."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(source, 0))
        try:
            payload = None if body is None else json.dumps(body)
            connection.request(method, path, payload, {"Content-Type": "application/json"} if payload else {})
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read())
        finally:
            connection.close()

    def send_raw(self, data: bytes) -> Answer:
        """``data`` as it is, on a new connection; the answer as read by an HTTP client."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as connection:
            connection.sendall(data)
            response = http.client.HTTPResponse(connection)
            response.begin()
            return Answer(response.status, response.headers, response.read())

    def worker_pids(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def answered_by(self, source: str) -> list[int]:
        """The worker that answered each request from ``source``, in order, from the access log."""
        return [int(pid) for pid, address, _ in ACCESS_LINE.findall(self.log.read_text(errors="replace")) if address == source]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served_database(folder: Path) -> Iterator[dict[str, str]]:
    """Environment naming the server's database, initialised with tenant ``served``; a PostgreSQL one is dropped afterwards."""
    test_url = os.environ.get("YUYUE_TEST_DATABASE_URL")
    if not test_url:
        url, environment, drop = f"sqlite:///{folder / 'yuyue.db'}", {}, None  # the default a first `yuyue serve` uses
    else:
        server_url = make_url(normalize_database_url(test_url))
        drop = server_url.set(database=f"{server_url.database}_served_{uuid.uuid4().hex[:8]}")  # each server a database of its own
        url = drop.render_as_string(hide_password=False)
        environment = {"YUYUE_DATABASE_URL": url}
        on_database_server(test_url, f'DROP DATABASE IF EXISTS "{drop.database}" WITH (FORCE)', f'CREATE DATABASE "{drop.database}"')
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(folder), "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        init_database()
        create_tenant(db.session, plugin_host(), slug=TENANT, name="Served")
        db.session.remove()
        db.engine.dispose()
    try:
        yield environment
    finally:
        if drop is not None:
            on_database_server(test_url, f'DROP DATABASE IF EXISTS "{drop.database}" WITH (FORCE)')


@contextmanager
def yuyue_serve(folder: Path, environment: dict[str, str]) -> Iterator[Server]:
    """``python -m yuyue serve --bind 127.0.0.1:PORT``, the default worker count, stopped (its process group) however the block ends."""
    port = free_port()
    log = folder / "serve.log"
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(("YUYUE_", "GUNICORN_"))}
    env = {
        **inherited,
        "YUYUE_INSTANCE_PATH": str(folder),
        "YUYUE_SECRET_KEY": SECRET_KEY,
        "GUNICORN_CMD_ARGS": f"--access-logformat '{ACCESS_LOG_FORMAT}'",
        **environment,
    }
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "yuyue", "serve", "--bind", f"127.0.0.1:{port}"],
            env=env, cwd=folder, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    server = Server(port, process, log, folder, environment)
    try:
        _wait_until_every_worker_serves(server)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_until_every_worker_serves(server: Server, seconds: float = 90) -> None:
    """Until each of the default number of workers has answered a request: one still loading the app takes none, so the first requests would all meet the others."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"yuyue serve exited with {server.process.returncode}:\n{server.log.read_text(errors='replace')[-3000:]}")
        try:
            workers = server.worker_pids()
            if len(workers) == recommended_workers() and server.request("GET", f"/api/v1/t/{TENANT}/booking-types").status == 200:
                if workers <= set(server.answered_by("127.0.0.1")):
                    return
                continue
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"not every worker of yuyue serve answered within {seconds:.0f} s:\n{server.log.read_text(errors='replace')[-3000:]}")
