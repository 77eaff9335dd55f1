"""Real receivers on loopback for the notification channels' tests: an SMTP server (aiosmtpd) and an HTTP server in a thread.

Imported by name (``from channel_receivers import …``): test folders are not packages.
Nothing here is a mock of yuyue: the channels talk SMTP and HTTP to these servers as
they would to a mail relay, an SMS gateway or WeChat.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files in ``folder``; the certificate is its own CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    authenticated_as: str | None

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=policy.default)  # type: ignore[return-value]


class _MailHandler:
    """Accepts mail for anyone but ``refused@…`` (550, for good) and ``busy@…`` (451, try later)."""

    def __init__(self, received: list[ReceivedMail], quit_reply: str | None = None) -> None:
        self.received = received
        self.quit_reply = quit_reply

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        return self.quit_reply or "221 Bye"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address.startswith("refused@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("busy@"):
            return "451 4.3.2 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content, login))
        return "250 Message accepted"


@dataclass
class SmtpReceiver:
    """An SMTP server on 127.0.0.1; with ``tls`` it offers STARTTLS and, with ``login``, requires AUTH (over TLS only).

    ``quit_reply`` replaces the ``221`` answer to QUIT (a server that misbehaves after it has taken the message).
    """

    tls: tuple[Path, Path] | None = None
    login: tuple[str, str] | None = None
    quit_reply: str | None = None
    received: list[ReceivedMail] = field(default_factory=list)
    port: int = 0

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and self.login is not None and (auth_data.login.decode(), auth_data.password.decode()) == self.login
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def __enter__(self) -> SmtpReceiver:
        self.port = free_port()
        options: dict[str, Any] = {}
        if self.tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self.tls)
            options.update(tls_context=context, require_starttls=True)
        if self.login:
            options.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=bool(self.tls))
        self._controller = Controller(_MailHandler(self.received, self.quit_reply), hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


# (request) → (status, JSON answer)
Answer = Callable[[ReceivedRequest], tuple[int, Any]]


class HttpReceiver:
    """An HTTP server on 127.0.0.1 in a thread: records each request and answers what ``answer`` says."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[ReceivedRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = ReceivedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                receiver.requests.append(request)
                status, answer = receiver.answer(request)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HttpReceiver:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
