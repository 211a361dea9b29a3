// A frontend team's first day, as a program: openapi-fetch over the types that
// openapi-typescript generates from openapi/openapi.json (schema.ts), compiled with
// strict, noUncheckedIndexedAccess and exactOptionalPropertyTypes. No `any`, no cast,
// no non-null assertion: every answer is narrowed on what the document promises.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";
import { currentStep, fail, totp, wrongCode } from "./totp.js";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];

function problemLine(problem: Problem): string {
  return `${problem.status} ${problem.code}: ${problem.detail}`;
}

const baseUrl = process.env["ANKRA_BASE_URL"] ?? fail("ANKRA_BASE_URL is not set");
const client = createClient<paths>({ baseUrl });

// Exhaustive over the enum: this compiles only while `method` is a union of literals.
function describeMethod(method: Schemas["SignInMethod"]): string {
  switch (method) {
    case "password":
      return "password";
    case "totp":
      return "authenticator app";
    case "passkey":
      return "passkey";
    case "recovery_code":
      return "recovery code";
    case "sso":
      return "single sign-on";
    case "cli":
      return "the CLI";
    case "link":
      return "a sign-in link";
    default: {
      const unknown: never = method;
      return unknown;
    }
  }
}

// The options fit the browser's parsers as they are (only compiled here: Node has no
// PublicKeyCredential).
export function creationOptions(
  json: Schemas["PublicKeyCredentialCreationOptionsJSON"],
): PublicKeyCredentialCreationOptions {
  return PublicKeyCredential.parseCreationOptionsFromJSON(json);
}

export function requestOptions(
  json: Schemas["PublicKeyCredentialRequestOptionsJSON"],
): PublicKeyCredentialRequestOptions {
  return PublicKeyCredential.parseRequestOptionsFromJSON(json);
}

const email = `ts-client-${Date.now()}@example.com`;
const password = "correct horse battery staple";

const signUp = await client.POST("/api/v1/users", { body: { email, password } });
if (signUp.error !== undefined) fail(problemLine(signUp.error));
const user: Schemas["UserOut"] = signUp.data;

const first = await client.POST("/api/v1/auth/login", { body: { email, password } });
if (first.error !== undefined) fail(problemLine(first.error));
if (first.data.status !== "authenticated") fail(`expected authenticated, got ${first.data.status}`);
const tokenType: "bearer" = first.data.token_type;
const session = { Authorization: `Bearer ${first.data.access_token}` };

const started = await client.POST("/api/v1/profile/auth/totp", { headers: session });
if (started.error !== undefined) fail(problemLine(started.error));
const secret = started.data.secret;
const confirmedStep = currentStep();
const confirmed = await client.POST("/api/v1/profile/auth/totp/confirm", {
  headers: session,
  body: { code: totp(secret, confirmedStep) },
});
if (confirmed.error !== undefined) fail(problemLine(confirmed.error));
const recoveryCodes = confirmed.data.recovery_codes ?? fail("2FA turned on without recovery codes");

const creation = await client.POST("/api/v1/profile/auth/passkeys/options", { headers: session });
if (creation.error !== undefined) fail(problemLine(creation.error));
const creationJSON: PublicKeyCredentialCreationOptionsJSON = creation.data;

const second = await client.POST("/api/v1/auth/login", { body: { email, password } });
if (second.error !== undefined) fail(problemLine(second.error));
if (second.data.status !== "mfa_required") fail(`expected mfa_required, got ${second.data.status}`);
const pending: Schemas["MfaRequiredOut"] = second.data;
const mfaToken = pending.mfa_token;

const request = await client.POST("/api/v1/auth/mfa/passkey/options", {
  body: { mfa_token: mfaToken },
});
if (request.error !== undefined) fail(problemLine(request.error));
const requestJSON: PublicKeyCredentialRequestOptionsJSON = request.data;

const malformed = await client.POST("/api/v1/auth/mfa/totp", {
  body: { mfa_token: mfaToken, code: "" },
});
if (malformed.error === undefined) fail("an empty code was accepted");
if (malformed.error.code !== "validation_error") fail(problemLine(malformed.error));
const offending = malformed.error.errors[0] ?? fail("a validation error without its errors");

const wrong = await client.POST("/api/v1/auth/mfa/totp", {
  body: { mfa_token: mfaToken, code: wrongCode(secret) },
});
if (wrong.error === undefined) fail("a wrong code was accepted");
if (wrong.error.code !== "invalid_code") fail(problemLine(wrong.error));
const attemptsRemaining: number = wrong.error.attempts_remaining;

// The confirmation spent its step: sign in with a later one (the next step is accepted).
const step = Math.max(currentStep(), confirmedStep + 1);
const right = await client.POST("/api/v1/auth/mfa/totp", {
  body: { mfa_token: mfaToken, code: totp(secret, step) },
});
if (right.error !== undefined) fail(problemLine(right.error));
const signedIn = { Authorization: `Bearer ${right.data.access_token}` };

const me = await client.GET("/api/v1/me", { headers: signedIn });
if (me.error !== undefined) fail(problemLine(me.error));

const sessions = await client.GET("/api/v1/profile/sessions", { headers: signedIn });
if (sessions.error !== undefined) fail(problemLine(sessions.error));
const current = sessions.data.find((s) => s.current) ?? fail("no current session");

const log = await client.GET("/api/v1/profile/auth/events", {
  headers: signedIn,
  params: { query: { limit: 20 } },
});
if (log.error !== undefined) fail(problemLine(log.error));
const eventTypes: Schemas["EventType"][] = log.data.events.map((event) => event.type);

const anonymous = await client.GET("/api/v1/me");
if (anonymous.error === undefined) fail("GET /me answered without a token");
if (anonymous.error.code !== "not_authenticated") fail(problemLine(anonymous.error));

console.log(
  JSON.stringify({
    user: user.email,
    first: first.data.status,
    token_type: tokenType,
    recovery_codes: recoveryCodes.length,
    creation_challenge: creationJSON.challenge.length > 0,
    creation_user_verification: creation.data.authenticatorSelection.userVerification,
    second: pending.status,
    methods: pending.methods,
    request_rp_id: requestJSON.rpId,
    validation: { status: malformed.response.status, loc: offending.loc },
    invalid_code: { status: wrong.response.status, attempts_remaining: attemptsRemaining },
    right: right.data.status,
    two_factor_enabled: me.data.two_factor_enabled,
    session_method: describeMethod(current.method),
    event_types: eventTypes,
    anonymous: anonymous.error.code,
  }),
);
