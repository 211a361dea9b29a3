"""``ankra profile auth events``: the page's words, paging with ``--cursor`` and ``--all``,
and ``--json`` as the API answers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ankra_auth.events import service as events_service
from ankra_cli.labels import EVENT_LABELS, METHOD_LABELS
from tests.cli.conftest import Ankra
from tests.cli.live_accounts import LiveAccount, enroll_totp, sign_up, verify_email
from tests.cli.test_cli_commands import _fails, _ok, _register_passkey
from tests.cli.test_cli_confirmations import use_session
from tests.soft_authenticator import SoftAuthenticator

PROFILE_JS = (
    Path(__file__).resolve().parents[2] / "src" / "ankra_auth" / "web" / "static" / "profile.js"
)


def page_table(name: str) -> dict[str, str]:
    """The object literal ``const NAME = {...};`` of profile.js, as a dict."""
    source = PROFILE_JS.read_text()
    match = re.search(rf"const {name} = \{{(.*?)\}};", source, re.DOTALL)
    assert match, f"{name} is no longer in profile.js"
    entries = re.findall(r"(\w+):\s*(['\"])((?:\\.|(?!\2).)*)\2", match.group(1))
    assert entries, f"{name} in profile.js has no entries this test can read"
    return {key: value.replace("\\'", "'").replace('\\"', '"') for key, _q, value in entries}


def test_event_names_are_the_pages() -> None:
    assert page_table("EVENT_LABELS") == EVENT_LABELS


def test_method_names_are_the_pages() -> None:
    page = page_table("METHOD_LABELS")
    assert {method: METHOD_LABELS[method] for method in page} == page


def test_every_event_the_service_records_has_a_name() -> None:
    recorded = {
        value
        for name, value in vars(events_service).items()
        if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z_]+", value)
    }
    assert recorded and recorded <= set(EVENT_LABELS), recorded - set(EVENT_LABELS)


def _api_page(account: LiveAccount, **params: Any) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    page: dict[str, Any] = account.get(f"/api/v1/profile/auth/events?{query}")
    return page


def _busy_account(ankra: Ankra) -> LiveAccount:
    """An account with a few events of different kinds, signed in for the CLI."""
    account = enroll_totp(sign_up(ankra.server))
    _register_passkey(account, SoftAuthenticator(origin=ankra.server), "Office key")
    use_session(ankra, account)
    return account


def test_the_log_speaks_words_not_codes(ankra: Ankra) -> None:
    account = _busy_account(ankra)
    table = _ok(ankra.run("profile", "auth", "events"))
    for words in [
        "Passkey added",
        "Office key",  # the detail: which passkey
        "Recovery codes issued",
        "Authenticator app set up",
        "Signed in",
        "Password",  # how (the method)
    ]:
        assert words in table, table
    for code in ["passkey_added", "recovery_codes_issued", "totp_enabled", "sign_in", "password"]:
        assert code not in table, table
    assert "Older events" not in table  # all of them fit in one page of 20
    as_json = json.loads(_ok(ankra.run("profile", "auth", "events", "--json")))
    assert as_json == _api_page(account, limit=20)  # --json is the API's page, codes and all


def test_the_log_says_when_the_owner_was_emailed(ankra: Ankra) -> None:
    account = verify_email(enroll_totp(sign_up(ankra.server)))
    _register_passkey(account, SoftAuthenticator(origin=ankra.server), "Office key")
    use_session(ankra, account)
    table = _ok(ankra.run("profile", "auth", "events"))
    assert "Office key (emailed you)" in table, table
    [added] = [e for e in _api_page(account, limit=20)["events"] if e["type"] == "passkey_added"]
    assert added["detail"] == {"note": "Office key", "mail": "queued"}


def test_cursor_continues_where_a_page_ended(ankra: Ankra) -> None:
    account = _busy_account(ankra)
    first = json.loads(_ok(ankra.run("profile", "auth", "events", "--limit", "2", "--json")))
    assert first == _api_page(account, limit=2) and first["next_cursor"]
    human = _ok(ankra.run("profile", "auth", "events", "--limit", "2"))
    assert f"--limit 2 --cursor {first['next_cursor']}" in human

    cursor = first["next_cursor"]
    second = json.loads(
        _ok(ankra.run("profile", "auth", "events", "--limit", "2", "--cursor", cursor, "--json"))
    )
    assert second == _api_page(account, limit=2, cursor=cursor)
    assert not {e["id"] for e in second["events"]} & {e["id"] for e in first["events"]}

    _fails(
        ankra.run("profile", "auth", "events", "--cursor", "not-a-cursor"), "The cursor is not one"
    )


def test_all_follows_every_page_to_the_end(ankra: Ankra) -> None:
    account = _busy_account(ankra)
    everything = _api_page(account, limit=100)
    assert everything["next_cursor"] is None and len(everything["events"]) > 3
    pages = json.loads(
        _ok(ankra.run("profile", "auth", "events", "--all", "--limit", "2", "--json"))
    )
    assert pages == {"events": everything["events"], "next_cursor": None}

    human = _ok(ankra.run("profile", "auth", "events", "--all", "--limit", "1"))
    rows = [line for line in human.splitlines() if re.match(r"│ \d{4}-\d\d-\d\d ", line)]
    assert len(rows) == len(everything["events"]) and "Older events" not in human

    # from a cursor on, to the end
    start = _api_page(account, limit=2)["next_cursor"]
    rest = json.loads(
        _ok(ankra.run("profile", "auth", "events", "--all", "--cursor", start, "--json"))
    )
    assert rest["events"] == everything["events"][2:]
