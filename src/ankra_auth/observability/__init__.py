"""Logs, metrics and request ids: installed on the app in one call."""

from __future__ import annotations

from fastapi import FastAPI

from ankra_auth.observability import metrics
from ankra_auth.observability.middleware import ObservabilityMiddleware


def install_observability(app: FastAPI) -> None:
    """Request ids, JSON access lines and latency metrics for every request; ``GET /metrics``."""
    app.add_middleware(ObservabilityMiddleware)
    app.add_api_route(
        "/metrics", metrics.metrics_endpoint, methods=["GET"], include_in_schema=False
    )
