"""``ankra``: the command-line client of the Ankra Auth API."""

__version__ = "0.1.0"

import sys

# Start-up time is part of every command. Two optional imports that this CLI never
# uses cost about 0.2 s when their packages happen to be installed; mark them absent:
# httpcore probes for trio (we are synchronous), and httpx loads its own command-line
# tool (click, rich, pygments) on import.
sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
