"""WebAuthn ceremonies as pure functions over py_webauthn: options out, verified facts in.

Every submitted credential is untrusted JSON of any shape; whatever goes wrong with it
surfaces as :class:`CredentialRejected`, never as another exception.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url, options_to_json_dict
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

# ES256 first: what nearly every authenticator supports; EdDSA and RS256 for the rest.
ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
TIMEOUT_MS = 60_000
MAX_CREDENTIAL_ID = 1023  # bytes, per WebAuthn Level 3
KNOWN_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)


def base64url(data: bytes) -> str:
    """``data`` as WebAuthn's JSON forms write binary (a credential id, a user handle)."""
    return bytes_to_base64url(data)


class CredentialRejected(Exception):
    """The credential is malformed or does not verify; the message says why."""


class SignCountRejected(CredentialRejected):
    """A correctly signed assertion whose counter did not move forward (a cloned key?)."""

    def __init__(self, *, stored: int, received: int) -> None:
        super().__init__(f"sign count {received} is not above the stored {stored}")
        self.stored = stored
        self.received = received


@dataclass(frozen=True, slots=True)
class KnownCredential:
    credential_id: bytes
    transports: list[str]


@dataclass(frozen=True, slots=True)
class Options:
    """A ceremony's challenge (to store) and its options in WebAuthn Level 3 JSON form."""

    challenge: bytes
    json: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewCredential:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    backed_up: bool
    transports: list[str]
    # The authenticator verified the user (PIN, biometrics) at registration: the UV flag.
    user_verified: bool = False
    # ``credProps.rk`` as the browser reported it: None when it did not say.
    discoverable: bool | None = None


@dataclass(frozen=True, slots=True)
class Assertion:
    sign_count: int
    backed_up: bool
    # The UV flag: a passkey alone is a sign-in only when the authenticator verified the user.
    user_verified: bool = False


def _descriptors(credentials: Iterable[KnownCredential]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=c.credential_id,
            transports=[AuthenticatorTransport(t) for t in c.transports if t in KNOWN_TRANSPORTS]
            or None,
        )
        for c in credentials
    ]


def registration_options(
    *,
    rp_id: str,
    rp_name: str,
    user_handle: bytes,
    user_name: str,
    exclude: Iterable[KnownCredential],
    timeout_ms: int = TIMEOUT_MS,
) -> Options:
    """Options for ``navigator.credentials.create()``; ``exclude`` keeps a key from registering twice."""
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_id=user_handle,
        user_name=user_name,
        timeout=timeout_ms,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(exclude),
        supported_pub_key_algs=ALGORITHMS,
    )
    created = options_to_json_dict(options)
    # Ask the browser whether the credential is discoverable (credProps.rk): a passkey that
    # signs in by itself must be found without an account named first.
    created["extensions"] = {"credProps": True}
    return Options(challenge=options.challenge, json=created)


def authentication_options(
    *,
    rp_id: str,
    allow: Iterable[KnownCredential],
    timeout_ms: int = TIMEOUT_MS,
    require_user_verification: bool = False,
) -> Options:
    """Options for ``navigator.credentials.get()`` limited to the ``allow`` credentials (none:
    any discoverable credential of this site, for a passkey alone, which must verify the user)."""
    options = generate_authentication_options(
        rp_id=rp_id,
        timeout=timeout_ms,
        allow_credentials=_descriptors(allow),
        user_verification=(
            UserVerificationRequirement.REQUIRED
            if require_user_verification
            else UserVerificationRequirement.PREFERRED
        ),
    )
    return Options(challenge=options.challenge, json=options_to_json_dict(options))


