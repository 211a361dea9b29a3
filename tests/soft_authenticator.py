"""A software WebAuthn authenticator (ES256 or ES512, attestation "none") speaking the Level 3 JSON forms.

It builds real authenticator data, CBOR attestation objects and ECDSA signatures, so the
server verifies them exactly as it would a browser's. Knobs let a test lie about the origin,
the RP ID, the counter or the signature.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes(range(16))
# COSE algorithm -> (COSE curve, coordinate bytes, curve, hash): ES256, and ES512 (never offered).
CURVES: dict[int, tuple[int, int, ec.EllipticCurve, hashes.HashAlgorithm]] = {
    -7: (1, 32, ec.SECP256R1(), hashes.SHA256()),
    -36: (3, 66, ec.SECP521R1(), hashes.SHA512()),
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    user_handle: bytes
    sign_count: int = 0
    algorithm: int = -7  # ES256

    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        crv, size, _, _ = CURVES[self.algorithm]
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: self.algorithm,
                -1: crv,
                -2: numbers.x.to_bytes(size, "big"),
                -3: numbers.y.to_bytes(size, "big"),
            }
        )

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data, ec.ECDSA(CURVES[self.algorithm][3]))

    def for_chromium(self, *, discoverable: bool = True) -> dict[str, object]:
        """This credential as Chromium's DevTools ``WebAuthn.addCredential`` takes it: a
        virtual authenticator then holds it, as a synced passkey arrives on a device."""
        key = self.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        return {
            "credentialId": base64.b64encode(self.credential_id).decode(),
            "isResidentCredential": discoverable,
            "rpId": "localhost",
            "privateKey": base64.b64encode(key).decode(),
            "userHandle": base64.b64encode(self.user_handle).decode(),
            "signCount": self.sign_count,
        }


@dataclass
class SoftAuthenticator:
    """One authenticator; ``counts`` False models keys that always report a zero counter."""

    origin: str = "http://localhost:8000"
    rp_id: str = "localhost"
    counts: bool = True
    backup_eligible: bool = False
    transports: list[str] = field(default_factory=lambda: ["internal"])
    credential_id_length: int = 32
    attest_broken_key: bool = False  # attest a COSE key without its algorithm
    algorithm: int = -7  # the COSE algorithm of new credentials (see CURVES)
    # False: a security key without a PIN (no UV flag); ``resident`` is what the browser
    # reports as credProps.rk at registration (None: it does not say).
    user_verifies: bool = True
    resident: bool | None = True
    aaguid: bytes = AAGUID  # who made it: 16 bytes (the AAGUID list names some)
    credentials: dict[bytes, SoftCredential] = field(default_factory=dict)

    def _verified(self, flags: int) -> int:
        return flags | UV if self.user_verifies else flags

    def _auth_data(self, rp_id: str, flags: int, sign_count: int, attested: bytes = b"") -> bytes:
        rp_id_hash = hashlib.sha256(rp_id.encode()).digest()
        if self.backup_eligible:
            flags |= BE | BS
        return rp_id_hash + bytes([flags]) + struct.pack(">I", sign_count) + attested

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            },
            separators=(",", ":"),
        ).encode()

    def create(
        self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None
    ) -> dict[str, Any]:
        """Answer creation options with a RegistrationResponseJSON."""
        excluded = {unb64url(c["id"]) for c in options.get("excludeCredentials", [])}
        assert not excluded & set(self.credentials), "excluded credential: the browser refuses"
        cred = SoftCredential(
            credential_id=os.urandom(self.credential_id_length),
            private_key=ec.generate_private_key(CURVES[self.algorithm][2]),
            user_handle=unb64url(options["user"]["id"]),
            sign_count=1 if self.counts else 0,
            algorithm=self.algorithm,
        )
        self.credentials[cred.credential_id] = cred
        attested = (
            self.aaguid
            + struct.pack(">H", len(cred.credential_id))
            + cred.credential_id
            + (cbor2.dumps({1: 2}) if self.attest_broken_key else cred.cose_public_key())
        )
        auth_data = self._auth_data(
            rp_id or options["rp"]["id"], self._verified(UP | AT), cred.sign_count, attested
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64url(cred.credential_id),
            "rawId": b64url(cred.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": (
                {} if self.resident is None else {"credProps": {"rk": self.resident}}
            ),
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": self.transports,
                "publicKeyAlgorithm": -7,
                "authenticatorData": b64url(auth_data),
            },
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        sign_count: int | None = None,
        tamper: bool = False,
        credential_id: bytes | None = None,
    ) -> dict[str, Any]:
        """Answer request options with an AuthenticationResponseJSON.

        Uses the first allowed credential this authenticator holds (or ``credential_id``); the
        counter advances by one unless ``sign_count`` forces a value.
        """
        if credential_id is None:
            allowed = [unb64url(c["id"]) for c in options.get("allowCredentials", [])]
            # No list (a passkey alone): the browser offers the discoverable credentials held.
            credential_id = next(c for c in allowed or self.credentials if c in self.credentials)
        cred = self.credentials[credential_id]
        if sign_count is not None:
            cred.sign_count = sign_count
        elif self.counts:
            cred.sign_count += 1
        auth_data = self._auth_data(
            rp_id or options.get("rpId", self.rp_id), self._verified(UP), cred.sign_count
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = cred.sign(auth_data + hashlib.sha256(client_data).digest())
        if tamper:
            signature = cred.sign(b"something else")
        return {
            "id": b64url(cred.credential_id),
            "rawId": b64url(cred.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(cred.user_handle),
            },
        }
