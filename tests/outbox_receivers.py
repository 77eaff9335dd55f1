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
