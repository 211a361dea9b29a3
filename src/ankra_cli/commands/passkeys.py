"""``ankra profile auth passkeys list|open|rename|remove``.

Registering a passkey needs a browser (WebAuthn), so ``open`` opens the profile page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ankra_cli.options import JsonOption, ServerOption, YesOption

if TYPE_CHECKING:
    from ankra_cli.browser import BrowserOpener
    from ankra_cli.client import AnkraClient
    from ankra_cli.output import Output
    from ankra_cli.prompts import Prompter

PROFILE_PAGE = "/profile/authentication"
LIST_COMMAND = "ankra profile auth passkeys list"
PasskeyId = Annotated[
    str,
    typer.Argument(
        metavar="ID", help="The passkey's id, or its first characters (4 or more; see `list`)."
    ),
]


def list_(server: ServerOption = None, json_output: JsonOption = False) -> None:
    """List your passkeys and security keys: who made each (the provider), whether it is
    synced, and whether it signs you in by itself or only as the second step."""
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        passkeys = run_list(client)
    if out.json_mode:
        out.data(passkeys)
    else:
        render_list(out, passkeys)


def run_list(client: AnkraClient) -> list[dict[str, Any]]:
    passkeys: list[dict[str, Any]] = client.call("GET", "/profile/auth/passkeys")
    return passkeys


def render_list(out: Output, passkeys: list[dict[str, Any]]) -> None:
    from ankra_cli.ids import short_ids
    from ankra_cli.output import when

    if not passkeys:
        out.line("No passkeys yet. Add one in the browser: `ankra profile auth passkeys open`.")
        return
    ids = short_ids([str(p["id"]) for p in passkeys])
    # The page's words: who made it, synced or not, and whether it signs in by itself; to
    # fit 80 columns, when it was added and its transports are in --json only.
    out.table(
        ["ID", "Name", "Provider", "Synced", "Signs in", "Last used"],
        [
            [
                short,
                str(p["name"]),
                str(p.get("provider") or "-"),
                "synced" if p.get("backup_eligible") else "this device only",
                "by itself" if p.get("signs_in_alone") else "second step only",
                when(p.get("last_used_at")),
            ]
            for short, p in zip(ids, passkeys, strict=True)
        ],
        whole=["ID"],
    )


def find(client: AnkraClient, given: str) -> dict[str, Any]:
    """The caller's passkey whose id is ``given`` or starts with it."""
    from ankra_cli.ids import resolve

    passkeys = run_list(client)
    wanted = resolve(
        given, [str(p["id"]) for p in passkeys], kind="passkey", list_command=LIST_COMMAND
    )
    return next(p for p in passkeys if p["id"] == wanted)


def open_(server: ServerOption = None, json_output: JsonOption = False) -> None:
    """Open the page where you add a passkey (it needs a browser)."""
    import webbrowser

    from ankra_cli import credentials
    from ankra_cli.errors import CliError
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    try:
        with signed_in(server) as client:
            url = run_open(client, open_browser=webbrowser.open, out=out)
    except CliError:  # not signed in here: the page asks for a sign-in itself
        url = f"{credentials.resolve_server(server, credentials.load())}{PROFILE_PAGE}"
        show_page(url, open_browser=webbrowser.open, out=out)
    if out.json_mode:
        out.data({"url": url})


def run_open(client: AnkraClient, *, open_browser: BrowserOpener, out: Output) -> str:
    """Open the profile page through a single-use sign-in link, so the browser is signed in too."""
    link: dict[str, Any] = client.call("POST", "/auth/sign-in-links", json={"next": PROFILE_PAGE})
    url = str(link["url"])
    show_page(url, open_browser=open_browser, out=out)
    return url


def show_page(url: str, *, open_browser: BrowserOpener, out: Output) -> None:
    from ankra_cli.browser import show_and_open

    show_and_open(
        url,
        message="Add a passkey on this page:",
        open_browser=open_browser,
        out=out,
    )


def rename(
    passkey_id: PasskeyId,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The new name.")],
    server: ServerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Rename a passkey."""
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        passkey = run_rename(client, passkey_id=passkey_id, name=name)
    if out.json_mode:
        out.data(passkey)
    else:
        out.plain(f"Renamed passkey {passkey['id']} to {passkey['name']!r}.")


def run_rename(client: AnkraClient, *, passkey_id: str, name: str) -> dict[str, Any]:
    from ankra_cli.client import path_segment

    target = find(client, passkey_id)
    passkey: dict[str, Any] = client.call(
        "PATCH", f"/profile/auth/passkeys/{path_segment(str(target['id']))}", json={"name": name}
    )
    return passkey


def remove(
    passkey_id: PasskeyId,
    yes: YesOption = False,
    server: ServerOption = None,
    json_output: JsonOption = False,
) -> None:
    """Remove a passkey (asks first, and for your password if you have not confirmed it
    lately)."""
    from ankra_cli.output import Output
    from ankra_cli.prompts import TerminalPrompter
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        removed = run_remove(client, prompter=TerminalPrompter(), passkey_id=passkey_id, yes=yes)
    if out.json_mode:
        out.data({})
    else:
        out.plain(f"Removed passkey {removed['id']} ({removed['name']}).")


def run_remove(
    client: AnkraClient, *, prompter: Prompter, passkey_id: str, yes: bool
) -> dict[str, Any]:
    """Remove the passkey ``passkey_id`` names; returns it as listed before."""
    from ankra_cli.client import path_segment
    from ankra_cli.confirmation import ask
    from ankra_cli.errors import CliError, hint_for
    from ankra_cli.ids import short_ids
    from ankra_cli.session import with_reauthentication

    target = find(client, passkey_id)
    # Checked before any question: the server would ask for the password first.
    state: dict[str, Any] = client.call("GET", "/profile/auth")
    if not state["totp_enabled"] and int(state["passkey_count"]) <= 1:
        raise CliError(
            "This passkey is your last second factor: add another one first, "
            "or turn two-factor authentication off",
            hint=hint_for("last_factor"),
        )
    short = short_ids([str(target["id"])])[0]
    ask(
        prompter,
        f"Passkey {target['name']!r} ({short}) will be removed: it will no longer sign you "
        "in. Continue?",
        action="remove the passkey",
        yes=yes,
    )
    path = f"/profile/auth/passkeys/{path_segment(str(target['id']))}"
    with_reauthentication(client, prompter, lambda: client.call("DELETE", path))
    return target
