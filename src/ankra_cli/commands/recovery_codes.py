"""``ankra profile auth recovery-codes regenerate``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ankra_cli.options import JsonOption, ServerOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.prompts import Prompter


def regenerate(server: ServerOption = None, json_output: JsonOption = False) -> None:
    """Make a fresh set of recovery codes; the old set stops working."""
    from ankra_cli.output import Output, recovery_codes
    from ankra_cli.prompts import TerminalPrompter
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        result = run_regenerate(client, prompter=TerminalPrompter())
    if out.json_mode:
        out.data(result)
    else:
        recovery_codes(out, result["recovery_codes"])
        out.line("Your previous recovery codes no longer work.")


def run_regenerate(client: AnkraClient, *, prompter: Prompter) -> dict[str, Any]:
    from ankra_cli.session import with_reauthentication

    result: dict[str, Any] = with_reauthentication(
        client, prompter, lambda: client.call("POST", "/profile/auth/recovery-codes")
    )
    return result
