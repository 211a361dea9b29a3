"""A client for the saved sign-in, and the retry after a password check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from ankra_cli import credentials
from ankra_cli.errors import ApiError, CliError

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.prompts import Prompter

T = TypeVar("T")


@contextmanager
def signed_in(server_option: str | None) -> Iterator[AnkraClient]:
    """A client carrying the saved token; the token only ever goes to the server that issued it."""
    from ankra_cli.client import AnkraClient

    saved = credentials.load()
    server = credentials.resolve_server(server_option, saved)
    if saved is None or saved.server.rstrip("/") != server:
        raise CliError(f"Not signed in to {server}", hint="Run `ankra login` to sign in.")
    with AnkraClient(server, token=saved.access_token) as client:
        yield client


def with_reauthentication(client: AnkraClient, prompter: Prompter, call: Callable[[], T]) -> T:
    """Run ``call``; on 403 ``reauthentication_required`` confirm the password and retry once."""
    try:
        return call()
    except ApiError as exc:
        if exc.code != "reauthentication_required":
            raise
    password = prompter.password("Confirm your password")
    client.call("POST", "/auth/reauthenticate", json={"password": password})
    return call()
