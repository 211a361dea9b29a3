"""Output for people (rich tables, on stdout) or for programs (``--json``: the API's JSON)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

# C0 (but tab and newline), DEL and C1: what a terminal may act on (ESC ] 8 links,
# ESC [ 2J clears, CR overwrites a line, the C1 CSI), never just show.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n]")


def terminal_safe(text: str, *, multiline: bool = True) -> str:
    """``text`` with every control character removed, before it reaches a terminal.

    The server refuses such characters in names already; this holds whatever a server
    sends (defence in depth). A value meant for one line also loses tabs and newlines.
    """
    text = _CONTROL.sub("", text)
    return text if multiline else _LINE_BREAKS.sub(" ", text)


class Output:
    def __init__(self, *, json_mode: bool) -> None:
        self.json_mode = json_mode
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, soft_wrap=True)
        return self._console

    def data(self, value: Any) -> None:
        """The API's answer as JSON; the whole of stdout in ``--json`` mode (control
        characters arrive escaped by ``json.dumps``, so nothing raw reaches a terminal)."""
        sys.stdout.write(json.dumps(value, indent=2) + "\n")
        sys.stdout.flush()

    def info(self, message: str) -> None:
        """Progress and instructions: stderr, so ``--json`` output stays parseable."""
        sys.stderr.write(terminal_safe(message) + "\n")
        sys.stderr.flush()

    def line(self, message: str = "") -> None:
        """Fixed text with rich markup; anything from the server or the person goes to
        :meth:`plain`, so a ``[`` in a passkey name is printed, not parsed."""
        self.console.print(terminal_safe(message))

    def plain(self, message: str) -> None:
        self.console.print(terminal_safe(message), markup=False)

    def table(
        self, columns: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None
    ) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(Text(terminal_safe(cell, multiline=False)) for cell in row))
        self.console.print(table)

    def fields(self, pairs: Sequence[tuple[str, str] | tuple[str, str, str]]) -> None:
        """Labelled values, no borders; a third element is a rich style for the value."""
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for label, value, *style in pairs:
            table.add_row(
                label, Text(terminal_safe(value, multiline=False), style=style[0] if style else "")
            )
        self.console.print(table)


def when(value: str | None) -> str:
    """An RFC 3339 timestamp as ``YYYY-MM-DD HH:MM UTC`` (or a dash)."""
    if not value:
        return "-"
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def recovery_codes(out: Output, codes: Sequence[str]) -> None:
    out.line("[bold]Your recovery codes[/] (each works once; they will not be shown again):")
    out.line()
    for code in codes:
        out.plain(f"  {terminal_safe(code, multiline=False)}")
    out.line()
    out.line("Keep them somewhere safe, apart from your devices: a password manager or on paper.")
