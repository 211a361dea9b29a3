"""Output for people (rich tables, on stdout) or for programs (``--json``: the API's JSON).

Importing and running rich costs about 0.03 s per command. When rich would print no
escape codes at all (stdout is not a terminal) and the text is plain ASCII that rich
would neither parse nor wrap, :meth:`Output.line`, :meth:`Output.plain` and
:meth:`Output.fields` write the very text rich would write, without importing it;
tests/cli/test_cli_plain_output.py holds the two side by side.
"""

from __future__ import annotations

import builtins
import json
import os
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
# What rich prints exactly as given: printable ASCII and newlines (no tab to expand, no
# wide character), without an emoji code (rich replaces ``:name:``, so any ``:x:`` here).
_PLAIN = re.compile(r"[ -~\n]*\Z")
_EMOJI_CODE = re.compile(r":\S*?:")


def terminal_safe(text: str, *, multiline: bool = True) -> str:
    """``text`` with every control character removed, before it reaches a terminal.

    The server refuses such characters in names already; this holds whatever a server
    sends (defence in depth). A value meant for one line also loses tabs and newlines.
    """
    text = _CONTROL.sub("", text)
    return text if multiline else _LINE_BREAKS.sub(" ", text)


def plain_width() -> int | None:
    """The width rich's ``Console`` would render at, if it would print no escape codes.

    ``None`` when rich might style its output: stdout is a terminal, or the environment
    forces or states terminal support (``FORCE_COLOR``, ``TTY_COMPATIBLE``), or IPython
    runs; also for ``COLUMNS=0``. Otherwise the width rich takes: ``COLUMNS``, else the
    width of the first of stdin, stdout, stderr that is a terminal, else (or if 0) 80.
    """
    if hasattr(builtins, "get_ipython") or "FORCE_COLOR" in os.environ:
        return None
    if "TTY_COMPATIBLE" in os.environ:
        return None
    try:
        if sys.stdout.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns) or None  # at width 0 rich prints nothing at all
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns or 80
        except (AttributeError, ValueError, OSError):
            continue
    return 80


def is_plain(text: str, *, markup: bool) -> bool:
    """``text`` comes out of rich unchanged (``markup``: parsed for ``[style]`` tags)."""
    if markup and "[" in text:
        return False
    return _PLAIN.match(text) is not None and _EMOJI_CODE.search(text) is None


def plain_fields(pairs: Sequence[tuple[str, ...]], width: int) -> str | None:
    """What :meth:`Output.fields` prints through rich on a console without styles, or
    ``None`` where rich would do more than pad (a row wider than ``width``, or text it
    would change)."""
    labels = [pair[0] for pair in pairs]
    values = [pair[1] for pair in pairs]
    if not all(is_plain(label, markup=True) and "\n" not in label for label in labels):
        return None
    if not all(is_plain(value, markup=False) and "\n" not in value for value in values):
        return None
    label_width = max(map(len, labels), default=0)
    value_width = max(map(len, values), default=0)
    if not label_width or not value_width or label_width + 2 + value_width > width:
        return None  # rich gives an empty column one cell, and wraps what does not fit
    return "".join(
        f"{label.ljust(label_width)}  {value.ljust(value_width)}\n"
        for label, value in zip(labels, values, strict=True)
    )


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
        text = terminal_safe(message)
        if is_plain(text, markup=True) and plain_width() is not None:
            self._write(text + "\n")
        else:
            self.console.print(text)

    def plain(self, message: str) -> None:
        text = terminal_safe(message)
        if is_plain(text, markup=False) and plain_width() is not None:
            self._write(text + "\n")
        else:
            self.console.print(text, markup=False)

    @staticmethod
    def _write(text: str) -> None:
        # As rich's Console does: write, then flush (stdout and stderr interleave in order).
        sys.stdout.write(text)
        sys.stdout.flush()

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        title: str | None = None,
        whole: Sequence[str] = (),
    ) -> None:
        """A table; the ``whole`` columns (ids) are never wrapped or folded, the others
        wrap at spaces and fold only a word longer than their width."""
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column, overflow="fold", no_wrap=column in whole)
        for row in rows:
            table.add_row(*(Text(terminal_safe(cell, multiline=False)) for cell in row))
        self.console.print(table)

    def fields(self, pairs: Sequence[tuple[str, str] | tuple[str, str, str]]) -> None:
        """Labelled values, no borders; a third element is a rich style for the value."""
        safe = [(label, terminal_safe(value, multiline=False)) for label, value, *_ in pairs]
        width = plain_width()
        text = None if width is None else plain_fields(safe, width)
        if text is not None:
            self._write(text)
            return
        rich_fields(self.console, pairs)


def rich_fields(console: Console, pairs: Sequence[tuple[str, str] | tuple[str, str, str]]) -> None:
    """:meth:`Output.fields` through rich: a borderless grid, labels in bold."""
    from rich.table import Table
    from rich.text import Text

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, value, *style in pairs:
        table.add_row(
            label, Text(terminal_safe(value, multiline=False), style=style[0] if style else "")
        )
    console.print(table)


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
