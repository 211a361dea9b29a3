"""Strict TypeScript clients from the committed OpenAPI document, against a real service.

openapi-typescript generates the types and openapi-fetch calls the API
(tests/ts_client/client.ts); @hey-api/openapi-ts generates an SDK (hey-client.ts). Both
programs compile with strict, noUncheckedIndexedAccess and exactOptionalPropertyTypes,
without `any`, casts or non-null assertions, and sign in through both answers, reading
typed problems on the way. (@hey-api's own runtime is compiled as a project of its own,
without exactOptionalPropertyTypes, which it does not support.)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.live_server import service_process

ROOT = Path(__file__).resolve().parents[1]
CLIENT_DIR = Path(__file__).resolve().parent / "ts_client"
SPEC = ROOT / "openapi" / "openapi.json"
SOURCES = ("client.ts", "hey-client.ts", "totp.ts")
# Escape hatches a strict client must not need.
FORBIDDEN = {
    "any": re.compile(r"\bany\b"),
    "a cast": re.compile(r"\bas\b|<\w+>\s*\w"),
    "a non-null assertion": re.compile(r"[\w)\]]!(?!=)"),
    "a suppressed error": re.compile(r"@ts-(ignore|expect-error|nocheck)"),
}


def _node_modules() -> Path:
    if shutil.which("node") is None:
        pytest.fail("node is not installed (scripts/test.sh installs nodejs)")
    modules = CLIENT_DIR / "node_modules"
    if not (modules / "typescript").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENT_DIR, check=True)
    return modules


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _project(tmp_path: Path) -> Path:
    """The client in a folder of its own, its types generated from the committed document."""
    project = tmp_path / "client"
    project.mkdir()
    for name in (*SOURCES, "package.json", "tsconfig.json", "hey.tsconfig.json"):
        shutil.copy(CLIENT_DIR / name, project / name)
    shutil.copy(CLIENT_DIR / "hey-sdk.tsconfig.json", project / "hey-sdk.tsconfig.json")
    (project / "node_modules").symlink_to(_node_modules())
    bin_dir = project / "node_modules" / ".bin"
    _run([str(bin_dir / "openapi-typescript"), str(SPEC), "-o", "schema.ts"], project)
    hey = [str(bin_dir / "openapi-ts"), "-i", str(SPEC), "-o", "hey-src", "-s", "--no-log-file"]
    _run(
        [*hey, "-c", "@hey-api/client-fetch", "-p", "@hey-api/typescript", "@hey-api/sdk"], project
    )
    for config in ("tsconfig.json", "hey-sdk.tsconfig.json", "hey.tsconfig.json"):
        _run([str(bin_dir / "tsc"), "-p", config], project)
    return project


def _program(project: Path, name: str, base: str) -> dict[str, object]:
    done = subprocess.run(
        ["node", f"build/{name}.js"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        # Node's fetch may try ::1 first for localhost; the service listens on 127.0.0.1.
        env={"PATH": "/usr/bin:/bin", "ANKRA_BASE_URL": base.replace("localhost", "127.0.0.1")},
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_clients_use_no_escape_hatch() -> None:
    for name in SOURCES:
        code = "\n".join(
            line.split("//", 1)[0] for line in (CLIENT_DIR / name).read_text().splitlines()
        )
        found = {what: pattern.findall(code) for what, pattern in FORBIDDEN.items()}
        assert {what: hits for what, hits in found.items() if hits} == {}, name
    config = json.loads((CLIENT_DIR / "tsconfig.json").read_text())["compilerOptions"]
    assert config["strict"] and config["noUncheckedIndexedAccess"]
    assert config["exactOptionalPropertyTypes"]
    hey = json.loads((CLIENT_DIR / "hey.tsconfig.json").read_text())
    assert (
        hey["extends"] == "./tsconfig.json"
        and "exactOptionalPropertyTypes" not in hey["compilerOptions"]
    )


def test_strict_typescript_clients_sign_in_through_both_answers(tmp_path: Path) -> None:
    project = _project(tmp_path)
    database = f"sqlite:///{tmp_path / 'ts.db'}"
    with service_process(database, log_path=tmp_path / "service.log") as base:
        fetch = _program(project, "client", base)
        hey = _program(project, "hey-client", base)
    assert fetch["first"] == "authenticated" and fetch["token_type"] == "bearer"
    assert fetch["recovery_codes"] == 10
    assert fetch["creation_challenge"] and fetch["creation_user_verification"] == "preferred"
    assert fetch["second"] == "mfa_required" and "totp" in fetch["methods"]
    assert fetch["request_rp_id"] == "localhost"
    assert fetch["validation"] == {"status": 422, "loc": ["body", "code"]}
    # The invalid request spent no attempt: the wrong code is the first of five.
    assert fetch["invalid_code"] == {"status": 401, "attempts_remaining": 4}
    assert fetch["right"] == "authenticated" and fetch["two_factor_enabled"] is True
    assert fetch["session_method"] == "authenticator app"
    assert {"sign_in", "totp_enabled", "second_factor_failed"} <= set(fetch["event_types"])
    assert fetch["anonymous"] == "not_authenticated"
    assert hey == {
        "first": "authenticated",
        "token_type": "bearer",
        "second": "mfa_required",
        "invalid_code": {"status": 401, "attempts_remaining": 4},
        "right": "authenticated",
    }
