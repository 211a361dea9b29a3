"""Which provider `ankra login --sso [PROVIDER]` signs in with, from the server's list."""

from __future__ import annotations

import pytest

from ankra_cli.commands.login import choose_provider
from ankra_cli.errors import CliError

CORP = {"id": "corp", "name": "Acme SSO"}
LAB = {"id": "lab", "name": "Lab Keycloak"}


def test_the_only_provider_needs_no_name() -> None:
    assert choose_provider([CORP], None) == "corp"
    assert choose_provider([CORP, LAB], "lab") == "lab"


def test_several_and_none_named_lists_them() -> None:
    with pytest.raises(CliError) as caught:
        choose_provider([CORP, LAB], None)
    assert "corp (Acme SSO), lab (Lab Keycloak)" in caught.value.message
    assert caught.value.hint == "Name one: `ankra login --sso PROVIDER`."


def test_an_unknown_name_or_no_provider_at_all_is_a_clear_error() -> None:
    with pytest.raises(CliError, match=r"No single sign-on provider 'nope'.*corp \(Acme SSO\)"):
        choose_provider([CORP], "nope")
    with pytest.raises(CliError, match="offers no single sign-on"):
        choose_provider([], None)
