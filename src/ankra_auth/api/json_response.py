"""A response model's JSON built directly, for the sign-in answers (hot path).

A sync endpoint that returns a model has FastAPI validate it again against the route's
response model, on the thread pool: a second hand-off per request, and a second
validation of values our own code just built. Returning the JSON as a ``Response``
skips both; the route keeps ``response_model=`` so its OpenAPI schema is unchanged.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_response(body: BaseModel, sub_response: Response) -> Response:
    """``body`` as ``application/json``, with what the endpoint set on its injected
    ``sub_response`` (cookies), as FastAPI would have merged it."""
    out = Response(
        content=body.model_dump_json(),
        media_type="application/json",
        status_code=sub_response.status_code or 200,
    )
    out.headers.raw.extend(sub_response.headers.raw)
    return out
