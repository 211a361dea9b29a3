"""The ``[y/N]`` before a change that cannot be undone; ``--yes`` answers it for scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ankra_cli.errors import Cancelled, CliError

if TYPE_CHECKING:
    from ankra_cli.prompts import Prompter


def ask(prompter: Prompter, question: str, *, action: str, yes: bool) -> None:
    """Return once the person said yes (or passed ``--yes``); else raise, nothing changed.

    ``question`` says what will happen ("... Continue?"); ``action`` completes "add --yes
    to ..." in the refusal when standard input is not a terminal.
    """
    if yes:
        return
    answer = prompter.confirm(question)
    if answer is None:
        raise CliError(
            f"Standard input is not a terminal, so nobody can answer [y/N]: "
            f"add --yes to {action}. Nothing was changed."
        )
    if not answer:
        raise Cancelled("Cancelled: nothing was changed.")
