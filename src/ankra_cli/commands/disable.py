"""``ankra profile auth disable``: two-factor authentication off, every factor removed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ankra_cli.options import JsonOption, ServerOption, YesOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.prompts import Prompter


def disable(
    yes: YesOption = False, server: ServerOption = None, json_output: JsonOption = False
) -> None:
    """Turn two-factor authentication off: removes the authenticator app, every passkey and
    the recovery codes (asks first, and for your password if you have not confirmed it
    lately)."""
    from ankra_cli.output import Output
    from ankra_cli.prompts import TerminalPrompter
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        changed = run_disable(client, prompter=TerminalPrompter(), yes=yes)
    if out.json_mode:
        out.data({})
    elif changed:
        out.line("Two-factor authentication is off.")
    else:
        out.line("Two-factor authentication is already off: nothing to remove.")


def run_disable(client: AnkraClient, *, prompter: Prompter, yes: bool) -> bool:
    """Turn it off; ``False`` when it was off already (nothing asked, nothing sent)."""
    from ankra_cli.confirmation import ask
    from ankra_cli.errors import CliError
    from ankra_cli.session import with_reauthentication

    # Checked before any question: the server would ask for the password first.
    state: dict[str, Any] = client.call("GET", "/profile/auth")
    enforcers = [str(org["name"]) for org in state.get("enforced_by") or []]
    if enforcers:
        raise CliError(f"Two-factor authentication is required by: {', '.join(enforcers)}")
    removed = _what_goes(state)
    if not removed:
        return False
    ask(
        prompter,
        f"Two-factor authentication will be turned off: {removed} will be removed. Continue?",
        action="turn two-factor authentication off",
        yes=yes,
    )
    with_reauthentication(client, prompter, lambda: client.call("DELETE", "/profile/auth"))
    return True


def _what_goes(state: dict[str, Any]) -> str:
    """ "your authenticator app, 2 passkeys and 8 recovery codes" (empty: nothing)."""
    parts = ["your authenticator app"] if state["totp_enabled"] else []
    for count, noun in (
        (int(state["passkey_count"]), "passkey"),
        (int(state["recovery_codes_remaining"]), "recovery code"),
    ):
        if count:
            parts.append(f"{count} {noun}{'' if count == 1 else 's'}")
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)
