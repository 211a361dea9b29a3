"""Options every command shares, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the API's JSON answer instead of text for people.")
]
ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        metavar="URL",
        help="Ankra server (default: ANKRA_SERVER, else the saved sign-in, else http://localhost:8000).",
        show_default=False,
    ),
]
YesOption = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Do it without asking [y/N] (for scripts; needed when standard input is not a terminal).",
    ),
]
CursorOption = Annotated[
    str | None,
    typer.Option(
        "--cursor",
        metavar="CURSOR",
        help="Start where an earlier page ended (its next_cursor).",
        show_default=False,
    ),
]
