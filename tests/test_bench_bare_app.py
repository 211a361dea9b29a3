"""The benchmark's bare reference answers the sign-in body as the service's schema wants it.

Every ratio in bench/run.py divides by this endpoint's figures, so it must succeed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi.testclient import TestClient

BARE_APP = Path(__file__).resolve().parents[1] / "bench" / "bare_app.py"


def test_the_bare_endpoint_answers_200_with_the_authenticated_shape() -> None:
    spec = importlib.util.spec_from_file_location("bare_app", BARE_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with TestClient(module.create_app()) as client:
        r = client.post("/api/v1/auth/mfa/totp", json={"mfa_token": "t" * 43, "code": "123456"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "authenticated" and r.json()["device_token"]
