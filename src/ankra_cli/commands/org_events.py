"""``ankra org events``: an organisation's changes and its members' 2FA changes, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ankra_cli.commands.org import OrgArgument
from ankra_cli.options import CursorOption, JsonOption, ServerOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.output import Output

COMMAND = "ankra org events"


def events(
    org: OrgArgument,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100, metavar="N", help="How many events.")
    ] = 20,
    cursor: CursorOption = None,
    server: ServerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show an organisation's events (owners only): policy and membership changes, and
    each member's two-factor changes while a member. No sign-ins, no IP addresses.

    With --json, the API's page as it came ({"events": [...], "next_cursor": ...}).
    """
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        found, page = run_events(client, org, limit=limit, cursor=cursor)
    if out.json_mode:
        out.data(page)
    else:
        render(out, found, page, given=org, limit=limit, first=cursor is None)


def run_events(
    client: AnkraClient, given: str, *, limit: int, cursor: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    from ankra_cli.client import path_segment
    from ankra_cli.errors import ApiError
    from ankra_cli.orgs import find, owners_only

    org = find(client, given)
    params: dict[str, Any] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    try:
        page: dict[str, Any] = client.call(
            "GET", f"/orgs/{path_segment(org['id'])}/events", params=params
        )
    except ApiError as exc:
        raise owners_only(exc, org, "see its events") from None
    return org, page


def render(
    out: Output,
    org: dict[str, Any],
    page: dict[str, Any],
    *,
    given: str,
    limit: int,
    first: bool = True,
) -> None:
    from ankra_cli.labels import org_event_detail, org_event_label
    from ankra_cli.output import when

    rows = page.get("events") or []
    if not rows:
        out.plain(f"No events for {org['name']} yet." if first else "No older events.")
    else:
        out.table(
            ["When", "Event", "Member", "Detail"],
            [
                [
                    when(e.get("created_at")),
                    org_event_label(str(e["type"])),
                    str((e.get("user") or {}).get("email") or "-"),
                    org_event_detail(e.get("detail")) or "-",
                ]
                for e in rows
            ],
            title=f"{org['name']}: events, newest first",
        )
    following = page.get("next_cursor")
    if following:
        out.plain(f"Older events: {COMMAND} {_quoted(given)} --limit {limit} --cursor {following}")


def _quoted(value: str) -> str:
    import shlex

    return shlex.quote(value)
