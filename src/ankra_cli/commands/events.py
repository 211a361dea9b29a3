"""``ankra profile auth events``: the security log, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ankra_cli.options import CursorOption, JsonOption, ServerOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.output import Output

COMMAND = "ankra profile auth events"


def events(
    limit: Annotated[
        int,
        typer.Option(
            "--limit", min=1, max=100, metavar="N", help="How many events (per page with --all)."
        ),
    ] = 20,
    cursor: CursorOption = None,
    all_pages: Annotated[
        bool, typer.Option("--all", help="Every event, page after page, to the oldest.")
    ] = False,
    server: ServerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show recent security events: sign-ins, failed attempts, factor changes.

    With --json, the API's page as it came ({"events": [...], "next_cursor": ...}); with
    --all, every page's events in one list and "next_cursor": null.
    """
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        if all_pages:
            page = run_all_events(client, limit=limit, cursor=cursor)
        else:
            page = run_events(client, limit=limit, cursor=cursor)
    if out.json_mode:
        out.data(page)
    else:
        render(out, page, limit=limit, first=cursor is None)


def run_events(client: AnkraClient, *, limit: int, cursor: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    page: dict[str, Any] = client.call("GET", "/profile/auth/events", params=params)
    return page


def run_all_events(client: AnkraClient, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """Follow ``next_cursor`` to the end; one page of the API's shape with every event."""
    collected: list[Any] = []
    seen: set[str] = set()
    while True:
        page = run_events(client, limit=limit, cursor=cursor)
        collected.extend(page.get("events") or [])
        cursor = page.get("next_cursor")
        if not cursor or cursor in seen:  # a server repeating itself must not loop forever
            return {"events": collected, "next_cursor": None}
        seen.add(cursor)


def render(out: Output, page: dict[str, Any], *, limit: int, first: bool = True) -> None:
    from ankra_cli.labels import detail_note, event_label, method_label, was_mailed
    from ankra_cli.output import when

    rows = page.get("events") or []
    if not rows:
        out.line("No security events yet." if first else "No older events.")
    else:
        out.table(
            ["When", "Event", "Method", "IP address", "Detail"],
            [
                [
                    when(e.get("created_at")),
                    event_label(str(e["type"])),
                    method_label(e.get("method")),
                    e.get("ip") or "-",
                    _detail(detail_note(e.get("detail")), was_mailed(e.get("detail"))),
                ]
                for e in rows
            ],
        )
    following = page.get("next_cursor")
    if following:
        out.plain(f"Older events: {COMMAND} --limit {limit} --cursor {following}  (or --all)")


def _detail(note: str | None, mailed: bool) -> str:
    if mailed:
        return f"{note} (emailed you)" if note else "emailed you"
    return note or "-"
