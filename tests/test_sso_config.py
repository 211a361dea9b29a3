"""ANKRA_SSO_PROVIDERS is checked when the service starts: a bad entry stops it, clearly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from ankra_auth.config import Settings
from ankra_auth.sso.config import redirect_uri

GOOD = {
    "id": "corp",
    "name": "Acme SSO",
    "issuer": "https://idp.example/",
    "client_id": "ankra",
    "client_secret": "very-secret-value",
}


def test_a_good_list_parses_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKRA_SSO_PROVIDERS", json.dumps([GOOD]))
    (provider,) = Settings().sso_providers
    assert provider.issuer == "https://idp.example" and provider.allow_signup is True
    assert Settings(sso_providers=[]).sso_providers == []
    monkeypatch.setenv("ANKRA_SSO_PROVIDERS", "  ")  # compose files often set it empty
    assert Settings().sso_providers == []
    assert (
        redirect_uri("https://auth.example.com/", "corp")
        == "https://auth.example.com/auth/sso/corp/callback"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"issuer": "http://idp.example"},  # plain http off this machine
        {"issuer": "idp.example"},
        {"id": "Has Spaces"},
        {"client_secret": ""},
        {"client_secret": None},
        {"allowSignup": False},  # a misspelt key is not ignored
        {"name": ""},
    ],
)
def test_a_bad_entry_is_refused(change: dict[str, object]) -> None:
    entry = {k: v for k, v in (GOOD | change).items() if v is not None}
    with pytest.raises(ValidationError):
        Settings(sso_providers=[entry])


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValidationError, match="two providers have the id"):
        Settings(sso_providers=[GOOD, GOOD | {"name": "Other"}])


@pytest.mark.parametrize(
    "value, message",
    [
        (json.dumps([GOOD | {"issuer": "http://idp.example"}]), "ANKRA_SSO_PROVIDERS[0].issuer"),
        (json.dumps([{k: v for k, v in GOOD.items() if k != "client_id"}]), "[0].client_id"),
        ("[not json", "ANKRA_SSO_PROVIDERS: Value error, not valid JSON"),
    ],
)
def test_serve_stops_with_a_clear_error(tmp_path: Path, value: str, message: str) -> None:
    env = {
        **os.environ,
        "ANKRA_SSO_PROVIDERS": value,
        "ANKRA_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "ankra_auth", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "very-secret-value" not in result.stderr  # the error never quotes the secret
    assert "Traceback" not in result.stderr
