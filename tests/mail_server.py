"""A real SMTP server for the tests: aiosmtpd in a process of its own, on 127.0.0.1.

Each message is written to a temporary file and renamed into ``DIR/mail/`` as
``N.eml``, with its envelope beside it (``N.json``: MAIL FROM, RCPT TO), so a test reads
whole messages. Its own process, so a test can stop it and start it again on the same
port (an outage), and so nothing of it runs in the test's event loop.

``DIR/mode`` steers it, read at each command: ``451`` or ``550`` answers RCPT TO so;
``stall N`` keeps a DATA command N seconds before answering (after storing it).

    python -m tests.mail_server --port P --dir DIR [--tls CERT KEY [--implicit]] [--auth U:P]
"""

from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.postgres_server import free_port


class Handler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.inbox = folder / "mail"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    def mode(self) -> str:
        try:
            return (self.folder / "mode").read_text().strip()
        except FileNotFoundError:
            return "ok"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        _server: Any,
        _session: Any,
        envelope: Any,
        address: str,
        _rcpt_options: Any,
    ) -> str:
        mode = self.mode()
        if mode == "451":
            return "451 4.3.0 Try again later"
        if mode == "550":
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        import asyncio

        with self.lock:
            number = next(self.counter)
        name = f"{time.time_ns()}-{os.getpid()}-{number}"
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos)}
        for suffix, body in ((".json", json.dumps(meta).encode()), (".eml", envelope.content)):
            with tempfile.NamedTemporaryFile(dir=self.folder, delete=False) as tmp:
                tmp.write(body)
            os.replace(tmp.name, self.inbox / f"{name}{suffix}")
        mode = self.mode()
        if mode.startswith("stall"):
            await asyncio.sleep(float(mode.split()[1]))
        return "250 Message accepted for delivery"


def main() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--implicit", action="store_true")
    parser.add_argument("--auth")
    args = parser.parse_args()
    kwargs: dict[str, Any] = {}
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*args.tls)
        kwargs["ssl_context" if args.implicit else "tls_context"] = context
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(
            _server: Any, _session: Any, _envelope: Any, _mech: str, data: Any
        ) -> Any:
            ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
                user.encode(),
                password.encode(),
            )
            return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535 itself

        kwargs.update(authenticator=authenticator, auth_require_tls=False)
    controller = Controller(
        Handler(args.dir), hostname="127.0.0.1", port=args.port, ready_timeout=10, **kwargs
    )
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)  # noqa: T201
    stop.wait()
    controller.stop()


# ---------------------------------------------------------------------------- for the tests


@dataclass(frozen=True)
class Received:
    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None and body.get_content_type() == f"text/{subtype}", subtype
        content: str = body.get_content()
        return content


class MailServer:
    """The server process for one test: start, stop, start again on the same port."""

    def __init__(
        self,
        folder: Path,
        *,
        tls: tuple[Path, Path] | None = None,
        implicit: bool = False,
        auth: str | None = None,
    ) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls, self.implicit, self.auth = tls, implicit, auth
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MailServer:
        command = [sys.executable, "-m", "tests.mail_server"]
        command += ["--port", str(self.port), "--dir", str(self.folder)]
        if self.tls:
            command += ["--tls", str(self.tls[0]), str(self.tls[1])]
            if self.implicit:
                command.append("--implicit")
        if self.auth:
            command += ["--auth", self.auth]
        log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.folder / "server.log").read_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the SMTP server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def url(self, query: str = "timeout=3") -> str:
        scheme = "smtps" if self.implicit else "smtp"
        who = f"{self.auth}@" if self.auth else ""
        return f"{scheme}://{who}localhost:{self.port}?{query}"

    def set_mode(self, mode: str) -> None:
        (self.folder / "mode").write_text(mode)

    def received(self) -> list[Received]:
        found = []
        for eml in sorted((self.folder / "mail").glob("*.eml")):
            meta = json.loads(eml.with_suffix(".json").read_text())
            message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append(Received(message, meta["mail_from"], meta["rcpt_tos"]))
        return found

    def wait_for(
        self,
        predicate: Callable[[list[Received]], bool],
        *,
        timeout: float = 30,
        what: str = "mail",
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if predicate(got):
                return got
            time.sleep(0.2)
        raise AssertionError(f"no {what} within {timeout} s; got {[m.subject for m in got]}")


if __name__ == "__main__":
    main()
