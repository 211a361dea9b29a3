"""The problems in the OpenAPI document, derived from the error tree.

``ProblemCode`` lists every code of :func:`errors.every_error`; ``Problem`` is the base
every answer has; an error with ``fields`` gets a schema of its own (``InvalidCodeProblem``:
``code`` is ``invalid_code`` and ``attempts_remaining`` is required), so a generated
client narrows on ``code`` and reads the fields without a check.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ankra_auth.errors import PROBLEM_JSON, AnkraError, every_error

SCHEMAS = "#/components/schemas/"
PROBLEM_REF = {"$ref": f"{SCHEMAS}Problem"}
RETRY_AFTER_REF = {"$ref": "#/components/headers/RetryAfter"}

RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "Seconds to wait before trying again",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}


def schema_name(error: type[AnkraError]) -> str:
    """The component of an error with fields of its own (``InvalidCode`` -> ``InvalidCodeProblem``)."""
    return f"{error.__name__}Problem"


def problem_components() -> dict[str, Any]:
    """``ProblemCode``, ``Problem``, one schema per error with fields, and what they use."""
    errors = every_error()
    components: dict[str, Any] = {
        "ProblemCode": {
            "title": "ProblemCode",
            "description": "Every `code` a problem may carry: stable strings clients branch on.",
            "type": "string",
            "enum": sorted({e.code for e in errors}),
        },
        "Problem": {
            "title": "Problem",
            "description": "RFC 9457 problem details, the body of every error answer.",
            "type": "object",
            "required": ["type", "title", "status", "detail", "code"],
            "properties": {
                "type": {"type": "string", "format": "uri", "description": "Names the code"},
                "title": {"type": "string", "description": "The code's short summary"},
                "status": {"type": "integer", "description": "The HTTP status"},
                "detail": {"type": "string", "description": "What happened, for people"},
                "code": {"$ref": f"{SCHEMAS}ProblemCode"},
            },
        },
    }
    for error in errors:
        if error.fields is None:
            continue
        fields = error.fields.model_json_schema(
            mode="serialization", ref_template=SCHEMAS + "{model}"
        )
        components.update(fields.pop("$defs", {}))
        components[schema_name(error)] = {
            "title": schema_name(error),
            "description": f"`{error.code}`: {error.title}.",
            "allOf": [
                PROBLEM_REF,
                {
                    "type": "object",
                    "required": ["code", *fields.get("required", [])],
                    "properties": {"code": {"const": error.code}, **fields["properties"]},
                },
            ],
        }
    return components


def problem_response(errors: Iterable[type[AnkraError]], shared: dict[str, Any]) -> dict[str, Any]:
    """The answer of one status that may carry any of ``errors``: its codes described,
    its schema narrowed to them, an example of each, and ``Retry-After`` when sent.

    An answer of one error is a response of ``shared`` (the document's
    ``components/responses``), referenced: most operations share a few of them.
    """
    by_code = {e.code: e for e in sorted(errors, key=lambda e: (e.fields is None, e.code))}
    if len(by_code) == 1:
        (error,) = by_code.values()
        if error.__name__ not in shared:
            shared[error.__name__] = _response(by_code)
        return {"$ref": f"#/components/responses/{error.__name__}"}
    return _response(by_code)


def _response(by_code: dict[str, type[AnkraError]]) -> dict[str, Any]:
    members: list[dict[str, Any]] = [
        {"$ref": SCHEMAS + schema_name(e)} for e in by_code.values() if e.fields is not None
    ]
    plain = sorted(code for code, e in by_code.items() if e.fields is None)
    if plain:
        members.append(
            {
                "allOf": [
                    PROBLEM_REF,
                    {
                        "type": "object",
                        "required": ["code"],
                        "properties": {"code": {"type": "string", "enum": plain}},
                    },
                ]
            }
        )
    schema = members[0] if len(members) == 1 else {"oneOf": members}
    ordered = sorted(by_code.values(), key=lambda e: e.code)
    response: dict[str, Any] = {
        "description": "\n".join(f"- `{e.code}`: {e.title}" for e in ordered),
        "content": {
            PROBLEM_JSON: {
                "schema": schema,
                "examples": {
                    e.code: {"$ref": f"#/components/examples/{e.__name__}"} for e in ordered
                },
            }
        },
    }
    if any(e.sends_retry_after for e in ordered):
        response["headers"] = {"Retry-After": RETRY_AFTER_REF}
    return response


def problem_examples() -> dict[str, Any]:
    """An example of each error's problem, for ``components/examples`` (by class name,
    as its shared response and its schema are named)."""
    errors = every_error()
    names = [e.__name__ for e in errors]
    if len(set(names)) != len(names):
        raise RuntimeError(f"two error classes share a name: {sorted(names)}")
    return {e.__name__: {"summary": e.title, "value": example(e)} for e in errors}


def example(error: type[AnkraError]) -> dict[str, Any]:
    """A problem as ``error`` answers it, its fields from their model's example."""
    body: dict[str, Any] = {
        "type": f"https://ankra.dev/problems/{error.code}",
        "title": error.title,
        "status": error.status,
        "detail": error.title,
        "code": error.code,
    }
    if error.fields is not None:
        examples = error.fields.model_json_schema(mode="serialization").get("examples")
        if not examples:
            raise RuntimeError(f"{error.fields.__name__} needs an example (json_schema_extra)")
        body.update(examples[0])
    return body
