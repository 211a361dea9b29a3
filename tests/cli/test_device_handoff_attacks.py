"""The device hand-off under attack, against real service processes on both databases.

The attacker holds the victim's password (not a second factor) and tries to get the
victim to approve the attacker's terminal, or to find a live user code by guessing.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.cli.handoff_steps import (
    authorize,
    device_factor,
    enter_user_code,
    new_verifier,
    poll,
)
from tests.cli.live_accounts import enroll_totp, sign_up, start_login
from tests.live_server import service_process
from tests.race import race

GUESSERS = 30
BUDGET = 10  # wrong codes per address per window (cli_handoff.address_throttle)


def _recovery_left(http: httpx.Client, auth: dict[str, str]) -> int:
    return int(http.get("/api/v1/profile/auth", headers=auth).json()["recovery_codes_remaining"])


def test_a_link_the_attacker_sends_completes_nothing_without_the_code(
    database_url: str, tmp_path: Path
) -> None:
    with (
        service_process(database_url, log_path=tmp_path / "server.log") as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        victim = enroll_totp(sign_up(base))
        # The attacker signs in with the victim's password and starts a device hand-off.
        verifier = new_verifier()
        r = authorize(http, start_login(victim), verifier=verifier, redirect_uri=None)
        assert r.status_code == 201, r.text
        started = r.json()
        assert started["browser_url"] == f"{base}/cli/device"

        # Everything the attacker could put in a link, short of the user code itself.
        links = [
            started["browser_url"],
            f"{started['browser_url']}?device_code={started['device_code']}",
            f"{base}/cli/login/{started['device_code']}",
        ]
        for link in links:
            page = httpx.get(link)
            assert page.status_code == 200, link
            # Nothing names the account or the code (a page may echo its own URL).
            for secret in (victim.email, started["user_code"]):
                assert secret not in page.text, link
        # No value the attacker knows opens the second-factor step for this hand-off.
        for guess in (started["device_code"], verifier, "", "x" * 43):
            r = device_factor(http, guess, "totp", victim.next_code())
            assert r.status_code in (401, 422) and r.json()["code"] in {
                "mfa_token_invalid",
                "validation_error",
            }, r.text
            r = http.post(f"/api/v1/auth/cli/handoff/{guess or 'x'}/totp", json={"code": "123456"})
            assert r.json()["code"] == "mfa_token_invalid"
        r = poll(http, started["device_code"], verifier)
        assert r.json()["code"] == "authorization_pending"

        # With the code typed, the page learns what it is approving before any factor.
        opened = enter_user_code(http, started["user_code"])
        assert opened.status_code == 200, opened.text
        shown = opened.json()
        assert shown["email"] == victim.email and shown["ip"] == "127.0.0.1"
        assert shown["requested_at"] and shown["methods"] == ["totp", "recovery_code"]
        events = victim.get("/api/v1/profile/auth/events")["events"]
        assert not {e["type"] for e in events} & {"second_factor_failed", "cli_login_approved"}
        assert _recovery_left(http, victim.auth) == 10
        # The page it is shown on warns, in the contract's words.
        page = httpx.get(started["browser_url"]).text
        assert (
            "Only continue if you started this sign-in yourself in a terminal. "
            "Never enter a code that someone sent you."
        ) in page


def test_concurrent_wrong_codes_from_one_address_are_checked_at_most_budget_times(
    database_url: str, tmp_path: Path
) -> None:
    with (
        service_process(database_url, log_path=tmp_path / "server.log", workers=2) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        victim = enroll_totp(sign_up(base))
        started = authorize(
            http, start_login(victim), verifier=new_verifier(), redirect_uri=None
        ).json()
        wrong = "0000-0000" if started["user_code"] != "0000-0000" else "1111-1111"
        answers = race(
            [
                lambda own: own.post(
                    f"{base}/api/v1/auth/cli/device/code", json={"user_code": wrong}
                )
                for _ in range(GUESSERS)
            ]
        )
        codes = sorted(a.json()["code"] for a in answers)
        assert codes.count("invalid_user_code") <= BUDGET, codes
        assert set(codes) <= {"invalid_user_code", "rate_limited"}, codes
        assert all(int(a.headers["retry-after"]) > 0 for a in answers if a.status_code == 429)
        # The address's budget is spent: even the right code now waits.
        r = enter_user_code(http, started["user_code"])
        assert r.status_code == 429 and r.json()["code"] == "rate_limited", r.text


def test_a_grant_burned_by_a_wrong_verifier_spends_no_recovery_code(
    database_url: str, tmp_path: Path
) -> None:
    with (
        service_process(database_url, log_path=tmp_path / "server.log") as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        victim = enroll_totp(sign_up(base))
        verifier = new_verifier()
        started = authorize(http, start_login(victim), verifier=verifier, redirect_uri=None).json()
        handle = enter_user_code(http, started["user_code"]).json()["approval_token"]
        r = poll(http, started["device_code"], new_verifier())
        assert r.status_code == 400 and r.json()["code"] == "invalid_grant", r.text

        r = device_factor(http, handle, "recovery-code", victim.recovery_codes[0])
        assert r.status_code == 401 and r.json()["code"] == "mfa_token_invalid", r.text
        assert _recovery_left(http, victim.auth) == 10
        r = enter_user_code(http, started["user_code"])
        assert r.json()["code"] == "invalid_user_code", r.text
        # The recovery code was not spent: it still signs in.
        r = http.post(
            "/api/v1/auth/mfa/recovery-code",
            json={"mfa_token": start_login(victim), "code": victim.recovery_codes[0]},
        )
        assert r.status_code == 200, r.text
