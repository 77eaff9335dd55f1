"""Real receivers on loopback for the outbox tests: an SMTP server (aiosmtpd) and an HTTP server, each keeping what it accepted.

Imported by name (``from outbox_receivers import …``): test folders are not packages.
"""

from __future__ import annotations

import email
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What a receiver accepted: one entry per message, in arrival order, keyed by its message id."""

    received: list[tuple[str, dict]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, message_id: str, details: dict) -> None:
        with self.lock:
            self.received.append((message_id, details))

    def __len__(self) -> int:
        with self.lock:
            return len(self.received)

    def repeated(self) -> dict[str, int]:
        """Message ids received more than once, with their counts."""
        with self.lock:
            counts = Counter(message_id for message_id, _ in self.received)
        return {message_id: n for message_id, n in counts.items() if n > 1}

    def details(self) -> list[dict]:
        with self.lock:
            return [details for _, details in self.received]


class _MailHandler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.inbox.add(str(message["Message-ID"]), {"subject": str(message["Subject"]), "to": list(envelope.rcpt_tos), "message": message})
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    """An SMTP server on a free port of 127.0.0.1 that accepts every message."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(_MailHandler(inbox), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@contextmanager
def http_receiver(status: int = 204) -> Iterator[tuple[str, Inbox]]:
    """An HTTP server on loopback answering every POST with ``status``; the inbox is keyed by the ``webhook-id`` header."""
    inbox = Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            inbox.add(str(self.headers.get("webhook-id")), {"path": self.path, "headers": dict(self.headers), "body": json.loads(body or b"null")})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/events", inbox
    finally:
        server.shutdown()
        server.server_close()


# --- the receivers as a process of their own -----------------------------------------------------
#
# The crash test kills the worker at moments it picks by watching what arrived. Watched from a thread
# of the test's own process, the kill would wait for that process's GIL, which a receiver thread drops
# right after answering a message: kills would cluster just after acknowledgements, exactly in the
# window the test measures. In a process of their own the receivers cannot bias the moment; they log
# each message once they have acknowledged it (the "250" is sent, the HTTP response is written).


class _AcknowledgedMail:
    def __init__(self, log) -> None:
        self.log = log

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        import asyncio

        message = email.message_from_bytes(envelope.content, policy=policy.default)
        line = json.dumps({"id": str(message["Message-ID"]), "subject": str(message["Subject"])})
        # Runs after the reply below has been handed to the socket.
        asyncio.get_running_loop().call_soon(self.log, line)
        return "250 Message accepted for delivery"


def _appender(path: str):
    import os

    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    lock = threading.Lock()

    def append(line: str) -> None:
        with lock:
            os.write(fd, (line + "\n").encode())

    return append


def serve_in_this_process(mail_log: str, post_log: str, nice: int = 0) -> None:
    """Run both receivers until stdin closes, ``nice`` added to this process's niceness; print ``{"smtp_port", "http_url"}`` once they listen."""
    import os
    import sys

    if nice:
        os.nice(nice)
    log_mail, log_post = _appender(mail_log), _appender(post_log)
    port = free_port()
    controller = Controller(_AcknowledgedMail(log_mail), hostname="127.0.0.1", port=port)
    controller.start()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.wfile.flush()
            log_post(json.dumps({"id": str(self.headers.get("webhook-id")), "body": json.loads(body or b"null")}))

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"smtp_port": port, "http_url": f"http://127.0.0.1:{server.server_address[1]}/events"}), flush=True)
    sys.stdin.read()  # until the test closes our stdin
    server.shutdown()
    controller.stop()


@dataclass
class LoggedInbox:
    """What a receiver process acknowledged, read back from its log: one message id per line."""

    path: str

    def ids(self) -> list[str]:
        try:
            with open(self.path, encoding="utf-8") as log:
                return [json.loads(line)["id"] for line in log if line.endswith("\n")]
        except FileNotFoundError:
            return []

    def __len__(self) -> int:
        try:
            with open(self.path, "rb") as log:
                return log.read().count(b"\n")
        except FileNotFoundError:
            return 0

    def repeated(self) -> dict[str, int]:
        return {message_id: n for message_id, n in Counter(self.ids()).items() if n > 1}


@contextmanager
def receivers_process(folder, nice: int = 0) -> Iterator[tuple[int, str, LoggedInbox, LoggedInbox]]:
    """Both receivers in a child process (at ``nice``: 19 makes them yield the CPU to everything else): the SMTP port, the HTTP URL, and their inboxes."""
    import subprocess
    import sys
    from pathlib import Path

    mail_log, post_log = str(Path(folder) / "mail.jsonl"), str(Path(folder) / "posts.jsonl")
    child = subprocess.Popen(
        [sys.executable, __file__, mail_log, post_log, str(nice)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        ready = json.loads(child.stdout.readline())
        yield ready["smtp_port"], ready["http_url"], LoggedInbox(mail_log), LoggedInbox(post_log)
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        child.stdout.close()


if __name__ == "__main__":
    import sys

    serve_in_this_process(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
