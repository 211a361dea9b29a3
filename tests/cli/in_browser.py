"""What the CLI's browser tests share: the URL ``ankra login`` opened, the page and code
``--no-browser`` printed, and a Chromium page whose authenticator holds a passkey."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page

from tests.cli.conftest import Ankra
from tests.soft_authenticator import SoftCredential


def opened_url(ankra: Ankra, process: subprocess.Popen[str]) -> str:
    """The URL the CLI handed to ``BROWSER`` (recorded in ``ankra.browser_log``)."""
    deadline = time.monotonic() + 30
    while not (ankra.browser_log.exists() and ankra.browser_log.read_text().strip()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the browser was never opened"
        time.sleep(0.05)
    return ankra.browser_log.read_text().split()[0]


def shown_on_terminal(process: subprocess.Popen[str]) -> tuple[str, str]:
    """The page URL and the user code that ``--no-browser`` prints (on stderr)."""
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        assert line or process.poll() is None, "".join(lines)
        lines.append(line)
        if "enter the code" in line:
            url = next(x.strip() for x in lines if x.strip().startswith("http"))
            return url, line.split("enter the code", 1)[1].split()[0]
    raise AssertionError("no code was shown: " + "".join(lines))


@contextmanager
def browser_holding(
    browser: Browser, credential: SoftCredential, *, discoverable: bool = True
) -> Iterator[Page]:
    """A Chromium page whose virtual authenticator holds ``credential`` (registered
    through the API by a software authenticator), as the person's phone, password
    manager or security key would."""
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        authenticator = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )["authenticatorId"]
        cdp.send(
            "WebAuthn.addCredential",
            {
                "authenticatorId": authenticator,
                "credential": credential.for_chromium(discoverable=discoverable),
            },
        )
        yield page
    finally:
        context.close()
