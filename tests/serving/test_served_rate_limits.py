"""Every documented rate limit holds exactly on the real server: N requests pass and the next is refused, whichever workers answer.

``yuyue serve`` starts 2 × cores + 1 workers; each request comes on a new
connection, so the workers share the requests between them. Counted in one
process's memory, each worker would let the whole limit through.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from limits import parse_many
from serving_setup import TENANT, Answer, Server

from yuyue.api.limits import DEFAULT_LIMITS

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Limited:
    """How to spend a limit: the request for the n-th try, from an address of its own so the limits do not meet."""

    path: str
    body: Callable[[int], dict]
    source: str
    passes: frozenset[tuple[int, str | None]]  # (status, problem code) the view answers while the limit lets requests through


LIMITED = {
    "RATELIMIT_AUTH_CODE_PER_PHONE": Limited(
        "auth/code", lambda n: {"phone": "13800138000"}, "127.0.0.11", frozenset({(202, None), (429, "code_recently_sent")})
    ),
    "RATELIMIT_AUTH_CODE_PER_ADDRESS": Limited("auth/code", lambda n: {"phone": f"139{n:08d}"}, "127.0.0.12", frozenset({(202, None)})),
    "RATELIMIT_AUTH_LOGIN": Limited("auth/login", lambda n: {"phone": "13700137000", "code": "000000"}, "127.0.0.13", frozenset({(401, "invalid_code")})),
    "RATELIMIT_BOOKING": Limited("bookings", lambda n: {}, "127.0.0.14", frozenset({(422, "validation_failed")})),
    "RATELIMIT_FEEDBACK": Limited("me/feedback", lambda n: {}, "127.0.0.15", frozenset({(401, "unauthorized")})),
}


def tightest(setting: str) -> tuple[int, int]:
    """The smallest number of requests the setting allows, and its window in seconds ("5/hour;10/day" → 5, 3600)."""
    item = min(parse_many(DEFAULT_LIMITS[setting]), key=lambda item: item.amount)
    return item.amount, item.get_expiry()


def outcome(answer: Answer) -> tuple[int, str | None]:
    return answer.status, answer.json().get("code") if answer.content_type == "application/problem+json" else None


def test_every_documented_limit_is_spent_by_these_tests():
    assert LIMITED.keys() == DEFAULT_LIMITS.keys()


@pytest.mark.parametrize("storage", ["node", "redis"])
@pytest.mark.parametrize("setting", list(DEFAULT_LIMITS))
def test_documented_limit_lets_exactly_its_number_through_across_the_workers(storage: str, setting: str, request: pytest.FixtureRequest):
    server: Server = request.getfixturevalue(f"{storage}_server")
    limited, (allowed, window) = LIMITED[setting], tightest(setting)
    path = f"/api/v1/t/{TENANT}/{limited.path}"

    passed = [outcome(server.request("POST", path, limited.body(n), source=limited.source)) for n in range(allowed)]
    refused = server.request("POST", path, limited.body(allowed), source=limited.source)

    assert set(passed) <= limited.passes, passed
    assert refused.status == 429 and refused.content_type == "application/problem+json", refused
    assert refused.json()["code"] == "rate_limited" and set(refused.json()) >= {"type", "title", "status", "detail", "errors"}
    assert 0 < int(refused.headers["Retry-After"]) <= window


@pytest.mark.parametrize("storage", ["node", "redis"])
def test_requests_on_new_connections_are_shared_by_the_workers(storage: str, request: pytest.FixtureRequest):
    """What the limits above are tested against: each worker has answered already, and a run of requests meets several."""
    server: Server = request.getfixturevalue(f"{storage}_server")
    # Ten at a time: a sync worker busy with one cannot accept the next, so the run meets several
    # (one after another, the worker that just answered may win every accept).
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: server.request("GET", f"/api/v1/t/{TENANT}/booking-types", source="127.0.0.20"), range(20)))
    assert [answer.status for answer in answers] == [200] * 20

    assert server.worker_pids() <= set(server.answered_by("127.0.0.1"))
    assert len(set(server.answered_by("127.0.0.20"))) > 1
