"""Asking the person: a prompter object so flows can be driven by tests and scripts.

Passwords come from ``ANKRA_PASSWORD`` when set (automation), else a no-echo prompt on
a terminal, else one line of standard input (``printf 'pw\\n' | ankra login``).
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Protocol

from ankra_cli.errors import CliError


class Prompter(Protocol):
    def text(self, label: str) -> str: ...

    def password(self, label: str = "Password") -> str: ...

    def confirm(self, question: str) -> bool | None:
        """``question [y/N]``: true only for yes; ``None`` when nobody can answer."""
        ...


class TerminalPrompter:
    def text(self, label: str) -> str:
        if sys.stdin.isatty():
            try:
                return input(f"{label}: ").strip()
            except EOFError as exc:
                raise CliError("No answer given") from exc
        return self._line(label).strip()

    def password(self, label: str = "Password") -> str:
        from_env = os.environ.get("ANKRA_PASSWORD")
        if from_env:
            return from_env
        if sys.stdin.isatty():
            try:
                return getpass.getpass(f"{label}: ")
            except EOFError as exc:
                raise CliError("No password given") from exc
        return self._line(label)

    def confirm(self, question: str) -> bool | None:
        # Only a person at a terminal answers: a script's standard input must not say yes
        # by accident (it passes --yes instead).
        if not sys.stdin.isatty():
            return None
        from ankra_cli.output import terminal_safe

        sys.stderr.write(f"{terminal_safe(question)} [y/N] ")
        sys.stderr.flush()
        try:
            answer = input()
        except EOFError:
            sys.stderr.write("\n")
            return False
        return answer.strip().lower() in {"y", "yes"}

    @staticmethod
    def _line(label: str) -> str:
        # Not a terminal: say what is being read (on stderr) and take one line, no echo.
        sys.stderr.write(f"{label}: ")
        sys.stderr.flush()
        line = sys.stdin.readline()
        sys.stderr.write("\n")
        if not line:
            raise CliError(f"Standard input ended: no answer for {label!r}")
        return line.rstrip("\r\n")
