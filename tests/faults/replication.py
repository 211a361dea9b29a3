"""A primary and a streaming standby with synchronous replication, from the Debian binaries.

The primary commits only once the standby has the commit's WAL (``synchronous_commit=on``
with ``synchronous_standby_names``), so a commit the service answered survives the
primary's death. The standby is a ``pg_basebackup -R`` of the primary (``standby.signal``
and the primary's address written for it) on its own port.
"""

from __future__ import annotations

import time

import psycopg

from tests.postgres_server import PostgresServer

# Crash-safe where it matters here: commits wait for the standby (the primary is killed,
# the standby lives on); a base backup needs full page writes.
REPLICATED = {"synchronous_commit": "on", "full_page_writes": "on", "wal_level": "replica"}


class ReplicatedPair:
    """:attr:`primary` and :attr:`standby`; :meth:`kill_primary` and :meth:`promote` switch."""

    def __init__(self) -> None:
        self.primary = PostgresServer(REPLICATED)
        self.standby = PostgresServer(REPLICATED)

    def start(self, database: str) -> str:
        """Both servers, ``database`` on them, replicating synchronously; returns the
        service's multi-host URL (libpq's form: the read-write one of the two)."""
        self.primary.start()
        self.primary.create_database(database)
        self.standby.tool(
            "pg_basebackup",
            "-D",
            str(self.standby.data),
            "-R",  # standby.signal and primary_conninfo
            "-X",
            "stream",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary.port),
            "-U",
            "ankra",
        )
        self.standby.launch()
        # Set after the base backup, so the standby does not inherit it: promoted, it has no
        # standby of its own to wait for.
        with self._admin(self.primary) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
            conn.execute("SELECT pg_reload_conf()")
        self._wait_until_synchronous()
        hosts = f"host=127.0.0.1:{self.primary.port}&host=127.0.0.1:{self.standby.port}"
        options = "target_session_attrs=read-write&connect_timeout=3"
        return f"postgresql+psycopg://ankra@/{database}?{hosts}&{options}"

    def kill_primary(self) -> None:
        """``pg_ctl stop -m immediate``: no shutdown checkpoint, clients cut off."""
        self.primary.tool("pg_ctl", "stop", "-m", "immediate", "-D", str(self.primary.data))
        if self.primary.process is not None:
            self.primary.process.wait(timeout=30)
            self.primary.process = None

    def promote(self) -> None:
        """``pg_ctl promote``, returning once the standby accepts writes."""
        self.standby.tool("pg_ctl", "promote", "-w", "-t", "30", "-D", str(self.standby.data))

    def stop(self) -> None:
        self.standby.stop()
        self.primary.stop()

    @staticmethod
    def _admin(server: PostgresServer) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(server.url("postgres", driver=False), autocommit=True)

    def _wait_until_synchronous(self) -> None:
        deadline = time.monotonic() + 30
        with self._admin(self.primary) as conn:
            while time.monotonic() < deadline:
                row = conn.execute("SELECT sync_state FROM pg_stat_replication").fetchone()
                if row is not None and row[0] == "sync":
                    return
                time.sleep(0.1)
        raise RuntimeError("the standby did not become synchronous")
