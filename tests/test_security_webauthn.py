"""The WebAuthn ceremonies as pure functions, against a software authenticator (no database).

The API tests (test_passkeys.py) run the same ceremonies through HTTP; these pin the options
we send and every way a credential is turned away, in the words the API passes on.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import Any

import pytest

from ankra_auth.security import webauthn
from tests.soft_authenticator import AAGUID, SoftAuthenticator, b64url, unb64url

RP_ID = "localhost"
ORIGIN = "http://localhost:8000"
HANDLE = bytes(range(32))


def registration_options(
    *exclude: webauthn.KnownCredential, timeout_ms: int = webauthn.TIMEOUT_MS
) -> webauthn.Options:
    return webauthn.registration_options(
        rp_id=RP_ID,
        rp_name="Ankra",
        user_handle=HANDLE,
        user_name="ada@example.com",
        exclude=exclude,
        timeout_ms=timeout_ms,
    )


def register(
    key: SoftAuthenticator, **lie: Any
) -> tuple[dict[str, Any], webauthn.Options, webauthn.NewCredential]:
    options = registration_options()
    credential = key.create(options.json, **lie)
    new = webauthn.verify_registration(
        credential=credential, challenge=options.challenge, rp_id=RP_ID, origins={ORIGIN}
    )
    return credential, options, new


def assert_assertion(
    credential: dict[str, Any], challenge: bytes, new: webauthn.NewCredential, sign_count: int
) -> webauthn.Assertion:
    return webauthn.verify_assertion(
        credential=credential,
        challenge=challenge,
        rp_id=RP_ID,
        origins={ORIGIN},
        public_key=new.public_key,
        sign_count=sign_count,
        user_handle=HANDLE,
    )


def test_registration_options_ask_for_what_we_verify() -> None:
    known = webauthn.KnownCredential(credential_id=b"k" * 16, transports=["usb", "carrier-pigeon"])
    unknown_only = webauthn.KnownCredential(credential_id=b"u", transports=["carrier-pigeon"])
    options = registration_options(known, unknown_only)
    sent = options.json
    assert sent["rp"] == {"id": RP_ID, "name": "Ankra"}
    assert sent["user"] == {
        "id": b64url(HANDLE),
        "name": "ada@example.com",
        "displayName": "ada@example.com",
    }
    assert unb64url(sent["challenge"]) == options.challenge and len(options.challenge) >= 16
    assert [p["alg"] for p in sent["pubKeyCredParams"]] == [-7, -8, -257]  # ES256, EdDSA, RS256
    assert sent["timeout"] == 60_000
    assert sent["attestation"] == "none"
    assert sent["authenticatorSelection"] == {
        "residentKey": "preferred",
        "requireResidentKey": False,
        "userVerification": "preferred",
    }
    assert sent["excludeCredentials"] == [
        {"id": b64url(b"k" * 16), "type": "public-key", "transports": ["usb"]},
        {"id": b64url(b"u"), "type": "public-key"},  # no known transport: none sent
    ]
    # Whether the credential is discoverable, the browser says in credProps.rk.
    assert sent["extensions"] == {"credProps": True}
    assert registration_options(timeout_ms=5_000).json["timeout"] == 5_000
    assert registration_options().challenge != options.challenge


def test_authentication_options_allow_only_the_accounts_keys() -> None:
    allow = [webauthn.KnownCredential(credential_id=b"a" * 16, transports=["internal", "hybrid"])]
    options = webauthn.authentication_options(rp_id=RP_ID, allow=allow)
    assert options.json == {
        "challenge": b64url(options.challenge),
        "timeout": 60_000,
        "rpId": RP_ID,
        "allowCredentials": [
            {"id": b64url(b"a" * 16), "type": "public-key", "transports": ["internal", "hybrid"]}
        ],
        "userVerification": "preferred",
    }
    assert len(options.challenge) >= 16
    assert webauthn.authentication_options(rp_id=RP_ID, allow=[], timeout_ms=7).json["timeout"] == 7
    alone = webauthn.authentication_options(rp_id=RP_ID, allow=[], require_user_verification=True)
    assert alone.json["userVerification"] == "required" and alone.json["allowCredentials"] == []


@pytest.mark.parametrize("backed_up", [False, True])
def test_registration_returns_the_attested_facts(backed_up: bool) -> None:
    key = SoftAuthenticator(transports=["usb", "nfc", "usb", "bogus"], backup_eligible=backed_up)
    credential, options, new = register(key)
    soft = next(iter(key.credentials.values()))
    assert webauthn.client_challenge(credential) == options.challenge
    assert webauthn.credential_id(credential) == soft.credential_id == new.credential_id
    assert new.public_key == soft.cose_public_key()
    assert new.sign_count == 1
    assert new.aaguid == str(uuid.UUID(bytes=AAGUID))
    assert new.backup_eligible is backed_up and new.backed_up is backed_up
    assert new.transports == ["nfc", "usb"]  # known ones, once each, sorted
    assert new.user_verified is True and new.discoverable is True


@pytest.mark.parametrize("resident", [True, False, None])
def test_registration_reports_uv_and_credprops(resident: bool | None) -> None:
    _, _, new = register(SoftAuthenticator(user_verifies=False, resident=resident))
    assert new.user_verified is False and new.discoverable is resident


@pytest.mark.parametrize(
    "results",
    [{}, {"credProps": "yes"}, {"credProps": {"rk": "true"}}, {"credProps": {}}, "x", None],
)
def test_credprops_said_otherwise_is_not_said(results: object) -> None:
    assert webauthn.discoverable_of({"clientExtensionResults": results}) is None


@pytest.mark.parametrize(
    ("lie", "words"),
    [
        ({"origin": "https://evil.example"}, "origin"),
        ({"rp_id": "evil.example"}, "RP ID"),
    ],
)
def test_registration_refuses_another_origin_or_rp(lie: dict[str, str], words: str) -> None:
    with pytest.raises(webauthn.CredentialRejected, match=words):
        register(SoftAuthenticator(), **lie)


def test_registration_refuses_another_challenge_and_garbage() -> None:
    options = registration_options()
    credential = SoftAuthenticator().create(options.json)
    with pytest.raises(webauthn.CredentialRejected, match="challenge"):
        webauthn.verify_registration(
            credential=credential, challenge=b"another" * 4, rp_id=RP_ID, origins={ORIGIN}
        )
    broken = {**credential, "response": {**credential["response"], "attestationObject": "AAAA"}}
    with pytest.raises(webauthn.CredentialRejected):
        webauthn.verify_registration(
            credential=broken, challenge=options.challenge, rp_id=RP_ID, origins={ORIGIN}
        )
    # What the library does not catch itself (a KeyError deep in the COSE key) is refused too.
    with pytest.raises(webauthn.CredentialRejected, match="^the credential is malformed$"):
        register(SoftAuthenticator(attest_broken_key=True))


def test_registration_refuses_an_algorithm_we_did_not_offer() -> None:
    # ES512 is a sound algorithm py_webauthn knows, but not one of ours (ALGORITHMS).
    with pytest.raises(webauthn.CredentialRejected, match="alg"):
        register(SoftAuthenticator(algorithm=-36))


def test_registration_refuses_a_raw_id_other_than_the_attested_one() -> None:
    options = registration_options()
    credential = SoftAuthenticator().create(options.json)
    # The library checks id against rawId; we check both against the attested id.
    credential["id"] = credential["rawId"] = b64url(b"not the attested id")
    with pytest.raises(webauthn.CredentialRejected, match="^rawId does not match"):
        webauthn.verify_registration(
            credential=credential, challenge=options.challenge, rp_id=RP_ID, origins={ORIGIN}
        )


def test_registration_takes_credential_ids_up_to_1023_bytes() -> None:
    _, _, new = register(SoftAuthenticator(credential_id_length=1023))
    assert len(new.credential_id) == 1023
    with pytest.raises(webauthn.CredentialRejected, match="^the credential id is too long$"):
        register(SoftAuthenticator(credential_id_length=1024))


def test_an_assertion_verifies_and_reports_the_new_counter() -> None:
    key = SoftAuthenticator()
    _, _, new = register(key)
    options = webauthn.authentication_options(
        rp_id=RP_ID,
        allow=[webauthn.KnownCredential(credential_id=new.credential_id, transports=[])],
    )
    assertion = assert_assertion(key.get(options.json), options.challenge, new, sign_count=1)
    assert assertion == webauthn.Assertion(sign_count=2, backed_up=False, user_verified=True)
    unverified = SoftAuthenticator(user_verifies=False)
    _, _, new = register(unverified)
    assertion = assert_assertion(
        unverified.get(options.json, credential_id=new.credential_id),
        options.challenge,
        new,
        sign_count=1,
    )
    assert assertion.user_verified is False


def test_the_user_handle_an_assertion_claims() -> None:
    assert webauthn.user_handle_of({"response": {"userHandle": b64url(b"someone")}}) == b"someone"
    assert webauthn.user_handle_of({"response": {}}) is None
    with pytest.raises(webauthn.CredentialRejected):
        webauthn.user_handle_of({"response": {"userHandle": 7}})


@pytest.mark.parametrize(
    ("stored", "received", "accepted"),
    [
        (0, 0, True),  # a key without a counter
        (0, 5, True),
        (4, 5, True),
        (5, 5, False),  # replayed or cloned
        (6, 5, False),
        (5, 0, False),  # a counting key that drops to zero
    ],
)
def test_the_counter_must_move_forward(stored: int, received: int, accepted: bool) -> None:
    key = SoftAuthenticator()
    _, _, new = register(key)
    options = webauthn.authentication_options(rp_id=RP_ID, allow=[])
    credential = key.get(options.json, credential_id=new.credential_id, sign_count=received)
    if accepted:
        assert assert_assertion(credential, options.challenge, new, stored).sign_count == received
        return
    with pytest.raises(webauthn.SignCountRejected) as refused:
        assert_assertion(credential, options.challenge, new, stored)
    assert (refused.value.stored, refused.value.received) == (stored, received)
    assert str(refused.value) == f"sign count {received} is not above the stored {stored}"


def test_an_assertion_for_another_account_or_badly_signed_is_refused() -> None:
    key = SoftAuthenticator()
    _, _, new = register(key)
    options = webauthn.authentication_options(rp_id=RP_ID, allow=[])
    credential = key.get(options.json, credential_id=new.credential_id)
    without_handle = {
        **credential,
        "response": {k: v for k, v in credential["response"].items() if k != "userHandle"},
    }
    assert assert_assertion(without_handle, options.challenge, new, 0).sign_count == 2
    other = {**credential, "response": {**credential["response"], "userHandle": b64url(b"bob")}}
    with pytest.raises(webauthn.CredentialRejected, match="^the credential belongs to another"):
        assert_assertion(other, options.challenge, new, 0)
    for handle, words in (("", "missing or not a string"), ("A", "not base64url")):
        unreadable = {**credential, "response": {**credential["response"], "userHandle": handle}}
        with pytest.raises(webauthn.CredentialRejected, match=f"^userHandle is {words}$"):
            assert_assertion(unreadable, options.challenge, new, 0)
    tampered = key.get(options.json, credential_id=new.credential_id, tamper=True)
    with pytest.raises(webauthn.CredentialRejected) as refused:
        assert_assertion(tampered, options.challenge, new, 0)
    assert not isinstance(refused.value, webauthn.SignCountRejected)
    with pytest.raises(webauthn.CredentialRejected, match="challenge"):
        assert_assertion(credential, b"another" * 4, new, 0)
    unreadable_key = webauthn.NewCredential(**{**asdict(new), "public_key": b"\xa0"})
    with pytest.raises(webauthn.CredentialRejected, match="^the credential is malformed$"):
        assert_assertion(credential, options.challenge, unreadable_key, 0)


def client_data(value: object) -> dict[str, Any]:
    return {"response": {"clientDataJSON": b64url(json.dumps(value).encode())}}


@pytest.mark.parametrize(
    ("credential", "words"),
    [
        ({}, "^response is missing or not an object$"),
        ({"response": "x"}, "^response is missing or not an object$"),
        ({"response": {}}, "^clientDataJSON is missing or not a string$"),
        ({"response": {"clientDataJSON": ""}}, "^clientDataJSON is missing or not a string$"),
        ({"response": {"clientDataJSON": 7}}, "^clientDataJSON is missing or not a string$"),
        ({"response": {"clientDataJSON": "A"}}, "^clientDataJSON is not base64url$"),
        ({"response": {"clientDataJSON": "é"}}, "^clientDataJSON is not base64url$"),
        ({"response": {"clientDataJSON": b64url(b"{")}}, "^clientDataJSON is not JSON$"),
        ({"response": {"clientDataJSON": b64url(b"[" * 100_000)}}, "^clientDataJSON is not JSON$"),
        (client_data([1]), "^clientDataJSON is not an object$"),
        (client_data({}), "^challenge is missing or not a string$"),
        (client_data({"challenge": "A"}), "^challenge is not base64url$"),
    ],
)
def test_unreadable_client_data_is_refused_in_words(credential: Any, words: str) -> None:
    with pytest.raises(webauthn.CredentialRejected, match=words):
        webauthn.client_challenge(credential)


def test_client_challenge_reads_unpadded_base64url() -> None:
    assert webauthn.client_challenge(client_data({"challenge": b64url(b"\xfb\xff")})) == b"\xfb\xff"


@pytest.mark.parametrize("raw_id", [None, "", 5, "A"])
def test_an_unreadable_raw_id_is_refused(raw_id: object) -> None:
    with pytest.raises(webauthn.CredentialRejected, match="^rawId is "):
        webauthn.credential_id({"rawId": raw_id})


@pytest.mark.parametrize(
    ("credential", "transports"),
    [
        ({}, []),
        ({"response": {}}, []),
        ({"response": {"transports": "usb"}}, []),
        ({"response": {"transports": ["usb", 3, "usb", "ble", "smoke"]}}, ["ble", "usb"]),
    ],
)
def test_transports_keep_known_values_only(credential: Any, transports: list[str]) -> None:
    assert webauthn.transports_of(credential) == transports


def test_base64url_writes_binary_as_webauthn_json_does() -> None:
    # URL-safe alphabet, no padding: a credential id or user handle as the browser sends it.
    assert webauthn.base64url(b"\xfb\xff\x00") == "-_8A"
    assert webauthn.base64url(b"\xff") == "_w"
