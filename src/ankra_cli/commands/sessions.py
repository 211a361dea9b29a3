"""``ankra profile auth sessions``: where you are signed in; sign sessions out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ankra_cli.errors import CliError
from ankra_cli.options import JsonOption, ServerOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.output import Output

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
        str | None, typer.Argument(metavar="ID", help="The session to sign out (see list).")
    ] = None,
    all_others: Annotated[
        bool, typer.Option("--all-others", help="Sign out every session but this one.")
    ] = False,
    server: ServerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Sign out one session, or every session but this one with --all-others."""
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    if (session_id is None) == (not all_others):
        raise CliError("Give a session ID or --all-others (not both).")
    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        message = run_revoke(client, session_id=session_id)
    if out.json_mode:
        out.data(None)
    else:
        out.plain(message)


def run_list(client: AnkraClient) -> list[dict[str, Any]]:
    sessions: list[dict[str, Any]] = client.call("GET", "/profile/sessions")
    return sessions


def run_revoke(client: AnkraClient, *, session_id: str | None) -> str:
    from ankra_cli.client import path_segment

    if session_id is None:
        client.call("DELETE", "/profile/sessions")
        return "Signed out everywhere else. This session stays signed in."
    client.call("DELETE", f"/profile/sessions/{path_segment(session_id)}")
    return f"Session {session_id} signed out."


def render(out: Output, sessions: list[dict[str, Any]]) -> None:
    from ankra_cli.output import when

    out.table(
        ["ID", "Device", "Signed in with", "IP address", "Last active", ""],
        [
            [
                str(s["id"]),
                str(s.get("device") or s.get("user_agent") or "-"),
                METHODS.get(str(s.get("method")), str(s.get("method") or "-")),
                s.get("ip") or "-",
                when(s.get("last_seen_at")),
                "this session" if s.get("current") else "",
            ]
            for s in sessions
        ],
    )
