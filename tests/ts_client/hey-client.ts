// The same first day with @hey-api/openapi-ts: its SDK (generated into hey-src/ and
// compiled on its own, since its runtime needs exactOptionalPropertyTypes off) called
// from this program, which keeps every strict flag on. No `any`, no cast.
import { client } from "./hey/client.gen.js";
import {
  confirmTotp,
  createUser,
  login,
  loginWithTotp,
  startTotp,
  type InvalidCodeProblem,
  type MfaRequiredOut,
  type Problem,
} from "./hey/index.js";
import { currentStep, fail, totp, wrongCode } from "./totp.js";

function problemLine(problem: Problem): string {
  return `${problem.status} ${problem.code}: ${problem.detail}`;
}

client.setConfig({ baseUrl: process.env["ANKRA_BASE_URL"] ?? fail("ANKRA_BASE_URL is not set") });

const email = `hey-client-${Date.now()}@example.com`;
const password = "correct horse battery staple";

const signUp = await createUser({ body: { email, password } });
if (signUp.error !== undefined) fail(problemLine(signUp.error));

const first = await login({ body: { email, password } });
if (first.error !== undefined) fail(problemLine(first.error));
if (first.data.status !== "authenticated") fail(`expected authenticated, got ${first.data.status}`);
const tokenType: "bearer" = first.data.token_type;
const session = { Authorization: `Bearer ${first.data.access_token}` };

const started = await startTotp({ headers: session });
if (started.error !== undefined) fail(problemLine(started.error));
const secret = started.data.secret;
const confirmedStep = currentStep();
const confirmed = await confirmTotp({
  headers: session,
  body: { code: totp(secret, confirmedStep) },
});
if (confirmed.error !== undefined) fail(problemLine(confirmed.error));

const second = await login({ body: { email, password } });
if (second.error !== undefined) fail(problemLine(second.error));
if (second.data.status !== "mfa_required") fail(`expected mfa_required, got ${second.data.status}`);
const pending: MfaRequiredOut = second.data;

const wrong = await loginWithTotp({ body: { mfa_token: pending.mfa_token, code: wrongCode(secret) } });
if (wrong.error === undefined) fail("a wrong code was accepted");
if (wrong.error.code !== "invalid_code") fail(problemLine(wrong.error));
const invalid: InvalidCodeProblem = wrong.error;

const step = Math.max(currentStep(), confirmedStep + 1);
const right = await loginWithTotp({
  body: { mfa_token: pending.mfa_token, code: totp(secret, step) },
});
if (right.error !== undefined) fail(problemLine(right.error));

console.log(
  JSON.stringify({
    first: first.data.status,
    token_type: tokenType,
    second: pending.status,
    invalid_code: { status: wrong.response.status, attempts_remaining: invalid.attempts_remaining },
    right: right.data.status,
  }),
);
