from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from ankra_auth import migrate

router = APIRouter(tags=["operations"])


class HealthOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"]


class NotReadyOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "unavailable", "database": "unreachable"}]}
    )

    status: Literal["unavailable"]
    database: Literal["unreachable", "migrations pending"]


@router.get("/healthz", name="healthz")
def healthz() -> HealthOut:
    """The process is alive."""
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    name="readyz",
    response_model=HealthOut,
    responses={503: {"model": NotReadyOut, "description": "Not ready"}},
)
def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is current."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = migrate.is_current(engine)
    except Exception:  # any database failure means "not ready"
        return _not_ready(NotReadyOut(status="unavailable", database="unreachable"))
    if not current:
        return _not_ready(NotReadyOut(status="unavailable", database="migrations pending"))
    return JSONResponse(HealthOut(status="ok").model_dump())


def _not_ready(body: NotReadyOut) -> JSONResponse:
    return JSONResponse(body.model_dump(), status_code=503)
