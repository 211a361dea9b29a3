"""``main`` wires only the command being run: help, usage and errors stay those of the whole app."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ankra_cli.main import COMMANDS, GROUPS, build, named_command


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
@pytest.mark.parametrize("tail", [["--help"], ["--no-such-option"], ["--json", "--help"]])
def test_a_command_alone_answers_as_in_the_whole_app(
    path: tuple[str, ...], tail: list[str]
) -> None:
    runner = CliRunner()
    whole = runner.invoke(build(), [*path, *tail], prog_name="ankra")
    alone = runner.invoke(build(path), [*path, *tail], prog_name="ankra")
    assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output)
    assert "Usage: ankra " + " ".join(path) in whole.output


def test_only_a_whole_command_path_is_wired_alone() -> None:
    assert named_command(["profile", "auth", "status", "--json"]) == ("profile", "auth", "status")
    assert named_command(["login"]) == ("login",)
    assert named_command(["profile", "auth", "totp", "start"]) == (
        "profile",
        "auth",
        "totp",
        "start",
    )
    for args in (
        [],
        ["--help"],
        ["profile"],
        ["profile", "auth"],
        ["profile", "auth", "totp"],
        ["profile", "--help", "auth", "status"],
        ["profile", "auth", "stat"],
    ):
        assert named_command(args) is None


def test_every_group_is_in_the_tree_and_reached_by_a_command() -> None:
    assert set(GROUPS) == {path[:depth] for path in COMMANDS for depth in range(1, len(path))}
