"""The committed OpenAPI spec is the one the app serves."""

from __future__ import annotations

import json
from pathlib import Path

from ankra_auth.app import create_app
from ankra_auth.config import Settings

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def test_committed_spec_matches_the_app() -> None:
    app = create_app(Settings(database_url="sqlite://", secret_key="spec"))
    served = json.loads(json.dumps(app.openapi()))
    committed = json.loads(SPEC.read_text())
    assert committed == served, (
        "openapi/openapi.json is stale: run `ankra-auth openapi > openapi/openapi.json`"
    )


def test_every_operation_has_a_stable_snake_case_id() -> None:
    committed = json.loads(SPEC.read_text())
    ids = [op["operationId"] for path in committed["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert all(i.replace("_", "").isalnum() and i.islower() for i in ids)
