"""``ankra profile auth totp start|confirm|remove``: the authenticator app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ankra_cli.options import JsonOption, ServerOption, YesOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.output import Output
    from ankra_cli.prompts import Prompter


def start(server: ServerOption = None, json_output: JsonOption = False) -> None:
    """Set up an authenticator app: shows a QR code to scan, the secret and the otpauth URI."""
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        setup = run_start(client)
    if out.json_mode:
        out.data(setup)
    else:
        render_setup(out, setup)


def run_start(client: AnkraClient) -> dict[str, Any]:
    setup: dict[str, Any] = client.call("POST", "/profile/auth/totp")
    return setup


def render_setup(out: Output, setup: dict[str, Any]) -> None:
    import io

    import segno

    qr = io.StringIO()
    segno.make(setup["otpauth_uri"], error="m").terminal(out=qr, compact=True)
    out.line("Scan this QR code with your authenticator app:")
    out.console.print(qr.getvalue(), markup=False, highlight=False, end="")
    secret = str(setup["secret"])
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    out.fields([("Secret", grouped), ("URI", str(setup["otpauth_uri"]))])
    out.line()
    out.line("Then confirm with a code from the app: `ankra profile auth totp confirm CODE`")


def confirm(
    code: Annotated[
        str, typer.Argument(metavar="CODE", help="The six-digit code the app shows now.")
    ],
    server: ServerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Confirm the authenticator app with a code; prints recovery codes when 2FA turns on."""
    from ankra_cli.output import Output, recovery_codes
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        result = run_confirm(client, code=code)
    if out.json_mode:
        out.data(result)
        return
    out.line("[green]Authenticator app set up.[/] Two-factor authentication is on.")
    if result.get("recovery_codes"):
        out.line()
        recovery_codes(out, result["recovery_codes"])


def run_confirm(client: AnkraClient, *, code: str) -> dict[str, Any]:
    from ankra_cli.code_forms import totp_code
    from ankra_cli.errors import CliError

    digits = totp_code(code)
    if digits is None:  # refused here, so a typo is not sent as a wrong code
        raise CliError(
            "An authenticator code is 6 digits: check the code the app shows and run "
            "`ankra profile auth totp confirm CODE` again (nothing was sent)"
        )
    result: dict[str, Any] = client.call(
        "POST", "/profile/auth/totp/confirm", json={"code": digits}
    )
    return result


def remove(
    yes: YesOption = False, server: ServerOption = None, json_output: JsonOption = False
) -> None:
    """Remove the authenticator app (asks first, and for your password if you have not
    confirmed it lately)."""
    from ankra_cli.output import Output
    from ankra_cli.prompts import TerminalPrompter
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        run_remove(client, prompter=TerminalPrompter(), yes=yes)
    if out.json_mode:
        out.data({})
    else:
        out.line("Authenticator app removed.")


def run_remove(client: AnkraClient, *, prompter: Prompter, yes: bool) -> None:
    from ankra_cli.confirmation import ask
    from ankra_cli.errors import CliError, hint_for
    from ankra_cli.session import with_reauthentication

    # Checked before any question: the server would ask for the password first.
    state: dict[str, Any] = client.call("GET", "/profile/auth")
    if not state["totp_enabled"]:
        raise CliError("No authenticator app is set up")
    if not state["passkey_count"]:
        raise CliError(
            "The authenticator app is your last second factor: add a passkey first, "
            "or turn two-factor authentication off",
            hint=hint_for("last_factor"),
        )
    ask(
        prompter,
        "Your authenticator app will be removed: its codes will no longer sign you in. Continue?",
        action="remove the authenticator app",
        yes=yes,
    )
    with_reauthentication(client, prompter, lambda: client.call("DELETE", "/profile/auth/totp"))
