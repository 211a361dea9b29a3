"""What every fault test asserts: the answers a client may see, and the database afterwards."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import bindparam, text

from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from tests.live_server import SECRET


@dataclass(frozen=True)
class Answer:
    what: str
    started: float  # time.monotonic()
    seconds: float
    status: int
    code: str | None
    retry_after: str | None
    content_type: str
    body: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.what} {self.status} {self.code} after {self.seconds:.2f}s"


def timed(what: str, send: httpx.Client, method: str, url: str, **kwargs: object) -> Answer:
    started = time.monotonic()
    r = send.request(method, url, **kwargs)  # type: ignore[arg-type]
    body = r.json() if "json" in r.headers.get("content-type", "") else {}
    code = body.get("code") if r.status_code >= 400 else None
    return Answer(
        what,
        started,
        time.monotonic() - started,
        r.status_code,
        code,
        r.headers.get("retry-after"),
        r.headers.get("content-type", ""),
        body,
    )


def assert_unavailable_or_expected(answers: list[Answer], expected: set[int]) -> None:
    """Each answer is expected, or a 503 ``service_unavailable`` problem with Retry-After."""
    for a in answers:
        if a.status == 503:
            assert a.code == "service_unavailable", a
            assert a.content_type.startswith("application/problem+json"), a
            assert a.retry_after and int(a.retry_after) > 0, a
        else:
            assert a.status in expected, a


def sign_ins_are_whole(database_url: str, user_ids: list[str], enrolled_step: int) -> None:
    """No pending login finished without its session, no session without its login, and
    no TOTP step spent by a login that did not finish (they commit in one transaction)."""
    engine = make_engine(Settings(database_url=database_url, secret_key=SECRET))
    params = {"ids": user_ids, "enrolled": enrolled_step}
    finished = "p.finished_at IS NOT NULL AND p.failed_attempts < 5"  # 5 failures void, not finish
    queries = {
        "finished without a session": """
            SELECT p.id FROM pending_logins p WHERE p.user_id IN :ids AND FINISHED
            AND NOT EXISTS (SELECT 1 FROM sessions s
                            WHERE s.user_id = p.user_id AND s.created_at = p.finished_at)""",
        "a session without a finished login": """
            SELECT s.id FROM sessions s WHERE s.user_id IN :ids
            AND NOT EXISTS (SELECT 1 FROM pending_logins p
                            WHERE p.user_id = s.user_id AND p.finished_at = s.created_at
                            AND FINISHED)""",
        "a step spent without a finished login": """
            SELECT d.user_id FROM totp_devices d WHERE d.user_id IN :ids
            AND d.last_used_step > :enrolled
            AND NOT EXISTS (SELECT 1 FROM pending_logins p WHERE p.user_id = d.user_id
                            AND FINISHED)""",
        "a login finished without spending a step": """
            SELECT p.id FROM pending_logins p JOIN totp_devices d ON d.user_id = p.user_id
            WHERE p.user_id IN :ids AND FINISHED AND d.last_used_step <= :enrolled""",
        "a login finished twice": """
            SELECT s.user_id FROM sessions s WHERE s.user_id IN :ids
            GROUP BY s.user_id HAVING COUNT(*) > 1""",
    }
    try:
        with engine.connect() as db:
            for what, sql in queries.items():
                statement = text(sql.replace("FINISHED", finished)).bindparams(
                    bindparam("ids", expanding=True)
                )
                rows = db.execute(statement, params).all()
                assert not rows, f"{what}: {rows}"
    finally:
        engine.dispose()
