"""The OpenAPI document as precise as the contract, derived from the app's routes.

Each operation lists the problems it may answer, per status: those its endpoint and its
dependencies declare with :func:`errors.raises` (a dependency's, such as the session
check's ``not_authenticated``, reach every operation that uses it), and those the app
answers around every route (a body too large or invalid, a database not ready, a lost
race). Operations without a bearer token say so (``security: []``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from ankra_auth.api.problems_doc import (
    RETRY_AFTER_HEADER,
    problem_components,
    problem_examples,
    problem_response,
)
from ankra_auth.errors import (
    AnkraError,
    Conflict,
    OriginNotAllowed,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
    declared_raises,
)
from ankra_auth.hardening.sign_in_origin import SIGN_IN_PREFIX
from ankra_auth.startup import UNGATED_PATHS

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def install_openapi(app: FastAPI) -> None:
    """Serve (and ``ankra-auth openapi`` print) the document with the problems documented."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document(app, generate())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI, schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's; ours are problems
        schemas.pop(name, None)
    schemas.update(problem_components())
    components.setdefault("headers", {})["RetryAfter"] = RETRY_AFTER_HEADER
    components["examples"] = problem_examples()
    shared: dict[str, Any] = {}
    documented = set()
    for path, route in _api_routes(app):
        for method in sorted(route.methods or ()):
            operation = schema["paths"][path][method.lower()]
            _document_operation(route, method, operation, shared)
            documented.add(operation["operationId"])
    components["responses"] = dict(sorted(shared.items()))
    missed = {
        operation["operationId"] for ops in schema["paths"].values() for operation in ops.values()
    } - documented
    if missed:  # a route this module cannot see: its problems would go unlisted
        raise RuntimeError(f"operations without their route: {sorted(missed)}")


def _api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every route the document shows, with its path there."""
    # Newer FastAPI keeps included routers nested; its own document walks them this way.
    route_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if route_contexts is None:
        contexts: Iterable[Any] = app.routes
    else:
        contexts = route_contexts(app.routes)
    for context in contexts:
        route = getattr(context, "original_route", context)
        if isinstance(route, APIRoute) and route.include_in_schema:
            yield context.path_format, route


def _document_operation(
    route: APIRoute, method: str, operation: dict[str, Any], shared: dict[str, Any]
) -> None:
    responses: dict[str, Any] = operation["responses"]
    validated = responses.pop("422", None) is not None  # FastAPI's: the request has inputs
    responses.pop("4XX", None)
    by_status: dict[int, set[type[AnkraError]]] = {}
    for error in _problems(route, method, validated=validated):
        by_status.setdefault(error.status, set()).add(error)
    for status, errors in by_status.items():
        responses[str(status)] = problem_response(errors, shared)
    operation["responses"] = dict(sorted(responses.items()))
    operation.setdefault("security", [])  # no bearer dependency: a public operation


def _problems(route: APIRoute, method: str, *, validated: bool) -> Iterator[type[AnkraError]]:
    for call in _calls(route.dependant):
        for declared in declared_raises(call):
            if declared.applies(route.name, method):
                yield declared.error
    if route.path_format.startswith(SIGN_IN_PREFIX):
        yield OriginNotAllowed  # a page served from another address (hardening.sign_in_origin)
    if route.body_field is not None:
        yield PayloadTooLarge
    if validated:
        yield ValidationFailed
    if route.path_format not in UNGATED_PATHS:
        yield ServiceUnavailable  # starting up, or the database is unreachable
        if method not in SAFE_METHODS:
            yield Conflict  # a uniqueness race lost to a concurrent request


def _calls(dependant: Dependant) -> Iterator[object]:
    """The endpoint and every dependency it runs, however deep."""
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)
