"""Process set-up for ``ankra-auth serve``: logging, metrics across workers, the metrics port."""

from __future__ import annotations

import atexit
import logging.config
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ankra_auth.observability.logging import log_config

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(*, json_lines: bool, workers: int, open_url: str | None = None) -> dict[str, Any]:
    """Configure logging here and return the same config for uvicorn to apply in each worker.

    ``open_url`` is the page that uvicorn's start-up line names instead of its bind address.

    With several workers, metrics go through prometheus-client's multiprocess mode
    (the workers inherit ``PROMETHEUS_MULTIPROC_DIR``), so ``/metrics`` on any worker
    reports the sum of all of them.
    """
    config = log_config(json_lines=json_lines, open_url=open_url)
    logging.config.dictConfig(config)
    if workers > 1 or os.environ.get(MULTIPROC_ENV):
        _multiprocess_dir()
    return config


def _multiprocess_dir() -> None:
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        # prometheus-client requires an empty directory per run: stale files
        # from a previous run would be added to this run's counters.
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return
    created = tempfile.mkdtemp(prefix="ankra-metrics-")
    atexit.register(shutil.rmtree, created, ignore_errors=True)
    os.environ[MULTIPROC_ENV] = created


def serve_metrics(*, host: str, port: int) -> None:
    """Serve the Prometheus text format on ``host:port`` from a thread of this process.

    Called in the process that runs uvicorn (its supervisor under ``--workers N``,
    which reads every worker's files), after :func:`prepare`. The port is separate
    from the public one so a proxy or firewall can keep it private; any path answers.
    """
    from prometheus_client import start_http_server

    from ankra_auth.clock import SystemClock
    from ankra_auth.config import get_settings
    from ankra_auth.db import make_engine
    from ankra_auth.mail.status import OutboxCollector
    from ankra_auth.observability import metrics

    registry = metrics.registry()
    # The outbox's figures come from the database, once per scrape.
    registry.register(OutboxCollector(make_engine(get_settings()), SystemClock().now))
    start_http_server(port, addr=host, registry=registry)
