"""The primary dies under sign-ins from two instances; its synchronous standby is promoted.

Both instances have the multi-host URL (``host=primary&host=standby`` with
``target_session_attrs=read-write``) and are never restarted: their pools (the sync one for
the password step, the event loop's for the TOTP step) must drop the dead primary's
connections and find the new one by themselves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.faults.checks import Answer, assert_unavailable_or_expected, sign_ins_are_whole, timed
from tests.faults.replication import ReplicatedPair
from tests.faults.seed import SeededUser, totp_users
from tests.faults.services import Service, code, running, start_service
from tests.helpers import PASSWORD

pytestmark = pytest.mark.faults

THREADS_PER_INSTANCE = 3
USERS_PER_THREAD = 30
POOL_TIMEOUT = 2.0
# Between the kill and the promotion: a failover manager takes this long or more (Patroni's
# defaults, up to 30 s). Long enough that a pool backing off its reconnects (psycopg_pool
# alone tries again 1, 3, 7, 15 and 31 s after a failure) would find the new primary too late.
OUTAGE_SECONDS = 17.0
RECOVERY_LIMIT = 10.0
LOGIN = "/api/v1/auth/login"
TOTP = "/api/v1/auth/mfa/totp"  # the contract: sign-ins work again within this of the promotion


@pytest.fixture
def pair() -> Iterator[ReplicatedPair]:
    servers = ReplicatedPair()
    try:
        yield servers
    finally:
        servers.stop()


Pending = tuple[SeededUser, str]  # a person and the mfa_token of their password step


@dataclass(frozen=True)
class SignIn:
    instance: int
    answer: Answer  # the TOTP step's
    token: str | None  # its session, when answered 200
    retried: bool  # after a 503


class Load:
    """Threads signing people in (password, then TOTP) on each instance until stopped."""

    def __init__(self, services: list[Service], users: list[SeededUser]) -> None:
        self.answers: list[tuple[int, Answer]] = []
        self.sign_ins: list[SignIn] = []
        self.stop = threading.Event()
        threads = THREADS_PER_INSTANCE * len(services)
        self.threads = [
            threading.Thread(
                target=self._sign_in_each,
                args=(i % len(services), services[i % len(services)].base, users[i::threads]),
                daemon=True,
            )
            for i in range(threads)
        ]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _sign_in_each(self, instance: int, base: str, users: list[SeededUser]) -> None:
        with httpx.Client(timeout=30) as http:
            for user in users:
                if not self._sign_in(instance, http, base, user):
                    return

    def codes_during_the_switch(self, instance: int, base: str, pending: list[Pending]) -> None:
        """People who typed their password before the failure and their code during it:
        the event loop's pool (the TOTP step) is asked for a connection all through."""

        def enter_codes() -> None:
            with httpx.Client(timeout=30) as http:
                for user, mfa_token in pending:
                    if not self._second_factor(instance, http, base, user, mfa_token):
                        return

        thread = threading.Thread(target=enter_codes, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _sign_in(self, instance: int, http: httpx.Client, base: str, user: SeededUser) -> bool:
        """One person, trying again after a 503 as a client following Retry-After does
        (sooner, to sample the switch finely): the password step, then the code their app
        shows then, on the same pending login. False once stopped."""
        login = {"email": user.email, "password": PASSWORD}
        password, _ = self._until_answered(
            instance, lambda: timed("password", http, "POST", f"{base}{LOGIN}", json=login)
        )
        if password is None or password.status != 200:
            return False
        return self._second_factor(instance, http, base, user, password.body["mfa_token"])

    def _second_factor(
        self, instance: int, http: httpx.Client, base: str, user: SeededUser, mfa_token: str
    ) -> bool:
        totp, retried = self._until_answered(
            instance,
            lambda: timed(
                "totp",
                http,
                "POST",
                f"{base}{TOTP}",
                json={"mfa_token": mfa_token, "code": code(user.secret, 1)},
            ),
        )
        if totp is None:
            return False
        token = totp.body.get("access_token") if totp.status == 200 else None
        self.sign_ins.append(SignIn(instance, totp, token, retried))
        return True

    def _until_answered(
        self, instance: int, send: Callable[[], Answer]
    ) -> tuple[Answer | None, bool]:
        """``send`` until it answers other than 503 (None once stopped), and whether it
        had to try again."""
        retried = False
        while not self.stop.is_set():
            answer = send()
            self.answers.append((instance, answer))
            if answer.status != 503:
                return answer, retried
            retried = True
            time.sleep(0.1)
        return None, retried

    def signed_in(self, instance: int, *, started_after: float) -> float | None:
        """When the first sign-in on ``instance`` begun after ``started_after`` ended 200."""
        ends = [
            s.answer.started + s.answer.seconds
            for s in list(self.sign_ins)
            if s.instance == instance and s.token and s.answer.started > started_after
        ]
        return min(ends, default=None)


def test_a_failover_to_the_synchronous_standby_keeps_every_sign_in(
    pair: ReplicatedPair, tmp_path: Path
) -> None:
    url = pair.start("ankra")
    env = {"ANKRA_DB_POOL_TIMEOUT_SECONDS": str(POOL_TIMEOUT)}
    services = [
        start_service(url, log_path=tmp_path / f"instance-{i}.log", extra_env=env) for i in range(2)
    ]
    with running(*services):
        everyone = totp_users(url, 2 * THREADS_PER_INSTANCE * USERS_PER_THREAD + 4)
        typing, users = everyone[:4], everyone[4:]
        with Load(services, users) as load:
            for instance in range(2):
                _wait_for(lambda i=instance: load.signed_in(i, started_after=0) is not None, 60)
            time.sleep(1)  # sign-ins in full flow on both
            pending = [_passwords_typed(s.base, typing[i::2]) for i, s in enumerate(services)]
            killed = time.monotonic()
            pair.kill_primary()
            for instance, service in enumerate(services):
                load.codes_during_the_switch(instance, service.base, pending[instance])
            time.sleep(OUTAGE_SECONDS)
            pair.promote()
            promoted = time.monotonic()
            for instance in range(2):
                _wait_for(
                    lambda i=instance: load.signed_in(i, started_after=promoted) is not None,
                    RECOVERY_LIMIT + 5,
                )
            recovered = [load.signed_in(i, started_after=promoted) for i in range(2)]
            time.sleep(2)  # and sign-ins keep working
        answers = [a for _, a in load.answers]
        sign_ins = list(load.sign_ins)

        assert_unavailable_or_expected(answers, {200, 401})  # never a 500
        # A 401 only where a code sent again after a 503 finds its sign-in finished: the
        # commit reached both servers, its answer did not reach the client.
        for s in sign_ins:
            if s.answer.status == 401:
                assert s.retried and s.answer.code == "mfa_token_invalid", str(s.answer)
        unavailable = [a for a in answers if a.status == 503]
        assert unavailable, "no sign-in met the switch: the test saw no failover"
        seconds_to_recover = [end - promoted for end in recovered if end is not None]
        assert len(seconds_to_recover) == 2
        assert max(seconds_to_recover) < RECOVERY_LIMIT, seconds_to_recover
        # Once an instance signed someone in on the new primary, it keeps doing so: no
        # connection to the dead primary is left in either pool to fail a later request.
        for instance, first in enumerate(recovered):
            assert first is not None
            later = [a for i, a in load.answers if i == instance and a.started > first]
            assert later and all(a.status != 503 for a in later), [str(a) for a in later]

        # Every sign-in answered 200 before the kill has its session on the new primary.
        before = [s for s in sign_ins if s.token and s.answer.started + s.answer.seconds < killed]
        assert before
        with httpx.Client(timeout=30) as http:
            for s in [s for s in sign_ins if s.token]:
                me = http.get(
                    f"{services[s.instance].base}/api/v1/me",
                    headers={"Authorization": f"Bearer {s.token}"},
                )
                assert me.status_code == 200, (str(s.answer), me.text)
        print(
            f"failover: {len(answers)} answers, {len(before)} sign-ins before the kill, "
            f"{len(unavailable)} 503s during the switch, sign-ins back "
            f"{', '.join(f'{s:.2f}' for s in seconds_to_recover)} s after the promotion, "
            f"{len(before)}/{len(before)} sessions kept "
            f"({sum(1 for s in sign_ins if s.token)} sign-ins checked)"
        )
    sign_ins_are_whole(url, [u.id for u in everyone], everyone[0].enrolled_step)


def _passwords_typed(base: str, users: list[SeededUser]) -> list[Pending]:
    """Their password steps, answered (their pending logins committed)."""
    pending = []
    for user in users:
        r = httpx.post(
            f"{base}{LOGIN}", json={"email": user.email, "password": PASSWORD}, timeout=30
        )
        assert r.status_code == 200, r.text
        pending.append((user, r.json()["mfa_token"]))
    return pending


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s")
        time.sleep(0.05)
