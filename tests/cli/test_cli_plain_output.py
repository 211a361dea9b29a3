"""The plain-text path of ``Output`` writes exactly what rich writes, byte for byte.

``Output.line``, ``Output.plain`` and ``Output.fields`` skip rich (about 0.03 s of start-up)
when rich would print no escape codes and the text is one rich leaves alone; each case
here prints the same thing through rich and compares.
"""

from __future__ import annotations

import io
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from ankra_cli.output import Output, is_plain, plain_fields, plain_width, rich_fields

# Printable ASCII and the characters rich treats specially: markup, emoji codes, tabs,
# newlines, wide and combining characters.
ALPHABET = string.ascii_letters + string.digits + " -_.,`'()[]:\\/\t\n" + "éß漢字😀\u0301"
# Half the cases from text the plain path takes, so it is not only ever refused.
TEXT = st.text(alphabet=ALPHABET, max_size=70) | st.text(
    alphabet=string.ascii_letters + string.digits + " -_.,`'()/", max_size=70
)
STATUS_CARD = [
    ("Two-factor authentication", "on", "green"),
    ("Authenticator app", "set up"),
    ("Passkeys", "2"),
    ("Recovery codes left", "3  (running low: make new ones)", "yellow"),
    ("Required by", "Acme Ltd, Example Org"),
]
CHECKS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def console(width: int) -> Console:
    """``Output.console`` as it is on a pipe (no terminal), writing to a buffer."""
    return Console(file=io.StringIO(), width=width, highlight=False, soft_wrap=True)


def printed(c: Console) -> str:
    assert isinstance(c.file, io.StringIO)
    return c.file.getvalue()


@CHECKS
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([p[0] for p in STATUS_CARD]) | TEXT,
            TEXT,
            st.sampled_from(["", "bold", "green"]),
        ),
        min_size=1,
        max_size=6,
    ),
    width=st.integers(min_value=0, max_value=130),
)
def test_plain_fields_are_what_rich_prints(rows: list[tuple[str, str, str]], width: int) -> None:
    plain = plain_fields([(label, value) for label, value, _ in rows], width)
    if plain is not None:
        c = console(width)
        rich_fields(c, rows)
        assert plain == printed(c)


@pytest.mark.parametrize("width", [40, 59, 60, 61, 80, 200])
def test_the_status_card_takes_the_plain_path_where_it_fits(width: int) -> None:
    pairs = [(p[0], p[1]) for p in STATUS_CARD]
    plain = plain_fields(pairs, width)
    c = console(width)
    rich_fields(c, STATUS_CARD)
    widest = max(len(p[0]) for p in pairs) + 2 + max(len(p[1]) for p in pairs)
    assert (plain is not None) == (widest <= width)
    if plain is not None:
        assert plain == printed(c)


@CHECKS
@given(text=TEXT, markup=st.booleans(), width=st.integers(min_value=1, max_value=130))
def test_plain_lines_are_what_rich_prints(text: str, markup: bool, width: int) -> None:
    if is_plain(text, markup=markup):
        c = console(width)
        c.print(text, markup=markup)
        assert text + "\n" == printed(c)


def test_markup_and_emoji_codes_go_to_rich() -> None:
    assert not is_plain("[bold]Your recovery codes[/]", markup=True)
    assert is_plain("a [name] as typed", markup=False)
    assert not is_plain("a :smile: face", markup=False)
    assert is_plain(
        "Make new recovery codes: `ankra profile auth recovery-codes regenerate`.", markup=True
    )


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"COLUMNS": "200"},
        {"COLUMNS": "0"},
        {"COLUMNS": "x"},
        {"FORCE_COLOR": ""},
        {"FORCE_COLOR": "1"},
        {"TTY_COMPATIBLE": "1"},
        {"TTY_COMPATIBLE": "0"},
        {"NO_COLOR": "1"},
    ],
)
def test_plain_width_is_rich_console_width_when_rich_would_not_style(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    width = plain_width()
    c = Console(highlight=False, soft_wrap=True)  # as Output.console makes it
    if width is not None:
        assert not c.is_terminal and c.color_system is None
        assert c.width == width
    assert width is not None or env.keys() & {"FORCE_COLOR", "TTY_COMPATIBLE"} or c.width == 0


@pytest.mark.parametrize("force_rich", [False, True])
def test_output_prints_the_same_through_either_path(
    force_rich: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    if force_rich:
        # Not a terminal to rich (no styles), but plain_width() leaves the printing to rich.
        monkeypatch.setenv("FORCE_COLOR", "")
    else:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
    out = Output(json_mode=False)
    out.fields(STATUS_CARD)
    out.line()
    out.line("Make new recovery codes: `ankra profile auth recovery-codes regenerate`.")
    assert (out._console is None) is not force_rich  # the plain path made no Console
    out.line("[bold yellow]Secure your account to continue:[/] an organisation requires it.")
    out.plain("  a [name] with\ttab")
    assert capsys.readouterr().out == (
        "Two-factor authentication  on                             \n"
        "Authenticator app          set up                         \n"
        "Passkeys                   2                              \n"
        "Recovery codes left        3  (running low: make new ones)\n"
        "Required by                Acme Ltd, Example Org          \n"
        "\n"
        "Make new recovery codes: `ankra profile auth recovery-codes regenerate`.\n"
        "Secure your account to continue: an organisation requires it.\n"
        "  a [name] with tab\n"  # the tab to column 16, by rich either way
    )
