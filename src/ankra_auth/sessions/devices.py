"""A session's device as a person would name it ("Firefox on Linux", "ankra CLI on macOS")."""

from __future__ import annotations

import re
from functools import lru_cache

from ua_parser import parse

# Our own CLI's user agent (ankra_cli.client.USER_AGENT): "ankra-cli/0.1.0 (Linux; Python 3.11.7)".
_ANKRA_CLI = re.compile(r"ankra-cli/\S+ \((?P<os>[^;)]+)")
_OS_NAMES = {"Mac OS X": "macOS", "Darwin": "macOS", "Other": ""}


@lru_cache(maxsize=1024)
def describe(user_agent: str | None) -> str:
    """A short name for the browser or program and its system; "Unknown device" if neither."""
    if not user_agent:
        return "Unknown device"
    cli = _ANKRA_CLI.match(user_agent)
    if cli:
        return f"ankra CLI on {_os_name(cli['os'])}"
    parsed = parse(user_agent)
    program = parsed.user_agent.family if parsed.user_agent else ""
    system = _os_name(parsed.os.family) if parsed.os else ""
    program = "" if program == "Other" else program
    if program and system:
        return f"{program} on {system}"
    return program or system or "Unknown device"


def _os_name(family: str) -> str:
    return _OS_NAMES.get(family, family)
