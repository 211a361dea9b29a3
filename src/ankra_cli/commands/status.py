"""``ankra profile auth status``: the two-factor card, in the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ankra_cli.options import JsonOption, ServerOption

if TYPE_CHECKING:
    from ankra_cli.client import AnkraClient
    from ankra_cli.output import Output

LOW_RECOVERY_CODES = 3


def status(server: ServerOption = None, json_output: JsonOption = False) -> None:
    """Show your two-factor authentication status and who requires it."""
    from ankra_cli.output import Output
    from ankra_cli.session import signed_in

    out = Output(json_mode=json_output)
    with signed_in(server) as client:
        data = run_status(client)
    if out.json_mode:
        out.data(data)
    else:
        render(out, data)


def run_status(client: AnkraClient) -> dict[str, Any]:
    data: dict[str, Any] = client.call("GET", "/profile/auth")
    return data


def render(out: Output, data: dict[str, Any]) -> None:
    on = bool(data["two_factor_enabled"])
    remaining = int(data["recovery_codes_remaining"])
    enforcers = ", ".join(_enforcer(org) for org in data.get("enforced_by") or []) or "-"
    low = on and remaining <= LOW_RECOVERY_CODES
    codes = f"{remaining}  (running low: make new ones)" if low else str(remaining)
    rows: list[tuple[str, str] | tuple[str, str, str]] = [
        ("Two-factor authentication", "on" if on else "off", "green" if on else "red"),
        ("Authenticator app", "set up" if data["totp_enabled"] else "not set up"),
        ("Passkeys", str(data["passkey_count"])),
        ("Recovery codes left", codes, "yellow" if low else ""),
        ("Required by", enforcers),
    ]
    verified = data.get("email_verified")  # None: a server from before verified addresses
    if verified is not None:
        rows.append(
            ("Email address", "verified", "green")
            if verified
            else ("Email address", "not verified", "yellow")
        )
    out.fields(rows)
    if low:
        out.line()
        out.line("Make new recovery codes: `ankra profile auth recovery-codes regenerate`.")
    if verified is False:
        out.line()
        out.line(
            "Open the link we mailed you to verify your address: until then no security "
            'mail reaches you. A new link: the profile page\'s "Send the link again".'
        )
    restrictions = {
        (org.get("restriction"), org.get("required")) for org in data.get("enforced_by") or []
    }
    if ("use_passkey", "passkey") in restrictions:
        out.line()
        out.line(
            "[bold yellow]Secure your account to continue:[/] an organisation requires a "
            "passkey, and this session signed in without one. Sign in again with "
            "`ankra login --passkey`."
        )
    elif ("enroll", "passkey") in restrictions:
        out.line()
        out.line(
            "[bold yellow]Secure your account to continue:[/] an organisation you belong to "
            "requires a passkey. Until you add one, only enrollment works.\n"
            "Run `ankra profile auth passkeys open` "
            "(that page also lets you leave the organisation instead)."
        )
    elif data.get("enrollment_required"):
        out.line()
        out.line(
            "[bold yellow]Secure your account to continue:[/] an organisation you belong to "
            "requires two-factor authentication. Until you set it up, only enrollment works.\n"
            "Run `ankra profile auth totp start`, or `ankra profile auth passkeys open` "
            "(that page also lets you leave the organisation instead)."
        )


def _enforcer(org: dict[str, Any]) -> str:
    """An enforcing organisation as the status shows it: its name, then "(a passkey)" for
    a passkey requirement and the due date while one is running."""
    from ankra_cli.output import when

    facts = ["a passkey"] if org.get("required") == "passkey" else []
    if org.get("due_at") and not org.get("met"):
        facts.append(f"due {when(org['due_at'])}")
    name = str(org["name"])
    return f"{name} ({', '.join(facts)})" if facts else name
