// WebAuthn in the browser: the JSON helpers, with a fallback for browsers that lack them.

const b64url = {
  decode: (text) => {
    const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  },
  encode: (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
};

// The WebAuthn JSON helpers, with a fallback for browsers that lack them.
function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return {
    ...json,
    challenge: b64url.decode(json.challenge),
    user: { ...json.user, id: b64url.decode(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: b64url.decode(c.id) })),
  };
}

function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return {
    ...json,
    challenge: b64url.decode(json.challenge),
    allowCredentials: (json.allowCredentials || []).map((c) => ({ ...c, id: b64url.decode(c.id) })),
  };
}

function credentialJSON(credential) {
  if (typeof credential.toJSON === 'function') return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: b64url.encode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = b64url.encode(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = b64url.encode(r.authenticatorData);
    response.signature = b64url.encode(r.signature);
    if (r.userHandle) response.userHandle = b64url.encode(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: b64url.encode(credential.rawId),
    type: credential.type,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
    response,
  };
}

// WebKitGTK and older browsers have no WebAuthn at all: pages then say so instead of offering a dead button.
export const passkeysSupported = () => Boolean(window.PublicKeyCredential && navigator.credentials);

function requirePasskeySupport() {
  if (!passkeysSupported()) {
    throw new Error('This browser does not support passkeys. Use another browser or another method.');
  }
}

export async function createPasskey(optionsJSON) {
  requirePasskeySupport();
  const credential = await navigator.credentials.create({ publicKey: creationOptions(optionsJSON) });
  return credentialJSON(credential);
}

/**
 * `mediation: 'conditional'` offers the site's passkeys in the autofill of a field with
 * `autocomplete="… webauthn"`; `signal` aborts the request (a page keeps one controller for
 * all its passkey requests, so a new one cancels the one still waiting).
 */
export async function getPasskey(optionsJSON, { mediation, signal } = {}) {
  requirePasskeySupport();
  const request = { publicKey: requestOptions(optionsJSON) };
  if (mediation) request.mediation = mediation;
  if (signal) request.signal = signal;
  const credential = await navigator.credentials.get(request);
  return credentialJSON(credential);
}

/** Whether the browser offers passkeys in a field's autofill (conditional mediation). */
export async function autofillAvailable() {
  if (!passkeysSupported() || typeof PublicKeyCredential.isConditionalMediationAvailable !== 'function') return false;
  try {
    return await PublicKeyCredential.isConditionalMediationAvailable();
  } catch {
    return false;
  }
}

// The Signal API (WebAuthn Level 3): tells the person's password manager what this site
// no longer accepts, so it stops offering removed passkeys. Where the browser has it only;
// a refusal changes nothing for the page.
export function signalUnknownPasskey({ rpId, credentialId }) {
  if (!passkeysSupported() || typeof PublicKeyCredential.signalUnknownCredential !== 'function') return;
  PublicKeyCredential.signalUnknownCredential({ rpId, credentialId }).catch(() => {});
}

export function signalAcceptedPasskeys({ rpId, userId, allAcceptedCredentialIds }) {
  if (!passkeysSupported() || typeof PublicKeyCredential.signalAllAcceptedCredentials !== 'function') return;
  PublicKeyCredential.signalAllAcceptedCredentials({ rpId, userId, allAcceptedCredentialIds }).catch(() => {});
}

/**
 * A passkey alone as the whole sign-in, through `optionsCall` and `signInCall` (the API
 * calls of the page: `/login`, or a CLI hand-off page). An `unknown_credential` answer
 * tells the password manager to forget that passkey before it is thrown.
 */
export async function signInWithPasskey({ optionsCall, signInCall, mediation, signal }) {
  const options = await optionsCall();
  if (signal?.aborted) throw new DOMException('The passkey request was cancelled.', 'AbortError');
  const credential = await getPasskey(options, { mediation, signal });
  try {
    return await signInCall(credential);
  } catch (error) {
    if (error?.code === 'unknown_credential') signalUnknownPasskey({ rpId: options.rpId, credentialId: credential.id });
    throw error;
  }
}
