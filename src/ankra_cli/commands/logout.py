"""``ankra logout``: end the session on the server and forget it here."""

from __future__ import annotations

from ankra_cli.options import JsonOption, ServerOption


def logout(server: ServerOption = None, json_output: JsonOption = False) -> None:
    """Sign out: revoke the saved session and remove it from this computer."""
    from ankra_cli import credentials
    from ankra_cli.client import AnkraClient
    from ankra_cli.errors import ApiError, CliError
    from ankra_cli.output import Output

    out = Output(json_mode=json_output)
    saved = credentials.load()
    server_url = credentials.resolve_server(server, saved)
    if saved is None or saved.server.rstrip("/") != server_url:
        if out.json_mode:
            out.data({})
        else:
            out.plain(f"Not signed in to {server_url}.")
        return
    failure: CliError | None = None
    with AnkraClient(server_url, token=saved.access_token) as client:
        try:
            client.call("POST", "/auth/logout")
        except ApiError as exc:
            if exc.code != "not_authenticated":  # already over on the server: fine
                failure = exc
        except CliError as exc:
            failure = exc
    # Forget it locally in any case; say so when the server could not be told.
    credentials.delete()
    if failure is not None:
        raise CliError(
            f"Removed the saved session, but the server did not confirm the sign-out: "
            f"{failure.message}"
        )
    if out.json_mode:
        out.data({})
    else:
        out.plain(f"Signed out of {server_url}.")
