"""The bare references: FastAPI parsing the sign-in body, no database, no middleware.

Served by bench/run.py with the same uvicorn and the same flags as ``ankra-auth serve``
(one worker, no server header, no uvicorn access log), so the ratio of a service path to
these endpoints is what the service's own work costs.

- ``POST /api/v1/auth/mfa/totp``: an ``async def`` route, on the event loop as the
  service's second-factor routes are: **the reference** every ratio divides by.
- ``POST /sync/api/v1/auth/mfa/totp``: the same as a ``def`` route, which FastAPI runs on
  its threadpool (the reference of the rounds before the fifth): the table's second line.

    python bench/bare_app.py --port 8001
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI

from ankra_auth.signin.schemas import AuthenticatedOut, TotpCodeIn


def _answer(body: TotpCodeIn) -> AuthenticatedOut:
    return AuthenticatedOut(
        access_token=body.mfa_token,
        expires_in=43200,
        enrollment_required=False,
        device_token=body.mfa_token,
    )


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/api/v1/auth/mfa/totp")
    async def bare_totp(body: TotpCodeIn) -> AuthenticatedOut:
        return _answer(body)

    # Sync: FastAPI runs it on its threadpool (anyio's), a thread hand-off per request.
    @app.post("/sync/api/v1/auth/mfa/totp")
    def bare_totp_sync(body: TotpCodeIn) -> AuthenticatedOut:
        return _answer(body)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        "bare_app:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        server_header=False,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
