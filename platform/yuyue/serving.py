"""How ``yuyue serve`` and ``yuyue demo`` run gunicorn, with a worker that answers what it refuses as problem documents
and a logger that writes gunicorn's lines, the access line of each request included, as yuyue's (docs/logging.md).

gunicorn reads the request line and headers itself and refuses some requests
before the application sees them: a request line or header too long, too many
headers, a NUL or another character a header may not hold. Its own answer is an
HTML page; :class:`ProblemSyncWorker` answers the same statuses as
``application/problem+json`` with a stable ``code``, like every other API error
(``api/problems.py``).
"""

from __future__ import annotations

import json
import sys
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gunicorn import util
from gunicorn.glogging import Logger
from gunicorn.http import errors
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.sync import SyncWorker

from yuyue.api.problems import problem_document
from yuyue.observability import logs

__all__ = ["ProblemSyncWorker", "StructuredLogger", "gunicorn_command", "refusal_for"]

WORKER_CLASS = "yuyue.serving.ProblemSyncWorker"
LOGGER_CLASS = "yuyue.serving.StructuredLogger"
# Sets up the workers' shared metrics folder (PROMETHEUS_MULTIPROC_DIR) and marks a dead worker in it (docs/metrics.md).
GUNICORN_CONFIG = "python:yuyue.observability.gunicorn_config"


def gunicorn_command(bind: str, workers: int) -> list[str]:
    """The gunicorn command line that serves yuyue: ``workers`` sync workers of :class:`ProblemSyncWorker` on ``bind``."""
    return [
        sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG, "--bind", bind, "--workers", str(workers),
        "--worker-class", WORKER_CLASS, "--access-logfile", "-", "--logger-class", LOGGER_CLASS,
        "yuyue.app:create_app()",
    ]  # fmt: skip


@dataclass(frozen=True)
class Refusal:
    """What the server answers for a request it could not read: a status, a problem ``code`` and a sentence for the client."""

    status: int
    code: str
    detail: str

    @property
    def client_error(self) -> bool:
        return self.status < 500


def refusal_for(error: BaseException, cfg: Any) -> Refusal:
    """The answer to ``error``, raised while gunicorn read a request; ``cfg`` holds the limits it applies."""
    # The application sent a bad header: its fault, not the client's (checked first, they subclass the request-header errors).
    if isinstance(error, (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName)):
        return Refusal(500, "internal_error", "the server failed to answer this request")
    if isinstance(error, errors.LimitRequestLine):
        return Refusal(414, "request_line_too_long", f"the request line (method, path and query) may be at most {cfg.limit_request_line} bytes")
    if isinstance(error, errors.LimitRequestHeaders):
        return Refusal(
            431,
            "request_headers_too_large",
            f"a request may carry at most {cfg.limit_request_fields} headers, each at most {cfg.limit_request_field_size} bytes",
        )
    if isinstance(error, (errors.InvalidHeader, errors.InvalidHeaderName, errors.ObsoleteFolding)):
        return Refusal(400, "invalid_header", "a header is malformed or holds a character headers may not carry (such as NUL)")
    if isinstance(error, (errors.InvalidRequestLine, errors.InvalidRequestMethod, errors.InvalidHTTPVersion)):
        return Refusal(400, "invalid_request_line", "the request line is not METHOD TARGET HTTP/1.x")
    if isinstance(error, errors.UnsupportedTransferCoding):
        return Refusal(501, "unsupported_transfer_coding", "the only transfer coding the server reads is chunked")
    if isinstance(error, errors.ExpectationFailed):
        return Refusal(417, "expectation_failed", "the server meets no expectation but 100-continue")
    if isinstance(error, (errors.InvalidChunkSize, errors.ChunkMissingTerminator, errors.InvalidChunkExtension)):
        return Refusal(400, "invalid_chunked_body", "the chunked request body is malformed")
    if isinstance(error, errors.ConfigurationProblem):
        return Refusal(500, "internal_error", "the server failed to answer this request")
    if isinstance(error, errors.ParseException):  # the proxy protocol, scheme headers, and whatever a later gunicorn adds
        return Refusal(400, "bad_request", "the server could not read this request")
    return Refusal(500, "internal_error", "the server failed to answer this request")


