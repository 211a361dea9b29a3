"""``ankra login``: password, then the second factor in the browser (or the terminal)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ankra_cli.options import JsonOption, ServerOption

if TYPE_CHECKING:
    from collections.abc import Callable

    from ankra_cli.browser import BrowserOpener
    from ankra_cli.client import AnkraClient
    from ankra_cli.credentials import Credentials
    from ankra_cli.output import Output
    from ankra_cli.prompts import Prompter

DEFAULT_TIMEOUT = 300.0  # seconds the browser hand-off waits: the pending login's lifetime
LOW_RECOVERY_CODES = 3


PASSKEY_KEY = "passkey"  # where the device token of the last `--passkey` sign-in is kept


@dataclass(frozen=True, slots=True)
class SignedIn:
    email: str
    answer: dict[str, Any]  # the API's "authenticated" answer
    # Where the next sign-in of the same kind finds this device token too (the email is not
    # known before a provider or a passkey names the account): ``sso:PROVIDER``, ``passkey``.
    token_key: str | None = None


def login(
    provider: Annotated[
        str | None,
        typer.Argument(
            metavar="[PROVIDER]",
            help="With --sso: the provider's id (optional when the server has just one).",
            show_default=False,
        ),
    ] = None,
    sso: Annotated[
        bool,
        typer.Option(
            "--sso",
            help="Sign in through single sign-on, in the browser (with --no-browser: on another device).",
        ),
    ] = False,
    passkey: Annotated[
        bool,
        typer.Option(
            "--passkey",
            help="Sign in with a passkey alone, in the browser (with --no-browser: on another "
            "device); no password.",
        ),
    ] = False,
    server: ServerOption = None,
    email: Annotated[
        str | None, typer.Option("--email", metavar="EMAIL", help="Account email (else asked).")
    ] = None,
    no_browser: Annotated[
        bool,
        typer.Option(
            "--no-browser",
            help="Enter the second factor in the terminal, or approve on another device.",
        ),
    ] = False,
    json_output: JsonOption = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", hidden=True, help="Seconds to wait for the browser (ANKRA_LOGIN_TIMEOUT)."
        ),
    ] = None,
) -> None:
    """Sign in and save the session for the other commands.

    The password is asked without echo (or read from ANKRA_PASSWORD, or from standard
    input when it is not a terminal). When the account has two-factor authentication,
    the sign-in finishes in your browser and comes back here by itself. With
    --no-browser, type a code here, or leave it empty to approve on another device:
    open the printed address there and type the printed code yourself.

    With --sso [PROVIDER], the browser signs in at that single sign-on provider, then
    asks for the account's second factor, and comes back here (no password is asked).
    With --sso --no-browser, open the printed address on any device, type the printed
    code there yourself, then sign in at the provider and give the second factor.

    With --passkey, the browser signs in with a passkey alone (no password, no code) and
    comes back here. With --passkey --no-browser, open the printed address on any device,
    type the printed code there yourself, use your passkey, then approve the sign-in.
    """
    import webbrowser

    from ankra_cli import credentials
    from ankra_cli.client import AnkraClient
    from ankra_cli.errors import CliError
    from ankra_cli.output import Output
    from ankra_cli.prompts import TerminalPrompter

    out = Output(json_mode=json_output)
    if provider is not None and not sso:
        raise CliError(f"PROVIDER ({provider}) is for single sign-on: add --sso")
    if sso and email is not None:
        raise CliError(
            "--sso signs in at the provider: it takes no --email",
            hint="The account is the one the provider signs you in to.",
        )
    if passkey and sso:
        raise CliError("Choose one: --passkey or --sso")
    if passkey and email is not None:
        raise CliError(
            "--passkey signs in with the passkey's account: it takes no --email",
            hint="The account is the one your passkey belongs to.",
        )
    previous = credentials.load()
    server_url = credentials.resolve_server(server, previous)
    wait = timeout or _timeout_from_environment()
    with AnkraClient(server_url) as client:
        if passkey:
            signed_in = run_passkey_login(
                client,
                open_browser=webbrowser.open,
                out=out,
                timeout=wait,
                no_browser=no_browser,
                device_token=credentials.load_device_token(server_url, PASSKEY_KEY),
            )
        elif sso:
            signed_in = run_sso_login(
                client,
                provider=provider,
                open_browser=webbrowser.open,
                out=out,
                timeout=wait,
                no_browser=no_browser,
                device_token_for=lambda chosen: credentials.load_device_token(
                    server_url, _sso_key(chosen)
                ),
            )
        else:
            signed_in = run_login(
                client,
                prompter=TerminalPrompter(),
                open_browser=webbrowser.open,
                out=out,
                email=email,
                no_browser=no_browser,
                timeout=wait,
                device_token_for=lambda address: credentials.load_device_token(server_url, address),
            )
    device_token = signed_in.answer.pop("device_token", None)
    if isinstance(device_token, str):
        # Kept apart from the session, and across `ankra logout`: this terminal stays known.
        credentials.save_device_token(server_url, signed_in.email, device_token)
        if signed_in.token_key is not None:  # the next `--sso`/`--passkey` presents it too
            credentials.save_device_token(server_url, signed_in.token_key, device_token)
    saved_at = credentials.save(
        credentials.Credentials(
            server=server_url,
            access_token=str(signed_in.answer["access_token"]),
            email=signed_in.email,
        )
    )
    ended = end_previous(previous, new_token=str(signed_in.answer["access_token"]))
    if out.json_mode:
        out.data(signed_in.answer)
        if ended:
            out.info(ended)
        return
    out.plain(f"Signed in to {server_url} as {signed_in.email} (saved in {saved_at}).")
    if ended:
        out.plain(ended)
    remaining = signed_in.answer.get("recovery_codes_remaining")
    if isinstance(remaining, int) and remaining <= LOW_RECOVERY_CODES:
        out.line(
            f"[bold yellow]{remaining} recovery codes left.[/] "
            "Make new ones: `ankra profile auth recovery-codes regenerate`."
        )
    if signed_in.answer.get("enrollment_required"):
        out.line(
            "[bold yellow]An organisation you belong to requires two-factor authentication.[/] "
            "Set it up now: `ankra profile auth totp start` or `ankra profile auth passkeys open`."
        )


def end_previous(previous: Credentials | None, *, new_token: str) -> str | None:
    """Sign out the session this terminal held before (its token is no longer kept, so
    nothing could end it later); what to tell the person, if there was one."""
    from ankra_cli.client import AnkraClient
    from ankra_cli.errors import ApiError, CliError

    if previous is None or previous.access_token == new_token:
        return None
    who = f"{previous.email or 'your account'} on {previous.server}"
    try:
        with AnkraClient(previous.server, token=previous.access_token) as old:
            old.call("POST", "/auth/logout")
    except ApiError as exc:
        if exc.code != "not_authenticated":
            return f"The previous session ({who}) could not be signed out: {exc.detail}"
        return f"The previous session ({who}) had already ended."
    except CliError as exc:
        return f"The previous session ({who}) could not be signed out: {exc.message}"
    return f"Signed out the previous session ({who})."


def _timeout_from_environment() -> float:
    from ankra_cli.errors import CliError

    raw = os.environ.get("ANKRA_LOGIN_TIMEOUT")
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise CliError(f"ANKRA_LOGIN_TIMEOUT must be a positive number of seconds (got {raw!r})")
    return seconds


def run_login(
    client: AnkraClient,
    *,
    prompter: Prompter,
    open_browser: BrowserOpener,
    out: Output,
    email: str | None,
    no_browser: bool,
    timeout: float,
    device_token_for: Callable[[str], str | None] = lambda _email: None,
) -> SignedIn:
    """The whole sign-in; returns the API's authenticated answer (nothing is saved here).

    ``device_token_for`` gives this terminal's device token for an email, sent with the
    password so that the attempt (and its second factor) counts on it.
    """
    from ankra_cli import handoff, server_check

    server_check.check(client)  # before anything is asked: a password typed for nothing
    address = email or prompter.text("Email")
    password = prompter.password("Password")
    body = {"email": address, "password": password}
    device_token = device_token_for(address)
    if device_token:
        body["device_token"] = device_token
    answer: dict[str, Any] = client.call("POST", "/auth/login", json=body)
    if answer.get("status") == "authenticated":
        return SignedIn(address, answer)
    mfa_token = str(answer["mfa_token"])
    methods = list(answer.get("methods") or [])
    if no_browser:
        answer = _in_terminal(
            client, prompter=prompter, out=out, mfa_token=mfa_token, methods=methods
        )
    else:
        answer = handoff.in_browser(
            client, mfa_token=mfa_token, open_browser=open_browser, out=out, timeout=timeout
        )
    return SignedIn(address, answer)


def choose_provider(providers: list[dict[str, Any]], wanted: str | None) -> str:
    """The provider id to sign in with: ``wanted``, or the only one the server offers."""
    from ankra_cli.errors import CliError

    ids = [str(p.get("id")) for p in providers]
    listing = ", ".join(f"{p.get('id')} ({p.get('name')})" for p in providers)
    if not ids:
        raise CliError("This server offers no single sign-on", hint="Sign in with `ankra login`.")
    if wanted is None:
        if len(ids) == 1:
            return ids[0]
        raise CliError(
            f"This server offers several single sign-on providers: {listing}",
            hint="Name one: `ankra login --sso PROVIDER`.",
        )
    if wanted not in ids:
        raise CliError(
            f"No single sign-on provider {wanted!r} on this server; it offers: {listing}"
        )
    return wanted


def _sso_key(provider: str) -> str:
    """Where the device token of the last sign-in through ``provider`` is kept (the email is
    not known before the provider answers; the server ignores a token of another account)."""
    return f"sso:{provider}"


def run_sso_login(
    client: AnkraClient,
    *,
    provider: str | None,
    open_browser: BrowserOpener,
    out: Output,
    timeout: float,
    no_browser: bool = False,
    device_token_for: Callable[[str], str | None] = lambda _provider: None,
) -> SignedIn:
    """``ankra login --sso``: the loopback hand-off (with ``no_browser``, the device
    hand-off), starting at the provider; returns the API's authenticated answer and the
    account's email (nothing is saved here). ``device_token_for`` gives this terminal's
    device token for the chosen provider: the second factor after it counts there."""
    from ankra_cli import handoff, server_check

    server_check.check(client)
    providers = client.call("GET", "/auth/sso/providers")
    chosen = choose_provider(list(providers or []), provider)
    token = device_token_for(chosen)
    if no_browser:
        answer = handoff.on_other_device(client, sso_provider=chosen, out=out, device_token=token)
    else:
        answer = handoff.in_browser(
            client,
            sso_provider=chosen,
            open_browser=open_browser,
            out=out,
            timeout=timeout,
            device_token=token,
        )
    return SignedIn(_whose(client, answer), answer, token_key=_sso_key(chosen))


def _whose(client: AnkraClient, answer: dict[str, Any]) -> str:
    """The terminal never typed an email: ask whose session it got."""
    from ankra_cli.client import AnkraClient

    with AnkraClient(client.server, token=str(answer["access_token"])) as signed:
        me = signed.call("GET", "/me")
    return str(me["email"])


def run_passkey_login(
    client: AnkraClient,
    *,
    open_browser: BrowserOpener,
    out: Output,
    timeout: float,
    no_browser: bool = False,
    device_token: str | None = None,
) -> SignedIn:
    """``ankra login --passkey``: the loopback hand-off whose page signs in with a passkey
    alone (with ``no_browser``, the device hand-off: a passkey, then the person's Approve);
    returns the API's authenticated answer and the account's email (nothing is saved here).
    ``device_token``, this terminal's from its last ``--passkey`` sign-in, is where the
    passkey's attempt counts."""
    from ankra_cli import handoff, server_check

    server_check.check(client)
    if no_browser:
        answer = handoff.on_other_device(client, out=out, device_token=device_token)
    else:
        answer = handoff.in_browser(
            client, open_browser=open_browser, out=out, timeout=timeout, device_token=device_token
        )
    return SignedIn(_whose(client, answer), answer, token_key=PASSKEY_KEY)


def _in_terminal(
    client: AnkraClient, *, prompter: Prompter, out: Output, mfa_token: str, methods: list[str]
) -> dict[str, Any]:
    """A code typed here (six digits: authenticator; else a recovery code), or, on an
    empty answer, the device hand-off. A code that cannot be right by its form is refused
    here and asked again: it would spend one of the pending login's 5 attempts."""
    from ankra_cli import handoff
    from ankra_cli.errors import ApiError

    if set(methods) <= {"passkey"}:  # a passkey needs a browser: approve on another device
        return handoff.on_other_device(client, mfa_token=mfa_token, out=out)
    while True:
        typed = prompter.text(
            "Authenticator code or recovery code (leave empty to approve on another device)"
        )
        if not typed:
            return handoff.on_other_device(client, mfa_token=mfa_token, out=out)
        path, code, refusal = classify_code(typed, methods)
        if refusal is not None:
            out.info(f"{refusal} Nothing was sent; try again.")
            continue
        try:
            answer: dict[str, Any] = client.call(
                "POST", path, json={"mfa_token": mfa_token, "code": code}
            )
        except ApiError as exc:
            if exc.code != "invalid_code":
                raise
            out.info(exc.detail)
            continue
        return answer


def classify_code(typed: str, methods: list[str]) -> tuple[str, str, str | None]:
    """Where a typed code goes and in what form, or why it is not sent (third element)."""
    from ankra_cli.code_forms import recovery_code, totp_code

    offered = set(methods) or {"totp", "recovery_code"}  # no list: leave it to the server
    digits = totp_code(typed)
    if digits is not None:
        if "totp" not in offered:
            return "", "", "This account has no authenticator app: type a recovery code."
        return "/auth/mfa/totp", digits, None
    canonical = recovery_code(typed)
    if canonical is not None:
        if "recovery_code" not in offered:
            return "", "", "This account has no recovery codes left."
        return "/auth/mfa/recovery-code", canonical, None
    return (
        "",
        "",
        "That is neither an authenticator code (6 digits) nor a recovery code "
        "(10 characters, XXXXX-XXXXX).",
    )
