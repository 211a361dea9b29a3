"""``ankra login`` end to end: the browser hand-off, the terminal, the device hand-off."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.cli.conftest import Ankra, make_ankra
from tests.cli.handoff_steps import handoff_token, query
from tests.cli.live_accounts import PASSWORD, LiveAccount, enroll_totp, sign_up
from tests.live_server import service_process


def _browser_url(ankra: Ankra, process: subprocess.Popen[str], timeout: float = 30) -> str:
    """The URL ``ankra login`` asked the (recording) browser to open."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ankra.browser_log.exists() and ankra.browser_log.read_text().strip():
            return ankra.browser_log.read_text().split()[0]
        if process.poll() is not None:
            raise AssertionError(f"ankra exited early: {process.communicate()}")
        time.sleep(0.05)
    raise AssertionError("the browser was never opened")


def _start_login(ankra: Ankra, account: LiveAccount, *args: str) -> subprocess.Popen[str]:
    return ankra.popen("login", "--email", account.email, *args, input=f"{PASSWORD}\n")


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


def _approve(base: str, url: str, code: str) -> str | None:
    r = httpx.post(f"{base}/api/v1/auth/cli/handoff/{handoff_token(url)}/totp", json={"code": code})
    assert r.status_code == 200, r.text
    redirect: str | None = r.json()["redirect_url"]
    return redirect


def _status(ankra: Ankra) -> dict[str, object]:
    result = ankra.run("profile", "auth", "status", "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_browser_hand_off_over_http(ankra: Ankra) -> None:
    account = enroll_totp(sign_up(ankra.server))
    process = _start_login(ankra, account)
    url = _browser_url(ankra, process)
    assert url.startswith(f"{ankra.server}/cli/login/")
    redirect = _approve(ankra.server, url, account.next_code())
    assert redirect is not None and redirect.startswith("http://127.0.0.1:")
    page = httpx.get(redirect)
    assert page.status_code == 200 and "You can close this window" in page.text
    returncode, stdout, stderr = _finish(process)
    assert returncode == 0, stderr
    assert url in stderr  # printed, not only opened
    assert stderr.index(url) < stderr.index("Waiting")
    assert f"Signed in to {ankra.server} as {account.email}" in stdout
    assert _status(ankra)["two_factor_enabled"] is True
    # The listener is gone once the login is done.
    with pytest.raises(httpx.ConnectError):
        httpx.get(redirect, timeout=2)


def test_state_mismatch_is_refused(ankra: Ankra) -> None:
    account = enroll_totp(sign_up(ankra.server))
    process = _start_login(ankra, account)
    redirect = _approve(ankra.server, _browser_url(ankra, process), account.next_code())
    assert redirect is not None
    params = {k: v[0] for k, v in query(redirect).items()}
    forged = urlunsplit(urlsplit(redirect)._replace(query=urlencode({**params, "state": "forged"})))
    page = httpx.get(forged)
    assert page.status_code == 400 and "does not belong" in page.text
    returncode, _, stderr = _finish(process)
    assert returncode == 1 and "Traceback" not in stderr
    assert "Error: The browser came back with a different state" in stderr
    assert not ankra.credentials_file.exists()
    # The code was never exchanged; it stays unusable without the CLI's verifier anyway.
    r = httpx.post(
        f"{ankra.server}/api/v1/auth/cli/token",
        json={"code": params["code"], "code_verifier": "x" * 43},
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_grant"


def test_waiting_for_the_browser_times_out(ankra: Ankra) -> None:
    account = enroll_totp(sign_up(ankra.server))
    process = _start_login(ankra, account, "--timeout", "1")
    _browser_url(ankra, process)
    returncode, _, stderr = _finish(process)
    assert returncode == 1 and "Error: No answer from the browser within 1 seconds" in stderr


def test_second_factor_typed_in_the_terminal(ankra: Ankra) -> None:
    account = enroll_totp(sign_up(ankra.server))
    result = ankra.run(
        "login",
        "--email",
        account.email,
        "--no-browser",
        input=f"{PASSWORD}\n000000\n{account.next_code()}\n",
    )
    assert result.returncode == 0, result.stderr
    assert "That did not work. 4 attempts left." in result.stderr
    assert "Signed in" in result.stdout
    assert not ankra.browser_log.exists()
    assert _status(ankra)["totp_enabled"] is True


def test_device_hand_off_from_a_terminal_without_browser(ankra: Ankra) -> None:
    account = enroll_totp(sign_up(ankra.server))
    # An empty answer for the code: approve on another device.
    process = ankra.popen(
        "login", "--email", account.email, "--no-browser", "--json", input=f"{PASSWORD}\n\n"
    )
    assert process.stderr is not None
    lines = []
    while not any("/cli/login/" in line for line in lines):
        line = process.stderr.readline()
        assert line, f"ankra ended early: {''.join(lines)}"
        lines.append(line)
    url = next(line.strip() for line in lines if "/cli/login/" in line)
    while not any("shows the code" in line for line in lines):
        lines.append(process.stderr.readline())
    shown = next(line for line in lines if "shows the code" in line)
    page = httpx.get(f"{ankra.server}/api/v1/auth/cli/handoff/{handoff_token(url)}").json()
    assert page["user_code"] in shown
    assert _approve(ankra.server, url, account.next_code()) is None
    stdout, rest = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(lines) + rest
    answer = json.loads(stdout)
    assert answer["status"] == "authenticated"
    assert answer["access_token"] == json.loads(ankra.credentials_file.read_text())["access_token"]
    assert not ankra.browser_log.exists()


def test_browser_hand_off_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    with service_process(postgres_url, log_path=tmp_path / "server.log") as base:
        ankra = make_ankra(base, tmp_path)
        account = enroll_totp(sign_up(base))
        process = _start_login(ankra, account)
        redirect = _approve(base, _browser_url(ankra, process), account.next_code())
        assert redirect is not None and httpx.get(redirect).status_code == 200
        returncode, _, stderr = _finish(process)
        assert returncode == 0, stderr
        assert _status(ankra)["two_factor_enabled"] is True


@pytest.fixture
def postgres_url(pg_template_url: str) -> str:
    from tests.conftest import _truncate_all

    _truncate_all(pg_template_url)
    return pg_template_url


def test_device_token_kept_private_across_logout_and_sent_on_login(ankra: Ankra) -> None:
    account = sign_up(ankra.server)
    result = ankra.run("login", "--email", account.email, "--json", input=f"{PASSWORD}\n")
    assert result.returncode == 0, result.stderr
    assert "device_token" not in json.loads(result.stdout)  # never printed
    tokens_file = ankra.config_dir / "device-tokens.json"
    assert tokens_file.stat().st_mode & 0o777 == 0o600
    first = json.loads(tokens_file.read_text())
    assert list(first) == [f"{ankra.server} {account.email}"]
    assert ankra.run("logout").returncode == 0
    assert not ankra.credentials_file.exists() and tokens_file.exists()
    # An attacker's flood puts the email into backoff ...
    for _ in range(10):
        httpx.post(
            f"{ankra.server}/api/v1/auth/login",
            json={"email": account.email, "password": "wrong-password"},
        )
    stranger = httpx.post(
        f"{ankra.server}/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert stranger.status_code == 429
    # ... but this terminal sends its token and gets in; the token is rotated.
    result = ankra.run("login", "--email", account.email, input=f"{PASSWORD}\n")
    assert result.returncode == 0, result.stderr
    assert "Signed in" in result.stdout
    second = json.loads(tokens_file.read_text())
    assert second.keys() == first.keys() and second != first
    assert tokens_file.stat().st_mode & 0o777 == 0o600
