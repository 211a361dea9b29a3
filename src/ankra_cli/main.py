"""The ``ankra`` app: every command and sub-app is wired here, and only here.

Command modules import nothing heavy at the top (httpx, rich, segno load inside the
command that needs them), so ``ankra profile auth status`` starts quickly.
"""

from __future__ import annotations

import sys

import typer

from ankra_cli.commands import (
    disable,
    events,
    login,
    logout,
    passkeys,
    recovery_codes,
    sessions,
    status,
    totp,
)
from ankra_cli.errors import CliError

app = typer.Typer(
    name="ankra",
    help="Ankra on the command line: sign in and manage two-factor authentication.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
profile_app = typer.Typer(help="Your profile.", no_args_is_help=True)
auth_app = typer.Typer(
    help="Two-factor authentication (Profile → Authentication).", no_args_is_help=True
)
totp_app = typer.Typer(help="Authenticator app (TOTP).", no_args_is_help=True)
recovery_codes_app = typer.Typer(help="Recovery codes.", no_args_is_help=True)
passkeys_app = typer.Typer(help="Passkeys and security keys.", no_args_is_help=True)
sessions_app = typer.Typer(help="Where you are signed in.", no_args_is_help=True)

app.command("login")(login.login)
app.command("logout")(logout.logout)
app.add_typer(profile_app, name="profile")
profile_app.add_typer(auth_app, name="auth")

auth_app.command("status")(status.status)
auth_app.add_typer(totp_app, name="totp")
totp_app.command("start")(totp.start)
totp_app.command("confirm")(totp.confirm)
totp_app.command("remove")(totp.remove)
auth_app.add_typer(recovery_codes_app, name="recovery-codes")
recovery_codes_app.command("regenerate")(recovery_codes.regenerate)
auth_app.add_typer(passkeys_app, name="passkeys")
passkeys_app.command("list")(passkeys.list_)
passkeys_app.command("open")(passkeys.open_)
passkeys_app.command("rename")(passkeys.rename)
passkeys_app.command("remove")(passkeys.remove)
auth_app.command("disable")(disable.disable)
auth_app.command("events")(events.events)
auth_app.add_typer(sessions_app, name="sessions")
sessions_app.command("list")(sessions.list_)
sessions_app.command("revoke")(sessions.revoke)


def main() -> None:
    """Entry point: failures become one ``Error:`` line on stderr and exit status 1."""
    try:
        app(prog_name="ankra")
    except CliError as exc:
        from ankra_cli.output import terminal_safe

        # The message is often the server's problem detail: one safe line.
        sys.stderr.write(f"Error: {terminal_safe(exc.message, multiline=False)}\n")
        if exc.hint:
            sys.stderr.write(f"{exc.hint}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted\n")
        sys.exit(130)
