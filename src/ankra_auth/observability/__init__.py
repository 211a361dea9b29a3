"""Logs, metrics and request ids: installed on the app in one call."""

from __future__ import annotations

from fastapi import FastAPI

from ankra_auth.observability.middleware import ObservabilityMiddleware


def install_observability(app: FastAPI) -> None:
    """Request ids, JSON access lines and latency metrics for every request.

    ``/metrics`` is not a route of the app: ``ankra-auth serve --metrics-port``
    serves it on a port of its own (``serving.serve_metrics``).
    """
    app.add_middleware(ObservabilityMiddleware)
