from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ankra_cli import docs

ROOT = Path(__file__).resolve().parents[2]


def test_committed_reference_is_current() -> None:
    committed = (ROOT / "docs" / "cli.md").read_text()
    assert committed == docs.render(), "docs/cli.md is stale: run python -m ankra_cli.docs"


def test_reference_names_every_command_of_the_contract() -> None:
    text = docs.render()
    for command in [
        "ankra login",
        "ankra logout",
        "ankra profile auth status",
        "ankra profile auth totp start",
        "ankra profile auth totp confirm",
        "ankra profile auth totp remove",
        "ankra profile auth recovery-codes regenerate",
        "ankra profile auth passkeys list",
        "ankra profile auth passkeys open",
        "ankra profile auth passkeys rename",
        "ankra profile auth passkeys remove",
        "ankra profile auth disable",
        "ankra profile auth events",
        "ankra profile auth sessions list",
        "ankra profile auth sessions revoke",
    ]:
        assert f"## `{command}`" in text
    assert "--no-browser" in text and "--limit N" in text
    assert "`--cursor CURSOR`" in text and "`--all`" in text
    assert text.count("`-y, --yes`") == 5  # every command that asks [y/N] first
    assert "--timeout" not in text  # hidden options stay out of the reference


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "cli.md"
    stale.write_text("old\n")
    result = subprocess.run(
        [sys.executable, "-m", "ankra_cli.docs", "--check", str(stale)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "out of date" in result.stderr
    assert docs.main([str(stale)]) == 0 and docs.main(["--check", str(stale)]) == 0
