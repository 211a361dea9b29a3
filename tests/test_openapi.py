"""The committed OpenAPI spec is the one the app serves, and it is as precise as the
contract: every code, every field the server always sends, every operation described."""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import ValidationError
from webauthn.helpers import structs

import ankra_auth
from ankra_auth.app import create_app
from ankra_auth.config import Settings
from ankra_auth.errors import AnkraError, InvalidCode, RateLimited, ServiceUnavailable, SlowDown
from ankra_auth.events import service as events
from ankra_auth.events.types import EVENT_TYPES, SIGN_IN_METHODS
from ankra_auth.passkeys import schemas as passkey_schemas
from ankra_auth.sso import service as sso

SPEC = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
PROBLEM_JSON = "application/problem+json"
SCHEMAS = "#/components/schemas/"

# The contract's public operations: no session needed.
PUBLIC = {
    "create_user",
    "login",
    "login_with_totp",
    "login_with_recovery_code",
    "passkey_login_options",
    "login_with_passkey",
    "list_sso_providers",
    "cli_authorize",
    "cli_token",
    "healthz",
    "readyz",
}
# WebAuthn members the server may leave out (never null): optional in Level 3 too.
OPTIONAL_ON_PURPOSE = {
    ("PublicKeyCredentialDescriptorJSON", "transports"),
    ("AuthenticatorSelectionCriteria", "authenticatorAttachment"),
    ("PublicKeyCredentialCreationOptionsJSON", "hints"),
    ("PublicKeyCredentialRequestOptionsJSON", "hints"),
    # An event's named facts: each key is there only when it applies to that event.
    ("EventDetail", "note"),
    ("EventDetail", "mail"),
}


@pytest.fixture(scope="module")
def served() -> dict[str, Any]:
    """The document the app generates now (the committed one must equal it)."""
    app = create_app(Settings(database_url="sqlite://", secret_key="spec"))
    document: dict[str, Any] = json.loads(json.dumps(app.openapi()))
    return document


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def _by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for _, _, op in _operations(document)}


def _schema(document: dict[str, Any], ref: str) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"][ref.removeprefix(SCHEMAS)]
    return found


def test_committed_spec_matches_the_app(served: dict[str, Any]) -> None:
    committed = json.loads(SPEC.read_text())
    assert committed == served, (
        "openapi/openapi.json is stale: run `ankra-auth openapi > openapi/openapi.json`"
    )


