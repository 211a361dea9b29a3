"""``ankra org list|members|require``: your organisations, their members and their policy."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ankra_cli.options import JsonOption, ServerOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.output import Output

OrgArgument = Annotated[
    str,
    typer.Argument(
        metavar="ORG",
        help="The organisation: its name, its id, or the id's first characters (see `list`).",
        show_default=False,
    ),
]
MAX_GRACE_DAYS = 90
# What members have, in the page's words (recovery codes are a fallback, never listed).
METHOD_WORDS = {"passkey": "Passkey", "totp": "Authenticator app"}


class Requirement(StrEnum):
    two_factor = "two-factor"
    passkey = "passkey"
    off = "off"


def list_(server: ServerOption = None, json_output: JsonOption = False) -> None:
    """List the organisations you belong to: your role and what each requires of members."""
    from ankra_cli.orgs import run_list
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        orgs = run_list(client)
    if out.json_mode:
        out.data(orgs)
    else:
        render_list(out, orgs)


def render_list(out: Output, orgs: list[dict[str, Any]]) -> None:
    from ankra_cli.ids import short_ids
    from ankra_cli.orgs import POLICY_WORDS, policy

    if not orgs:
        out.line("You belong to no organisation.")
        return
    ids = short_ids([str(o["id"]) for o in orgs])
    out.table(
        ["ID", "Name", "Role", "Requires", "Grace days"],
        [
            [short, str(o["name"]), str(o["role"]), POLICY_WORDS[policy(o)], _grace(o)]
            for short, o in zip(ids, orgs, strict=True)
        ],
        whole=["ID"],
    )


def _grace(org: dict[str, Any]) -> str:
    from ankra_cli.orgs import policy

    return "-" if policy(org) == "off" else str(org.get("grace_days", 0))


def members(org: OrgArgument, server: ServerOption = None, json_output: JsonOption = False) -> None:
    """List an organisation's members and invitations (owners only): each member's second
    factors, and the date by which one without the required factor must add it."""
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        found, people = run_members(client, org)
    if out.json_mode:
        out.data(people)
    else:
        render_members(out, found, people)


def run_members(client: AnkraClient, given: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from ankra_cli.client import path_segment
    from ankra_cli.errors import ApiError
    from ankra_cli.orgs import find, owners_only

    org = find(client, given)
    try:
        people: list[dict[str, Any]] = client.call(
            "GET", f"/orgs/{path_segment(org['id'])}/members"
        )
    except ApiError as exc:
        raise owners_only(exc, org, "see its members") from None
    return org, people


def methods_text(methods: list[str] | None) -> str:
    if methods is None:
        return "-"
    return ", ".join(METHOD_WORDS.get(m, m) for m in methods) or "none"


def render_members(out: Output, org: dict[str, Any], people: list[dict[str, Any]]) -> None:
    from ankra_cli.output import when

    out.table(
        ["Email", "Role", "Status", "Second factors", "Due"],
        [
            [
                str(p["email"]),
                str(p["role"]),
                str(p["status"]),
                methods_text(p.get("methods")),
                when(p.get("due_at")),
            ]
            for p in people
        ],
        title=f"{org['name']}: members and invitations",
    )


def require(
    org: OrgArgument,
    requirement: Annotated[
        Requirement,
        typer.Argument(
            metavar="two-factor|passkey|off",
            help="What every member must have: two-factor authentication, a passkey "
            "(and sign in with it), or nothing.",
            case_sensitive=False,
            show_default=False,
        ),
    ],
    grace_days: Annotated[
        int | None,
        typer.Option(
            "--grace-days",
            min=0,
            max=MAX_GRACE_DAYS,
            metavar="N",
            help="Days a member who does not meet it yet has before being restricted (0 to 90).",
            show_default=False,
        ),
    ] = None,
    server: ServerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Set what an organisation requires of its members (owners only).

    A passkey requirement needs a passkey of your own first (`ankra profile auth passkeys
    open`). Members who do not meet it are restricted to securing their account, after
    the grace days if any; with --json, the organisation as the API answers.
    """
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        updated = run_require(client, org, requirement, grace_days=grace_days)
    if out.json_mode:
        out.data(updated)
    else:
        render_require(out, updated)


def require_body(requirement: Requirement, grace_days: int | None) -> dict[str, Any]:
    """The PATCH body: two-factor also drops a passkey requirement; off drops both."""
    body: dict[str, Any] = {
        Requirement.passkey: {"require_two_factor": True, "require_passkey": True},
        Requirement.two_factor: {"require_two_factor": True, "require_passkey": False},
        Requirement.off: {"require_two_factor": False, "require_passkey": False},
    }[requirement]
    if grace_days is not None:
        body["grace_days"] = grace_days
    return body


def run_require(
    client: AnkraClient, given: str, requirement: Requirement, *, grace_days: int | None
) -> dict[str, Any]:
    from ankra_cli.client import path_segment
    from ankra_cli.errors import ApiError
    from ankra_cli.orgs import find, owners_only

    org = find(client, given)
    try:
        updated: dict[str, Any] = client.call(
            "PATCH",
            f"/orgs/{path_segment(org['id'])}",
            json=require_body(requirement, grace_days),
        )
    except ApiError as exc:
        raise owners_only(exc, org, "change what it requires") from None
    return updated


def render_require(out: Output, org: dict[str, Any]) -> None:
    from ankra_cli.orgs import policy as of

    name = str(org["name"])
    kind = of(org)
    if kind == "off":
        out.plain(f"{name} no longer requires two-factor authentication of its members.")
        return
    what = "a passkey" if kind == "passkey" else "two-factor authentication"
    out.plain(f"{name} now requires {what} of every member.")
    days = int(org.get("grace_days") or 0)
    if days:
        out.plain(
            f"Members without it have {days} day{'s' if days != 1 else ''} to add it; "
            "`ankra org members` shows each one's date."
        )
    else:
        out.plain("Members without it are restricted to securing their account from now on.")
