"""Finishing a login's second factor in a browser, then back to the terminal.

``in_browser``: loopback redirect + PKCE (RFC 8252, RFC 7636), for a browser on this machine.
``on_other_device``: the device hand-off (after RFC 8628), for SSH sessions and containers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ankra_cli import pkce
from ankra_cli.browser import BrowserOpener, show_and_open
from ankra_cli.errors import ApiError, CliError
from ankra_cli.loopback import LoopbackListener

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.output import Output

SLOW_DOWN_STEP = 5  # RFC 8628 section 3.5: add 5 seconds to the interval on slow_down


def _first_factor(
    mfa_token: str | None, sso_provider: str | None, device_token: str | None
) -> dict[str, str | bool]:
    """What the hand-off continues: a password sign-in's pending login, single sign-on, or
    (neither) a passkey alone; the last two with this terminal's device token, so the
    factor counts on it."""
    if mfa_token is not None:
        return {"mfa_token": mfa_token}
    first: dict[str, str | bool] = (
        {"sso_provider": sso_provider} if sso_provider is not None else {"passkey": True}
    )
    if device_token:
        first["device_token"] = device_token
    return first


def _again(mfa_token: str | None, sso_provider: str | None, *, no_browser: bool = False) -> str:
    """The command that starts this sign-in over."""
    flag = "" if mfa_token is not None else " --sso" if sso_provider is not None else " --passkey"
    return f"`ankra login{flag}{' --no-browser' if no_browser else ''}`"


def in_browser(
    client: AnkraClient,
    *,
    mfa_token: str | None = None,
    sso_provider: str | None = None,
    open_browser: BrowserOpener,
    out: Output,
    timeout: float,
    device_token: str | None = None,
) -> dict[str, Any]:
    """Open the hand-off page, wait for its redirect, exchange the code; the API's answer.

    The hand-off continues a password sign-in (``mfa_token``), starts with single sign-on
    at ``sso_provider`` (the page goes there first, then to the second factor), or, with
    neither, is a passkey alone on the page (``ankra login --passkey``).
    """
    state = pkce.new_state()
    verifier = pkce.new_verifier()
    first = _first_factor(mfa_token, sso_provider, device_token)
    again = f"{_again(mfa_token, sso_provider)} again"
    with LoopbackListener(state=state) as listener:
        started = client.call(
            "POST",
            "/auth/cli/authorize",
            json={
                **first,
                "redirect_uri": listener.redirect_uri,
                "state": state,
                "code_challenge": pkce.s256_challenge(verifier),
                "code_challenge_method": "S256",
            },
        )
        show_and_open(
            str(started["browser_url"]),
            message="Complete the sign-in in your browser:",
            open_browser=open_browser,
            out=out,
        )
        out.info("Waiting for the browser...")
        callback = listener.wait(timeout)
    if callback is None:
        raise CliError(
            f"No answer from the browser within {timeout:g} seconds",
            hint=f"Run {again}, or `ankra login --no-browser`."
            if mfa_token is not None
            else f"Run {again}.",
        )
    if callback.code is None:
        raise CliError(
            callback.error or "The browser did not complete the sign-in", hint=f"Run {again}."
        )
    answer: dict[str, Any] = client.call(
        "POST", "/auth/cli/token", json={"code": callback.code, "code_verifier": verifier}
    )
    return answer


def on_other_device(
    client: AnkraClient,
    *,
    mfa_token: str | None = None,
    sso_provider: str | None = None,
    out: Output,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    device_token: str | None = None,
) -> dict[str, Any]:
    """Show the hand-off URL and user code, poll until approved; the API's answer.

    As ``in_browser``, for a password sign-in's ``mfa_token``, starting with single
    sign-on at ``sso_provider`` (the page goes there once the code is typed), or with
    neither a passkey alone on the page. A sign-in refused or denied there
    (``access_denied``) ends the wait with its reason.
    """
    verifier = pkce.new_verifier()
    first = _first_factor(mfa_token, sso_provider, device_token)
    no_browser = mfa_token is None  # a password sign-in came here from its code prompt
    again = f"Run {_again(mfa_token, sso_provider, no_browser=no_browser)} again."
    started = client.call(
        "POST",
        "/auth/cli/authorize",
        json={
            **first,
            "code_challenge": pkce.s256_challenge(verifier),
            "code_challenge_method": "S256",
        },
    )
    out.info(
        "On any device, open\n\n"
        f"  {started['browser_url']}\n\n"
        f"and enter the code  {started['user_code']}\n\n"
        "Only enter it on that page yourself; never give it to anyone. Waiting..."
    )
    interval = float(started["interval"])
    deadline = monotonic() + float(started["expires_in"])
    while monotonic() < deadline:
        sleep(interval)
        try:
            answer: dict[str, Any] = client.call(
                "POST",
                "/auth/cli/token",
                json={"device_code": started["device_code"], "code_verifier": verifier},
            )
        except ApiError as exc:
            if exc.code == "authorization_pending":
                continue
            if exc.code == "slow_down":
                interval += SLOW_DOWN_STEP
                continue
            if exc.code == "expired_token":
                break
            if exc.code == "access_denied":
                raise CliError(exc.detail, hint=again) from None
            raise
        return answer
    raise CliError("The sign-in expired before it was completed in the browser", hint=again)
