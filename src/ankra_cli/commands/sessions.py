"""``ankra profile auth sessions``: where you are signed in; sign sessions out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ankra_cli.errors import CliError
from ankra_cli.options import JsonOption, ServerOption, YesOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.output import Output
    from ankra_cli.prompts import Prompter

LIST_COMMAND = "ankra profile auth sessions list"

METHODS = {
    "password": "password",
    "totp": "authenticator app",
    "passkey": "passkey",
    "recovery_code": "recovery code",
    "sso": "single sign-on",
    "cli": "CLI",
    "link": "sign-in link",
}


def list_(server: ServerOption = None, json_output: JsonOption = False) -> None:
    """Show every session signed in to your account (this one is marked)."""
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        sessions = run_list(client)
    if out.json_mode:
        out.data(sessions)
    else:
        render(out, sessions)


def revoke(
    session_id: Annotated[
        str | None,
        typer.Argument(
            metavar="ID",
            help="The session to sign out: its id, or its first characters (4 or more; see list).",
        ),
    ] = None,
    all_others: Annotated[
        bool, typer.Option("--all-others", help="Sign out every session but this one (asks first).")
    ] = False,
    yes: YesOption = False,
    server: ServerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Sign out one session, or every session but this one with --all-others."""
    from ankra_cli.output import Output
    from ankra_cli.prompts import TerminalPrompter
    from ankra_cli.session import signed_in

    if (session_id is None) == (not all_others):
        raise CliError("Give a session ID or --all-others (not both).")
    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        if session_id is None:
            message = run_revoke_others(client, prompter=TerminalPrompter(), yes=yes)
        else:
            message = run_revoke(client, session_id=session_id)
    if out.json_mode:
        out.data(None)
    else:
        out.plain(message)


def run_list(client: AnkraClient) -> list[dict[str, Any]]:
    sessions: list[dict[str, Any]] = client.call("GET", "/profile/sessions")
    return sessions


def run_revoke(client: AnkraClient, *, session_id: str) -> str:
    """Sign out the session ``session_id`` names (a whole id or a unique prefix)."""
    from ankra_cli.client import path_segment
    from ankra_cli.ids import resolve

    sessions = run_list(client)
    wanted = resolve(
        session_id, [str(s["id"]) for s in sessions], kind="session", list_command=LIST_COMMAND
    )
    client.call("DELETE", f"/profile/sessions/{path_segment(wanted)}")
    return f"Session {wanted} signed out."


def run_revoke_others(client: AnkraClient, *, prompter: Prompter, yes: bool) -> str:
    from ankra_cli.confirmation import ask

    others = [s for s in run_list(client) if not s.get("current")]
    if not others:
        return "No other session is signed in: nothing to sign out."
    devices = sorted({_device(s) for s in others})
    named = ", ".join(devices[:3]) + (f" and {len(devices) - 3} more" if len(devices) > 3 else "")
    count = "Your other session" if len(others) == 1 else f"Your {len(others)} other sessions"
    ask(
        prompter,
        f"{count} ({named}) will be signed out at once; this one stays signed in. Continue?",
        action="sign out every other session",
        yes=yes,
    )
    client.call("DELETE", "/profile/sessions")
    return "Signed out everywhere else. This session stays signed in."


def _device(session: dict[str, Any]) -> str:
    return str(session.get("device") or session.get("user_agent") or "unknown device")


def render(out: Output, sessions: list[dict[str, Any]]) -> None:
    from ankra_cli.ids import short_ids
    from ankra_cli.output import when

    ids = short_ids([str(s["id"]) for s in sessions])
    out.table(
        ["ID", "Device", "Signed in with", "IP address", "Last active", ""],
        [
            [
                short,
                str(s.get("device") or s.get("user_agent") or "-"),
                METHODS.get(str(s.get("method")), str(s.get("method") or "-")),
                s.get("ip") or "-",
                when(s.get("last_seen_at")),
                "this session" if s.get("current") else "",
            ]
            for short, s in zip(ids, sessions, strict=True)
        ],
        whole=["ID"],
    )
