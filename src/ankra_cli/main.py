"""The ``ankra`` app: every command and sub-app is wired here, and only here.

Command modules import nothing heavy at the top (httpx, rich, segno load inside the
command that needs them), so ``ankra profile auth status`` starts quickly. The tree is a
table: :func:`build` wires all of it (:data:`app`, which docs/cli.md is made from), and
:func:`main` wires only the command its arguments name, when they start with a whole
command path: then one command module is imported and typer reads one signature, not
fifteen (about 0.015 s). Nothing else of the tree is reached once click has followed that
path, so help, usage and errors are the same (tests/cli/test_cli_main.py).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from ankra_cli.errors import Cancelled, CliError

if TYPE_CHECKING:
    app: typer.Typer

ROOT_HELP = "Ankra on the command line: sign in and manage two-factor authentication."
# Every group, parents first, each with its help.
GROUPS: dict[tuple[str, ...], str] = {
    ("profile",): "Your profile.",
    ("profile", "auth"): "Two-factor authentication (Profile → Authentication).",
    ("profile", "auth", "totp"): "Authenticator app (TOTP).",
    ("profile", "auth", "recovery-codes"): "Recovery codes.",
    ("profile", "auth", "passkeys"): "Passkeys and security keys.",
    ("profile", "auth", "sessions"): "Where you are signed in.",
    ("org",): "Your organisations: members, what they require, their events.",
}
# Every command: its path and ``module:function`` in ankra_cli.commands, in the order
# the groups list them.
COMMANDS: dict[tuple[str, ...], str] = {
    ("login",): "login:login",
    ("logout",): "logout:logout",
    ("profile", "auth", "status"): "status:status",
    ("profile", "auth", "totp", "start"): "totp:start",
    ("profile", "auth", "totp", "confirm"): "totp:confirm",
    ("profile", "auth", "totp", "remove"): "totp:remove",
    ("profile", "auth", "recovery-codes", "regenerate"): "recovery_codes:regenerate",
    ("profile", "auth", "passkeys", "list"): "passkeys:list_",
    ("profile", "auth", "passkeys", "open"): "passkeys:open_",
    ("profile", "auth", "passkeys", "rename"): "passkeys:rename",
    ("profile", "auth", "passkeys", "remove"): "passkeys:remove",
    ("profile", "auth", "disable"): "disable:disable",
    ("profile", "auth", "events"): "events:events",
    ("profile", "auth", "sessions", "list"): "sessions:list_",
    ("profile", "auth", "sessions", "revoke"): "sessions:revoke",
    ("org", "list"): "org:list_",
    ("org", "members"): "org:members",
    ("org", "require"): "org:require",
    ("org", "events"): "org_events:events",
}


def command_function(path: tuple[str, ...]) -> Callable[..., Any]:
    module, _, name = COMMANDS[path].partition(":")
    function: Callable[..., Any] = getattr(
        importlib.import_module(f"ankra_cli.commands.{module}"), name
    )
    return function


def build(only: tuple[str, ...] | None = None) -> typer.Typer:
    """The app with every group, and every command (or only the command at ``only``)."""
    root = typer.Typer(
        name="ankra",
        help=ROOT_HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    groups: dict[tuple[str, ...], typer.Typer] = {(): root}
    for path in COMMANDS:
        # A group joins its parent where its first command comes, as when written out.
        for depth in range(1, len(path)):
            if path[:depth] not in groups:
                groups[path[:depth]] = typer.Typer(help=GROUPS[path[:depth]], no_args_is_help=True)
                groups[path[: depth - 1]].add_typer(groups[path[:depth]], name=path[depth - 1])
        if only is None or path == only:
            groups[path[:-1]].command(path[-1])(command_function(path))
    return root


def named_command(args: Sequence[str]) -> tuple[str, ...] | None:
    """The command path ``args`` start with, if they start with a whole one."""
    for path in COMMANDS:
        if tuple(args[: len(path)]) == path:
            return path
    return None


def __getattr__(name: str) -> Any:
    # ``app`` (the whole tree) is built when asked for, not on every start.
    if name == "app":
        return build()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point: failures become one ``Error:`` line on stderr and exit status 1."""
    try:
        build(named_command(sys.argv[1:]))(prog_name="ankra")
    except Cancelled as exc:
        sys.stderr.write(f"{exc.message}\n")
        sys.exit(1)
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
