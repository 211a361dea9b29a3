"""Fixtures for running ``ankra`` as a subprocess against real service processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ankra_auth import migrate
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from tests.live_server import service_process

# Variables of the developer's own shell that would change what the CLI does.
_SCRUBBED = ("ANKRA_SERVER", "ANKRA_PASSWORD", "ANKRA_CONFIG_DIR", "ANKRA_LOGIN_TIMEOUT", "BROWSER")


@dataclass
class Ankra:
    """Runs ``python -m ankra_cli`` with its own config directory and server."""

    server: str
    config_dir: Path
    browser_log: Path
    env: dict[str, str]

    @property
    def credentials_file(self) -> Path:
        return self.config_dir / "credentials.json"

    def run(
        self, *args: str, input: str | None = None, timeout: float = 60, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ankra_cli", *args],
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env={**self.env, **env},
            timeout=timeout,
        )

    def popen(self, *args: str, input: str = "", **env: str) -> subprocess.Popen[str]:
        """Start ``ankra`` with ``input`` as its whole standard input; read its output later."""
        process = subprocess.Popen(
            [sys.executable, "-m", "ankra_cli", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**self.env, **env},
        )
        assert process.stdin is not None
        process.stdin.write(input)
        process.stdin.close()
        process.stdin = None  # communicate() must not touch it again
        return process


def _browser_script(directory: Path, log: Path) -> str:
    """A ``BROWSER`` command that records each URL it is asked to open, one a line."""
    script = directory / "record_browser.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            with open({str(log)!r}, "a") as log:
                log.write(sys.argv[1] + "\\n")
            """
        )
    )
    return f"{sys.executable} {script} %s"


def make_ankra(server: str, tmp_path: Path) -> Ankra:
    log = tmp_path / "browser.log"
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(
        ANKRA_CONFIG_DIR=str(tmp_path / "config"),
        ANKRA_SERVER=server,
        BROWSER=_browser_script(tmp_path, log),
        COLUMNS="200",
        NO_COLOR="1",
    )
    return Ankra(server=server, config_dir=tmp_path / "config", browser_log=log, env=env)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One ``ankra-auth serve`` process on a SQLite file, shared by a module's tests."""
    directory = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{directory / 'ankra.db'}"
    migrate.upgrade(make_engine(Settings(database_url=url, secret_key="x")))
    with service_process(url, log_path=directory / "server.log") as base:
        yield base


@pytest.fixture
def ankra(live_server: str, tmp_path: Path) -> Ankra:
    return make_ankra(live_server, tmp_path)