def test_every_operation_has_a_stable_snake_case_id() -> None:
    committed = json.loads(SPEC.read_text())
    ids = [op["operationId"] for path in committed["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert all(i.replace("_", "").isalnum() and i.islower() for i in ids)


def test_every_operation_is_described(served: dict[str, Any]) -> None:
    """A docstring on the endpoint is its description in the document."""
    undescribed = [
        op["operationId"] for _, _, op in _operations(served) if not op.get("description")
    ]
    assert undescribed == []


def _every_error_class() -> set[type[AnkraError]]:
    """Every subclass of AnkraError in the package, whichever module defines it."""
    for module in pkgutil.walk_packages(ankra_auth.__path__, "ankra_auth."):
        if ".migrations" not in module.name and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: set[type[AnkraError]] = set()
    pending = [AnkraError]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.add(sub)
            pending.append(sub)
    return found


def test_every_error_class_code_is_a_problem_code(served: dict[str, Any]) -> None:
    codes = set(served["components"]["schemas"]["ProblemCode"]["enum"])
    missing = {e.__name__: e.code for e in _every_error_class() if e.code not in codes}
    assert missing == {}
    assert {"invalid_code", "rate_limited", "validation_error", "last_factor"} <= codes


def test_problem_schemas_require_what_each_family_always_sends(served: dict[str, Any]) -> None:
    schemas = served["components"]["schemas"]
    assert schemas["Problem"]["required"] == ["type", "title", "status", "detail", "code"]
    assert schemas["Problem"]["properties"]["code"] == {"$ref": f"{SCHEMAS}ProblemCode"}
    for name, code, fields in (
        ("InvalidCodeProblem", "invalid_code", ["attempts_remaining"]),
        ("RateLimitedProblem", "rate_limited", ["retry_after"]),
        ("SlowDownProblem", "slow_down", ["interval"]),
        ("ValidationFailedProblem", "validation_error", ["errors"]),
    ):
        base, own = schemas[name]["allOf"]
        assert base == {"$ref": f"{SCHEMAS}Problem"}
        assert own["required"] == ["code", *fields]
        assert own["properties"]["code"] == {"const": code}
    errors = schemas["ValidationFailedProblem"]["allOf"][1]["properties"]["errors"]
    assert errors["items"] == {"$ref": f"{SCHEMAS}ValidationErrorItem"}
    assert schemas["ValidationErrorItem"]["required"] == ["loc", "msg", "type"]
    assert "HTTPValidationError" not in schemas


def test_an_error_cannot_be_raised_without_the_fields_its_schema_requires() -> None:
    with pytest.raises(ValidationError):
        InvalidCode("wrong")
    with pytest.raises(ValidationError):
        SlowDown("too fast", extra={"interval": "soon"})
    with pytest.raises(TypeError, match="Retry-After"):
        ServiceUnavailable("busy")
    assert RateLimited(30).headers == {"Retry-After": "30"}
    assert InvalidCode("wrong", extra={"attempts_remaining": 4}).extra == {"attempts_remaining": 4}


def _response(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """``response``, or the shared one it references."""
    ref = response.get("$ref")
    if ref is None:
        return response
    found: dict[str, Any] = document["components"]["responses"][ref.rsplit("/", 1)[1]]
    return found


def _example(document: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["examples"][example["$ref"].rsplit("/", 1)[1]]
    return found


def test_every_problem_answer_is_typed_and_lists_its_codes(served: dict[str, Any]) -> None:
    for _, _, operation in _operations(served):
        responses = operation["responses"]
        assert "4XX" not in responses and "default" not in responses
        for status, answer in responses.items():
            if operation["operationId"] == "readyz" or status[0] not in "45":
                continue
            response = _response(served, answer)
            content = response["content"][PROBLEM_JSON]
            for code, reference in content["examples"].items():
                example = _example(served, reference)
                assert example["value"]["code"] == code
                assert example["value"]["status"] == int(status)
                assert f"`{code}`" in response["description"]
            schema = json.dumps(content["schema"])
            assert "Problem" in schema
            if status in ("429", "503"):
                assert response["headers"] == {
                    "Retry-After": {"$ref": "#/components/headers/RetryAfter"}
                }
    header = served["components"]["headers"]["RetryAfter"]
    assert header["required"] is True and header["schema"]["type"] == "integer"


def test_operations_list_the_codes_they_may_answer(served: dict[str, Any]) -> None:
    ops = _by_id(served)

    def _codes(answer: dict[str, Any]) -> set[str]:
        return set(_response(served, answer)["content"][PROBLEM_JSON]["examples"])

    def _schema_of(answer: dict[str, Any]) -> Any:
        return _response(served, answer)["content"][PROBLEM_JSON]["schema"]

    totp = ops["login_with_totp"]["responses"]
    assert _codes(totp["401"]) == {"invalid_code", "too_many_attempts", "mfa_token_invalid"}
    assert {"$ref": f"{SCHEMAS}InvalidCodeProblem"} in _schema_of(totp["401"])["oneOf"]
    assert _schema_of(totp["429"]) == {"$ref": f"{SCHEMAS}RateLimitedProblem"}
    assert _schema_of(totp["422"]) == {"$ref": f"{SCHEMAS}ValidationFailedProblem"}
    assert totp["503"] == {"$ref": "#/components/responses/ServiceUnavailable"}
    assert _codes(ops["login"]["responses"]["401"]) == {"invalid_credentials"}
    removal = ops["remove_totp"]["responses"]
    assert _codes(removal["403"]) >= {"reauthentication_required", "csrf_failed"}
    assert _codes(removal["409"]) >= {"last_factor"}
    assert _codes(removal["404"]) == {"not_found"}
    assert _codes(ops["get_me"]["responses"]["401"]) == {"not_authenticated"}
    # A restricted session may still enroll: those operations never answer enrollment_required.
    assert "enrollment_required" not in _codes(ops["start_totp"]["responses"]["403"])
    assert "enrollment_required" in _codes(ops["create_org"]["responses"]["403"])
    assert _codes(ops["cli_token"]["responses"]["400"]) >= {
        "invalid_grant",
        "authorization_pending",
        "slow_down",
        "expired_token",
    }
    assert _codes(ops["confirm_totp"]["responses"]["400"]) == {"invalid_code"}
    assert "413" in ops["create_user"]["responses"] and "413" not in ops["get_me"]["responses"]


def test_public_operations_need_no_token_and_the_rest_a_bearer(served: dict[str, Any]) -> None:
    for _, _, operation in _operations(served):
        security = operation["security"]
        assert security in ([], [{"HTTPBearer": []}]), operation["operationId"]
        if operation["operationId"] in PUBLIC:
            assert security == [], operation["operationId"]
    assert _by_id(served)["get_me"]["security"] == [{"HTTPBearer": []}]


def test_sign_in_answers_are_a_union_narrowed_by_status(served: dict[str, Any]) -> None:
    login = _by_id(served)["login"]["responses"]["200"]["content"]["application/json"]
    assert login["schema"]["discriminator"]["propertyName"] == "status"
    assert set(login["examples"]) == {"authenticated", "mfa_required"}
    assert {e["value"]["status"] for e in login["examples"].values()} == {
        "authenticated",
        "mfa_required",
    }
    schemas = served["components"]["schemas"]
    for name in ("AuthenticatedOut", "RecoveryAuthenticatedOut"):
        assert {"status", "token_type", "access_token", "device_token"} <= set(
            schemas[name]["required"]
        )
    assert {"status", "mfa_token", "methods"} <= set(schemas["MfaRequiredOut"]["required"])


def _refs(document: dict[str, Any], node: Any, seen: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMAS) and ref not in seen:
            seen.add(ref)
            _refs(document, _schema(document, ref), seen)
        for value in node.values():
            _refs(document, value, seen)
    elif isinstance(node, list):
        for value in node:
            _refs(document, value, seen)


def test_answers_require_every_field_the_server_always_sends(served: dict[str, Any]) -> None:
    answered: set[str] = set()
    for _, _, operation in _operations(served):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                _refs(served, response.get("content", {}), answered)
    optional = {
        (ref.removeprefix(SCHEMAS), field)
        for ref in answered
        for field in _schema(served, ref).get("properties", {})
        if field not in _schema(served, ref).get("required", [])
    }
    assert optional == OPTIONAL_ON_PURPOSE


def _has_example(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    if "examples" in schema:
        return True
    if "$ref" in schema:
        return _has_example(document, _schema(document, schema["$ref"]))
    if schema.get("type") == "array":
        return _has_example(document, schema["items"])
    members = schema.get("oneOf") or schema.get("anyOf")
    return bool(members) and all(_has_example(document, m) for m in members)


def test_every_json_body_has_an_example(served: dict[str, Any]) -> None:
    without = []
    for _, _, operation in _operations(served):
        bodies = [operation.get("requestBody", {}).get("content", {}).get("application/json")]
        bodies += [
            r.get("content", {}).get("application/json") for r in operation["responses"].values()
        ]
        for body in filter(None, bodies):
            if "examples" not in body and not _has_example(served, body["schema"]):
                without.append(operation["operationId"])
    assert without == []


def test_event_types_and_sign_in_methods_are_enums(served: dict[str, Any]) -> None:
    schemas = served["components"]["schemas"]
    constants = {
        value
        for module in (events, sso)
        for name, value in vars(module).items()
        if name.isupper()
        and isinstance(value, str)
        and name not in ("MAX_PAGE",)
        and (module is events or name.startswith("SSO_"))
    }
    assert constants <= EVENT_TYPES
    assert set(schemas["EventType"]["enum"]) == EVENT_TYPES
    assert schemas["EventOut"]["properties"]["type"] == {"$ref": f"{SCHEMAS}EventType"}
    # The contract's Sessions section names these seven.
    assert SIGN_IN_METHODS == {"password", "totp", "passkey", "recovery_code", "sso", "cli", "link"}
    assert set(schemas["SignInMethod"]["enum"]) == SIGN_IN_METHODS
    assert schemas["SessionOut"]["properties"]["method"]["$ref"] == f"{SCHEMAS}SignInMethod"


def test_webauthn_options_are_the_level_3_dictionaries(served: dict[str, Any]) -> None:
    schemas = served["components"]["schemas"]
    enums = {
        "AuthenticatorTransport": structs.AuthenticatorTransport,
        "UserVerificationRequirement": structs.UserVerificationRequirement,
        "ResidentKeyRequirement": structs.ResidentKeyRequirement,
        "AuthenticatorAttachment": structs.AuthenticatorAttachment,
        "AttestationConveyancePreference": structs.AttestationConveyancePreference,
        "PublicKeyCredentialHint": structs.PublicKeyCredentialHint,
    }
    for name, library in enums.items():
        assert set(schemas[name]["enum"]) == {member.value for member in library}, name
        alias = getattr(passkey_schemas, name)
        assert set(get_args(alias.__value__)) == set(schemas[name]["enum"])
    creation = schemas["PublicKeyCredentialCreationOptionsJSON"]
    request = schemas["PublicKeyCredentialRequestOptionsJSON"]
    names = ("PublicKeyCredentialCreationOptionsJSON", "PublicKeyCredentialRequestOptionsJSON")
    never_null = json.dumps([schemas[n] for n in (*names, "AuthenticatorSelectionCriteria")])
    assert '"null"' not in never_null
    assert creation["properties"]["authenticatorSelection"] == {
        "$ref": f"{SCHEMAS}AuthenticatorSelectionCriteria"
    }
    assert request["properties"]["userVerification"] == {
        "$ref": f"{SCHEMAS}UserVerificationRequirement"
    }
    ops = _by_id(served)
    for operation_id, name in (
        ("passkey_registration_options", "PublicKeyCredentialCreationOptionsJSON"),
        ("passkey_login_options", "PublicKeyCredentialRequestOptionsJSON"),
        ("cli_handoff_passkey_options", "PublicKeyCredentialRequestOptionsJSON"),
    ):
        answer = ops[operation_id]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"] == {"$ref": f"{SCHEMAS}{name}"}
