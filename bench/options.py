"""What one benchmark run was asked for (bench/run.py's command line)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Options:
    users: int
    small: int
    big: int
    clients: int
    threads: int
    duration: float
    warmup: float
    rounds: int
    storm: int
    cli_runs: int
    workdir: Path
    server_env: dict[str, str]
    side_by_side_only: bool = False
    cli_only: bool = False
    workers: tuple[int, ...] = (2,)
    through_pgbouncer: bool = True
    peers: tuple[str, ...] = field(default=("allauth",))
    peer_users: int = 12_000
    db_settings: dict[str, str] = field(default_factory=dict)
    # The database's processes (PostgreSQL, PgBouncer): their CPU is measured beside the server's.
    db_pids: tuple[int, ...] = ()
    paths: tuple[str, ...] = ("totp", "recovery", "passkey", "passkey_alone")


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
