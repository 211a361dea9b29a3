"""Seeding and counting for the allauth peer; run with the peer's own Python.

    python peer_seed.py migrate
    python peer_seed.py users PASSWORD < lines   # "email <tab> base32 secret" per line
    python peer_seed.py logins PASSWORD < emails   # prints one session token per line
    python peer_seed.py count PASSWORD EMAIL CODE  # one sign-in's second step, counted

``logins`` starts a sign-in per email (the password step, in-process through Django's
test client): each session token names a login waiting for its second factor.
``count`` runs one such step and prints its statements, transactions and round trips.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")

import django  # noqa: E402

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from allauth.mfa.adapter import get_adapter  # noqa: E402
from allauth.mfa.models import Authenticator  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.test import Client  # noqa: E402

LOGIN = "/_allauth/app/v1/auth/login"
AUTHENTICATE = "/_allauth/app/v1/auth/2fa/authenticate"
CHUNK = 2000


def users(lines: list[str], password: str) -> None:
    model = get_user_model()
    hashed = make_password(password)
    encrypt = get_adapter().encrypt
    for start in range(0, len(lines), CHUNK):
        chunk = [line.split("\t") for line in lines[start : start + CHUNK]]
        with transaction.atomic():
            made = model.objects.bulk_create(
                [model(username=email, email=email, password=hashed) for email, _ in chunk]
            )
            EmailAddress.objects.bulk_create(
                [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in made]
            )
            Authenticator.objects.bulk_create(
                [
                    Authenticator(
                        user=u, type=Authenticator.Type.TOTP, data={"secret": encrypt(secret)}
                    )
                    for u, (_, secret) in zip(made, chunk, strict=True)
                ]
            )


def start_login(client: Client, email: str, password: str) -> str:
    body = json.dumps({"email": email, "password": password})
    answer = client.post(LOGIN, body, content_type="application/json")
    data = answer.json()
    pending = [f for f in data["data"]["flows"] if f.get("is_pending")]
    if answer.status_code != 401 or pending[0]["id"] != "mfa_authenticate":
        raise SystemExit(f"login of {email} did not wait for its second factor: {data}")
    return str(data["meta"]["session_token"])


def logins(emails: list[str], password: str) -> None:
    client = Client()
    out = sys.stdout
    for email in emails:
        out.write(start_login(client, email, password) + "\n")
    out.flush()


class Counter:
    """Statements (Django's execute wrapper) and transactions (psycopg's commits)."""

    def __init__(self) -> None:
        self.on = False
        self.statements: list[str] = []
        self.commits = 0
        self.rollbacks = 0

    def __call__(self, execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        if self.on:
            where = "in transaction" if connection.in_atomic_block else "autocommit"
            self.statements.append(f"{where}: {' '.join(sql.split()[:6])}")
        return execute(sql, *args)

    def watch(self, **kwargs: Any) -> None:
        raw = kwargs["connection"].connection
        commit, rollback = raw.commit, raw.rollback

        def counted_commit() -> None:
            self.commits += self.on
            commit()

        def counted_rollback() -> None:
            self.rollbacks += self.on
            rollback()

        raw.commit, raw.rollback = counted_commit, counted_rollback


def count(password: str, email: str, code: str) -> None:
    counter = Counter()
    connection_created.connect(counter.watch)
    connection.close()
    client = Client()
    token = start_login(client, email, password)
    with connection.execute_wrapper(counter):
        counter.on = True
        answer = client.post(
            AUTHENTICATE,
            json.dumps({"code": code}),
            content_type="application/json",
            HTTP_X_SESSION_TOKEN=token,
        )
        counter.on = False
    if answer.status_code != 200:
        raise SystemExit(f"the second step failed: {answer.status_code} {answer.content!r}")
    autocommit = [s for s in counter.statements if s.startswith("autocommit")]
    writes = [
        s for s in autocommit if s.split(": ")[1].split()[0] in ("INSERT", "UPDATE", "DELETE")
    ]
    # Each explicit transaction costs a BEGIN and a COMMIT round trip beside its statements.
    print(
        json.dumps(
            {
                "statements": len(counter.statements),
                "transactions": counter.commits,
                "autocommit_writes": len(writes),
                "commits": counter.commits + len(writes),
                "round_trips": len(counter.statements) + 2 * counter.commits,
                "log": counter.statements,
            }
        )
    )


def main() -> None:
    command, *args = sys.argv[1:]
    if command == "migrate":
        call_command("migrate", verbosity=0)
    elif command == "users":
        users(sys.stdin.read().splitlines(), args[0])
    elif command == "logins":
        logins(sys.stdin.read().split(), args[0])
    elif command == "count":
        count(*args)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
