"""Ids as people handle them: tables show a short unique prefix, commands take one back.

A 32-character id does not fit an 80-column table beside anything else, and a folded id
cannot be copied. As git does with commits, tables show the shortest prefix of at least
:data:`SHOWN` characters that no other listed id shares, and every command that takes an
id accepts any unique prefix of at least :data:`MIN_GIVEN` characters (``--json`` keeps
the whole ids).
"""

from __future__ import annotations

from collections.abc import Sequence

from ankra_cli.errors import CliError

SHOWN = 8
MIN_GIVEN = 4


def short_ids(ids: Sequence[str]) -> list[str]:
    """Each id cut to one length, the shortest (from :data:`SHOWN`) that keeps them apart."""
    length = SHOWN
    longest = max(map(len, ids), default=0)
    while length < longest and len({i[:length].lower() for i in ids}) < len(set(ids)):
        length += 1
    return [i[:length] for i in ids]


def resolve(given: str, ids: Sequence[str], *, kind: str, list_command: str) -> str:
    """The one id of ``ids`` that is ``given`` or starts with it (case forgiven).

    Raises :class:`CliError` for a prefix that is too short, unknown or shared; the message
    names how many ids share it, never which.
    """
    if given in ids:
        return given
    see = f"see `{list_command}`"
    if len(given) < MIN_GIVEN:
        raise CliError(
            f"{given!r} is too short: give at least {MIN_GIVEN} characters of the {kind} id ({see})"
        )
    wanted = given.lower()
    matches = [i for i in ids if i.lower().startswith(wanted)]
    if not matches:
        raise CliError(f"No such {kind}: none of yours has an id starting with {given!r} ({see})")
    if len(matches) > 1:
        raise CliError(
            f"{given!r} is the start of {len(matches)} {kind} ids: give more characters ({see})"
        )
    return matches[0]