def problem_bytes(refusal: Refusal, request_id: str) -> bytes:
    """A whole HTTP/1.1 response carrying ``refusal`` as a problem document; the connection closes after it."""
    document = problem_document(refusal.status, refusal.code, refusal.detail, extensions={"request_id": request_id})
    body = json.dumps(document).encode()
    head = [
        f"HTTP/1.1 {refusal.status} {document['title']}", "Connection: close", "Content-Type: application/problem+json",
        f"Content-Length: {len(body)}", f"{logs.REQUEST_ID_HEADER}: {request_id}",
    ]  # fmt: skip
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class ProblemSyncWorker(SyncWorker):
    """gunicorn's sync worker, answering the requests it refuses (and its own failures) with problem documents.

    Logging follows gunicorn's: a warning for a client's mistake, the traceback
    for anything else, and an access-log line when the request line was read.
    """

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        started = datetime.now()
        addr = addr or ("", -1)  # a unix socket has no peer address
        refusal = refusal_for(exc, self.cfg)
        req = req or getattr(exc, "req", None)
        headers = dict((name.upper(), value) for name, value in getattr(req, "headers", None) or [])
        request_log = logs.RequestLog(logs.sane_request_id(headers.get("X-REQUEST-ID")) or logs.new_request_id())
        if refusal.client_error:
            self.log.warning("Invalid request from ip=%s: %s", addr[0], exc, extra={"request_id": request_log.request_id})
        else:
            uri = getattr(req, "uri", "(no URI read)")
            self.log.exception("Error handling request %s %s", getattr(req, "method", ""), uri, extra={"request_id": request_log.request_id})
        answer = problem_bytes(refusal, request_log.request_id)
        if req is not None and hasattr(req, "headers"):
            environ = default_environ(req, client, self.cfg)
            environ[logs.ENVIRON_KEY] = request_log
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
            response = Response(req, client, self.cfg)
            response.status = answer.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")[2]
            response.response_length = len(answer.partition(b"\r\n\r\n")[2])
            self.log.access(response, req, environ, datetime.now() - started)
        try:
            util.write_nonblock(client, answer)
        except Exception:
            self.log.debug("Failed to send error message.")


class StructuredLogger(Logger):
    """gunicorn's logger writing yuyue's way: JSON lines (or text, ``YUYUE_LOG_FORMAT``), redacted, at ``YUYUE_LOG_LEVEL``.

    Its error log, the root logger the application logs to, and an access line per request carrying the request id,
    the tenant, the route template, method, path, status, duration and the client's address, which the application
    put into the WSGI environ (:class:`yuyue.observability.logs.RequestIds`). The line's ``message`` is gunicorn's
    ``--access-logformat``. Given a logging configuration of its own (``--log-config-dict`` and the like), gunicorn
    logs as that says instead.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if cfg.logconfig_dict or cfg.logconfig_json or cfg.logconfig:
            return
        settings = logs.configure_logging(logs.log_settings(), stream=sys.stderr)
        self.error_log.setLevel(settings.level)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    logs.dress_handler(handler, settings)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        try:
            self.access_log.info(
                self.cfg.access_log_format,
                self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time)),
                extra=access_fields(resp, environ, request_time),
            )
        except Exception:
            self.error(traceback.format_exc())


def access_fields(resp: Any, environ: dict[str, Any], request_time: timedelta) -> dict[str, Any]:
    """The fields of a request's access line; the tenant only when its URL names one."""
    entry = logs.request_log(environ)
    status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
    fields = {
        "request_id": entry.request_id if entry else None,
        "tenant": entry.tenant if entry else None,
        "route": entry.route if entry else None,
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "status": int(status) if str(status).isdecimal() else status,
        "duration_ms": round(request_time.total_seconds() * 1000, 3),
        "remote_addr": environ.get("REMOTE_ADDR"),
        "bytes": getattr(resp, "sent", None),
    }
    return {name: value for name, value in fields.items() if value is not None}
