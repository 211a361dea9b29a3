"""``ankra profile auth disable``: two-factor authentication off, every factor removed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ankra_cli.options import JsonOption, ServerOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.prompts import Prompter


def disable(server: ServerOption = None, json_output: JsonOption = False) -> None:
    """Turn two-factor authentication off: removes the authenticator app, every passkey and
    the recovery codes (asks for your password if you have not confirmed it lately)."""
    from ankra_cli.output import Output
    from ankra_cli.prompts import TerminalPrompter
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        run_disable(client, prompter=TerminalPrompter())
    if out.json_mode:
        out.data({})
    else:
        out.line("Two-factor authentication is off.")


def run_disable(client: AnkraClient, *, prompter: Prompter) -> None:
    from ankra_cli.session import with_reauthentication

    with_reauthentication(client, prompter, lambda: client.call("DELETE", "/profile/auth"))
