"""PgBouncer in transaction pooling mode, from the Debian binary, in front of a test server.

``ANKRA_TEST_THROUGH_PGBOUNCER=1`` makes the session's PostgreSQL (tests/conftest.py
``postgres``) a :class:`PostgresBehindPgBouncer`: every URL it hands out names the pooler,
so the PostgreSQL tests run through it as a fleet behind one would
(``scripts/test.sh`` runs them a second time that way).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.postgres_server import PostgresServer
from tests.processes import stop

BINARY = "/usr/sbin/pgbouncer"
THROUGH_PGBOUNCER = "ANKRA_TEST_THROUGH_PGBOUNCER"

_CONFIG = """\
[databases]
* = host=127.0.0.1 port={server_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
admin_users = ankra
auth_file = {dir}/userlist.txt
logfile = {dir}/pgbouncer.log
log_connections = 0
log_disconnections = 0
pool_mode = transaction
ignore_startup_parameters = extra_float_digits,options
max_client_conn = 800
default_pool_size = 40
; The test databases share one PostgreSQL (max_connections 200): idle server connections
; of a finished test's database go soon, and the pooler never opens more than this.
max_user_connections = 150
server_idle_timeout = 10
; Hand out the server connection idle longest, not the last one used: consecutive
; transactions of one client then land on different server connections, so anything
; that leans on session state (a prepared statement, a session lock) fails here at once.
server_round_robin = 1
"""


def through_pgbouncer() -> bool:
    return os.environ.get(THROUGH_PGBOUNCER) == "1"


def free_low_port() -> int:
    """A free port below 32768: Linux hands out 32768-60999 to outgoing connections, and
    PgBouncer listening there can find its port taken between our check and its bind."""
    for _ in range(200):
        port = random.randint(20000, 32767)  # noqa: S311 - a port, not a secret
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32768")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PgBouncer:
    """PgBouncer on 127.0.0.1 in front of the PostgreSQL on ``server_port``; stopped by
    :meth:`stop` (its process, by PID)."""

    def __init__(self, server_port: int) -> None:
        self.server_port = server_port
        self.dir = Path(tempfile.mkdtemp(prefix="ankra-pgbouncer-"))
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        # As root it runs as the postgres user (as the test server does).
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def start(self) -> None:
        if not Path(BINARY).exists():
            raise RuntimeError("PgBouncer not found: apt-get install pgbouncer")
        (self.dir / "userlist.txt").write_text('"ankra" ""\n')
        if self._as:
            shutil.chown(self.dir, "postgres", "postgres")
        for _ in range(3):  # a port taken between our check and its bind: another port
            self.port = free_low_port()
            ini = self.dir / "pgbouncer.ini"
            ini.write_text(
                _CONFIG.format(server_port=self.server_port, port=self.port, dir=self.dir)
            )
            # In the foreground (no -d): the process is ours to wait for and stop by PID.
            self.process = subprocess.Popen(
                [*self._as, BINARY, "-q", str(ini)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_until_it_accepts():
                return
        raise RuntimeError("PgBouncer did not start: " + self.log())

    def _wait_until_it_accepts(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if _accepts(self.port):
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.05)
        self.process.kill()
        self.process.wait()
        return False

    def log(self) -> str:
        path = self.dir / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"

    def url(self, database: str, *, driver: bool = True) -> str:
        scheme = "postgresql+psycopg" if driver else "postgresql"
        return f"{scheme}://ankra@127.0.0.1:{self.port}/{database}"

    def drop_clients(self, database: str) -> None:
        """Close every connection to ``database``, clients' and servers' (the console's
        ``KILL``), then take new ones again (``RESUME``): the pooler going away, as a
        service's pooled connections see it."""
        import psycopg

        with psycopg.connect(self.url("pgbouncer", driver=False), autocommit=True) as console:
            console.execute(f"KILL {database}")
            console.execute(f"RESUME {database}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop(self.process)
        self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresBehindPgBouncer(PostgresServer):
    """The test server with PgBouncer in front: :meth:`url` (and so ``create_database``)
    names the pooler; :attr:`port` is still the server's own, :attr:`bouncer` the pooler."""

    def __init__(self) -> None:
        super().__init__()
        self.bouncer = PgBouncer(self.port)

    def start(self) -> str:
        super().start()
        self.bouncer.start()
        return self.url("postgres")

    def url(self, database: str, *, driver: bool = True) -> str:
        return self.bouncer.url(database, driver=driver)

    def stop(self) -> None:
        self.bouncer.stop()
        super().stop()
