"""``ankra profile auth events``: the security log, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ankra_cli.options import JsonOption, ServerOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.output import Output


def events(
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100, metavar="N", help="How many events.")
    ] = 20,
    server: ServerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show recent security events: sign-ins, failed attempts, factor changes."""
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        page = run_events(client, limit=limit)
    if out.json_mode:
        out.data(page)
    else:
        render(out, page)


def run_events(client: AnkraClient, *, limit: int) -> dict[str, Any]:
    page: dict[str, Any] = client.call("GET", "/profile/auth/events", params={"limit": limit})
    return page


def render(out: Output, page: dict[str, Any]) -> None:
    from ankra_cli.output import when

    rows = page.get("events") or []
    if not rows:
        out.line("No security events yet.")
        return
    out.table(
        ["When", "Event", "Method", "IP address", "Detail"],
        [
            [
                when(e.get("created_at")),
                str(e["type"]),
                e.get("method") or "-",
                e.get("ip") or "-",
                e.get("detail") or "-",
            ]
            for e in rows
        ],
    )
