"""``ankra profile auth recovery-codes regenerate``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ankra_cli.options import JsonOption, ServerOption, YesOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.prompts import Prompter


def regenerate(
    yes: YesOption = False, server: ServerOption = None, json_output: JsonOption = False
) -> None:
    """Make a fresh set of recovery codes; the old set stops working (asks first, and for
    your password if you have not confirmed it lately)."""
    from ankra_cli.output import Output, recovery_codes
    from ankra_cli.prompts import TerminalPrompter
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        result = run_regenerate(client, prompter=TerminalPrompter(), yes=yes)
    if out.json_mode:
        out.data(result)
    else:
        recovery_codes(out, result["recovery_codes"])
        out.line("Your previous recovery codes no longer work.")


def run_regenerate(client: AnkraClient, *, prompter: Prompter, yes: bool) -> dict[str, Any]:
    from ankra_cli.confirmation import ask
    from ankra_cli.errors import CliError
    from ankra_cli.session import with_reauthentication

    # Checked before any question: the server would ask for the password first.
    state: dict[str, Any] = client.call("GET", "/profile/auth")
    if not state["two_factor_enabled"]:
        raise CliError("Turn on two-factor authentication first")
    remaining = int(state["recovery_codes_remaining"])
    if remaining:
        codes = "code" if remaining == 1 else "codes"
        question = f"Your {remaining} current recovery {codes} will stop working. Continue?"
    else:
        question = "You have no recovery codes left; a new set of 10 will be made. Continue?"
    ask(prompter, question, action="regenerate your recovery codes", yes=yes)
    result: dict[str, Any] = with_reauthentication(
        client, prompter, lambda: client.call("POST", "/profile/auth/recovery-codes")
    )
    return result
