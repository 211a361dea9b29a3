"""``ankra`` in a pseudo-terminal of a chosen size, as a person at a keyboard runs it.

The process gets the terminal as its controlling terminal and as stdin, stdout and
stderr, so ``isatty()``, ``getpass`` (which opens ``/dev/tty``) and rich's width all see
a real terminal. :meth:`Terminal.expect` waits for text on the screen, :meth:`send`
types a line, :meth:`finish` waits for the exit; :func:`screen_lines` is what was shown,
without escape codes.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass, field

from tests.cli.conftest import Ankra

_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def screen_text(raw: bytes) -> str:
    """The characters a terminal shows: escape codes removed, CR LF as one line break."""
    return _ESCAPES.sub("", raw.decode("utf-8", "replace")).replace("\r\n", "\n")


def screen_lines(raw: bytes) -> list[str]:
    return screen_text(raw).split("\n")


def _make_controlling_terminal() -> None:
    # In the child, after setsid (start_new_session): stdin becomes its terminal.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@dataclass
class Terminal:
    process: subprocess.Popen[bytes]
    master: int
    output: bytearray = field(default_factory=bytearray)

    def _read(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; ``False`` once the terminal is closed."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every process holding the terminal has exited
            return False
        self.output.extend(chunk)
        return bool(chunk)

    def expect(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in screen_text(bytes(self.output)):
            if time.monotonic() > deadline or not self._read(0.2):
                raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen}")

    def send(self, line: str) -> None:
        os.write(self.master, f"{line}\r".encode())  # Enter sends CR; the terminal makes it LF

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self._read(0.2):
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"still running; the screen:\n{self.screen}")
        code = self.process.wait(timeout=10)
        os.close(self.master)
        return code

    @property
    def screen(self) -> str:
        return screen_text(bytes(self.output))


def spawn(ankra: Ankra, *args: str, columns: int = 80, rows: int = 40, **env: str) -> Terminal:
    """Start ``ankra ARGS`` in a new terminal of ``columns`` x ``rows`` (no ``COLUMNS``:
    the width is the terminal's own)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    environment = {k: v for k, v in {**ankra.env, **env}.items() if k not in {"COLUMNS", "LINES"}}
    environment["TERM"] = "xterm-256color"
    process = subprocess.Popen(
        [sys.executable, "-m", "ankra_cli", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=environment,
        start_new_session=True,
        preexec_fn=_make_controlling_terminal,  # runs before exec; the tests spawn from one thread
    )
    os.close(slave)
    return Terminal(process=process, master=master)


def run_in_terminal(ankra: Ankra, *args: str, columns: int = 80, **env: str) -> tuple[int, str]:
    """Run a command that asks nothing; its exit status and screen."""
    terminal = spawn(ankra, *args, columns=columns, **env)
    code = terminal.finish()
    return code, terminal.screen
