"""The real OpenID provider of tests/oidc_provider (npm oidc-provider) as a subprocess on
127.0.0.1, with its test routes: clients, users, key rotation, a tampered next ID token."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.postgres_server import free_port
from tests.processes import stop

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"


@dataclass(frozen=True, slots=True)
class ProviderUser:
    sub: str
    email: str | None
    password: str
    name: str


class OpenIdProvider:
    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed")
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR, check=True)
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [node, "provider.mjs"],
                cwd=PROVIDER_DIR,
                env={"PATH": "/usr/bin:/bin", "OP_PORT": str(self.port)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("provider exited:\n" + self._log_path.read_text())
            try:
                discovery = f"{self.issuer}/.well-known/openid-configuration"
                if httpx.get(discovery, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("provider did not start:\n" + self._log_path.read_text())

    def stop(self) -> None:
        if self._process is not None:
            stop(self._process, timeout=10)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.issuer}{path}", json=body, timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def add_client(self, redirect_uris: list[str]) -> tuple[str, str]:
        client_id, secret = f"ankra-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        self._post(
            "/__test/clients",
            {"client_id": client_id, "client_secret": secret, "redirect_uris": redirect_uris},
        )
        return client_id, secret

    def add_user(
        self, *, email: str | None, email_verified: bool | None = True, name: str = "Test Person"
    ) -> ProviderUser:
        sub = f"sub-{uuid.uuid4().hex[:12]}"
        body: dict[str, Any] = {"sub": sub, "password": "provider-pass", "name": name}
        if email is not None:
            body["email"] = email
        if email_verified is not None:
            body["email_verified"] = email_verified
        self._post("/__test/users", body)
        return ProviderUser(sub, email, "provider-pass", name)

    def rotate_keys(self) -> str:
        return str(self._post("/__test/rotate", {})["kid"])

    def tamper_next_id_token(self, **change: Any) -> None:
        """The next ID token the token endpoint answers carries ``change`` (``nonce``,
        ``aud``) or is signed by a foreign key (``foreign_key=True``)."""
        self._post("/__test/tamper", change)

    def providers_env(self, client_id: str, secret: str, **extra: Any) -> str:
        entry = {
            "id": "corp",
            "name": "Acme SSO",
            "issuer": self.issuer,
            "client_id": client_id,
            "client_secret": secret,
            **extra,
        }
        return json.dumps([entry])


@pytest.fixture(scope="session")
def openid_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIdProvider]:
    """One provider per test session (import this fixture into the module that uses it)."""
    op = OpenIdProvider(tmp_path_factory.mktemp("oidc") / "provider.log")
    op.start()
    yield op
    op.stop()