def _b64url(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise CredentialRejected(f"{what} is missing or not a string")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CredentialRejected(f"{what} is not base64url") from exc


def _response(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    response = credential.get("response")
    if not isinstance(response, Mapping):
        raise CredentialRejected("response is missing or not an object")
    return response


def client_challenge(credential: Mapping[str, Any]) -> bytes:
    """The challenge inside ``response.clientDataJSON``: which stored ceremony this answers.

    Raises :class:`CredentialRejected` when it cannot be read.
    """
    raw = _b64url(_response(credential).get("clientDataJSON"), "clientDataJSON")
    try:
        client_data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise CredentialRejected("clientDataJSON is not JSON") from exc
    if not isinstance(client_data, dict):
        raise CredentialRejected("clientDataJSON is not an object")
    return _b64url(client_data.get("challenge"), "challenge")


def credential_id(credential: Mapping[str, Any]) -> bytes:
    """The credential's raw id; raises :class:`CredentialRejected` when it cannot be read."""
    return _b64url(credential.get("rawId"), "rawId")


def discoverable_of(credential: Mapping[str, Any]) -> bool | None:
    """``clientExtensionResults.credProps.rk``: whether the authenticator made a discoverable
    credential, or None when the browser did not say."""
    results = credential.get("clientExtensionResults")
    props = results.get("credProps") if isinstance(results, Mapping) else None
    rk = props.get("rk") if isinstance(props, Mapping) else None
    return rk if isinstance(rk, bool) else None


def user_handle_of(credential: Mapping[str, Any]) -> bytes | None:
    """The assertion's ``userHandle`` (the account it claims), or None when absent."""
    handle = _response(credential).get("userHandle")
    return None if handle is None else _b64url(handle, "userHandle")


def transports_of(credential: Mapping[str, Any]) -> list[str]:
    """The transports the browser reported at registration (unknown values dropped)."""
    try:
        reported = _response(credential).get("transports")
    except CredentialRejected:
        return []
    if not isinstance(reported, list):
        return []
    return sorted({t for t in reported if isinstance(t, str) and t in KNOWN_TRANSPORTS})


def verify_registration(
    *, credential: Mapping[str, Any], challenge: bytes, rp_id: str, origins: Iterable[str]
) -> NewCredential:
    """Verify a ``RegistrationResponseJSON``; raises :class:`CredentialRejected`."""
    try:
        verified = verify_registration_response(
            credential=dict(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=sorted(origins),
            supported_pub_key_algs=ALGORITHMS,
        )
    except WebAuthnException as exc:
        raise CredentialRejected(str(exc)) from exc
    except Exception as exc:  # any other failure inside an untrusted blob
        raise CredentialRejected("the credential is malformed") from exc
    # The library trusts the id inside the attestation; the one the browser reports must match.
    if credential_id(credential) != verified.credential_id:
        raise CredentialRejected("rawId does not match the attested credential id")
    if len(verified.credential_id) > MAX_CREDENTIAL_ID:
        raise CredentialRejected("the credential id is too long")
    return NewCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
        transports=transports_of(credential),
        user_verified=verified.user_verified,
        discoverable=discoverable_of(credential),
    )


def verify_assertion(
    *,
    credential: Mapping[str, Any],
    challenge: bytes,
    rp_id: str,
    origins: Iterable[str],
    public_key: bytes,
    sign_count: int,
    user_handle: bytes,
) -> Assertion:
    """Verify an ``AuthenticationResponseJSON`` against a stored credential.

    Raises :class:`SignCountRejected` for a correctly signed assertion whose counter did not
    advance, and :class:`CredentialRejected` for everything else.
    """
    handle = user_handle_of(credential)
    if handle is not None and handle != user_handle:
        raise CredentialRejected("the credential belongs to another account")
    try:
        # Stored count 0 turns the library's counter check off: ours runs after the
        # signature check, so only a genuinely signed assertion can flag a cloned key.
        verified = verify_authentication_response(
            credential=dict(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=sorted(origins),
            credential_public_key=public_key,
            credential_current_sign_count=0,
        )
    except WebAuthnException as exc:
        raise CredentialRejected(str(exc)) from exc
    except Exception as exc:  # any other failure inside an untrusted blob
        raise CredentialRejected("the credential is malformed") from exc
    received = verified.new_sign_count
    if (received or sign_count) and received <= sign_count:
        raise SignCountRejected(stored=sign_count, received=received)
    return Assertion(
        sign_count=received,
        backed_up=verified.credential_backed_up,
        user_verified=verified.user_verified,
    )
