"""Organisations as people name them: ``ORG`` is an id, a unique id prefix, or a unique name.

Only the caller's own organisations (``GET /api/v1/orgs``) are looked at, so a name can
never reach someone else's organisation, and a failed lookup says nothing about others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ankra_cli.errors import CliError

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient

LIST_COMMAND = "ankra org list"

# The policy in words, as the org page says it.
POLICY_WORDS = {"off": "off", "two_factor": "two-factor", "passkey": "passkey"}


def policy(org: dict[str, Any]) -> str:
    """``off``, ``two_factor`` or ``passkey``: what the organisation requires."""
    if org.get("require_passkey"):
        return "passkey"
    return "two_factor" if org.get("require_two_factor") else "off"


def run_list(client: AnkraClient) -> list[dict[str, Any]]:
    orgs: list[dict[str, Any]] = client.call("GET", "/orgs")
    return orgs


def find(client: AnkraClient, given: str) -> dict[str, Any]:
    """The caller's organisation that ``given`` names; raises :class:`CliError` otherwise."""
    return choose(run_list(client), given)


def choose(orgs: list[dict[str, Any]], given: str) -> dict[str, Any]:
    """An exact id, then a name (exact, then with case forgiven), then an id prefix."""
    from ankra_cli.ids import resolve

    for org in orgs:
        if org["id"] == given:
            return org
    wanted = given.strip()
    for same in (
        [o for o in orgs if o["name"] == wanted],
        [o for o in orgs if str(o["name"]).casefold() == wanted.casefold()],
    ):
        if len(same) == 1:
            return same[0]
        if len(same) > 1:
            raise CliError(
                f"{len(same)} of your organisations are called {wanted!r}: give its id instead",
                hint=f"See the ids with `{LIST_COMMAND}`.",
            )
    if not orgs:
        raise CliError(f"No such organisation: {given!r}: you belong to none")
    ids = [str(o["id"]) for o in orgs]
    try:
        wanted_id = resolve(given, ids, kind="organisation", list_command=LIST_COMMAND)
    except CliError as exc:
        if len(given) < 4 or "none of yours" in exc.message:
            raise CliError(
                f"No such organisation: none of yours is called {given!r} or has an id "
                f"starting with it (see `{LIST_COMMAND}`)"
            ) from None
        raise
    return next(o for o in orgs if o["id"] == wanted_id)


def owners_only(exc: Exception, org: dict[str, Any], what: str) -> Exception:
    """A ``forbidden`` answer in words that say who may do it; anything else unchanged."""
    from ankra_cli.errors import ApiError

    if isinstance(exc, ApiError) and exc.code == "forbidden":
        role = org.get("role") or "member"
        return CliError(
            f"Only owners of {org['name']} can {what}; you are a {role}",
            hint="`ankra org list` shows your role in each organisation.",
        )
    return exc
