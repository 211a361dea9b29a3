// A real OpenID provider (panva's certified oidc-provider) for Ankra's SSO tests, on 127.0.0.1.
// Never deployed. Tests drive it through /__test routes: clients, users, key rotation, and a
// one-shot "tamper" that re-signs the next ID token with wrong claims or a foreign key.
import crypto from 'node:crypto';
import http from 'node:http';
import { SignJWT, decodeJwt, importJWK } from 'jose';
import Provider from 'oidc-provider';

const PORT = Number(process.env.OP_PORT || 0);
const ISSUER = `http://127.0.0.1:${PORT}`;

const clients = new Map(); // client_id -> client metadata
const users = new Map(); // sub -> {sub, email, email_verified, name, password}
let keys = [newKey()];
let tamper = null; // {nonce?, aud?, foreign_key?} for the next ID token only
let provider = build();

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
}

function build() {
  const p = new Provider(ISSUER, {
    clients: [...clients.values()],
    jwks: { keys },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    conformIdTokenClaims: false,
    claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile'],
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const user = users.get(sub);
      if (!user) return undefined;
      const claims = { sub, name: user.name };
      if (user.email !== undefined) claims.email = user.email;
      if (user.email_verified !== undefined) claims.email_verified = user.email_verified;
      return { accountId: sub, claims: () => claims };
    },
    // First-party client: no consent screen.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  p.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && tamper && ctx.body?.id_token) {
      const change = tamper;
      tamper = null;
      ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token, change) };
    }
  });
  return p;
}

async function resign(idToken, change) {
  const claims = decodeJwt(idToken);
  if (change.nonce !== undefined) claims.nonce = change.nonce;
  if (change.aud !== undefined) claims.aud = change.aud;
  const current = keys[0];
  // A foreign key that claims the provider's own kid: only the signature can tell.
  const signer = change.foreign_key ? newKey() : current;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: current.kid, typ: 'JWT' })
    .sign(await importJWK(signer, 'RS256'));
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginForm(uid, message = '') {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider sign-in</title></head>
<body><h1>Test provider</h1>${message ? `<p role="alert">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">Username</label><input id="login" name="login" autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">Sign in to the provider</button></form></body></html>`;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'Content-Type': type });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function testRoute(req, res, path) {
  const body = req.method === 'POST' ? JSON.parse((await readBody(req)) || '{}') : {};
  if (path === '/__test/clients') {
    clients.set(body.client_id, {
      client_id: body.client_id,
      client_secret: body.client_secret,
      redirect_uris: body.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    provider = build();
    return send(res, 201, { ok: true });
  }
  if (path === '/__test/users') {
    users.set(body.sub, body);
    return send(res, 201, { sub: body.sub });
  }
  if (path === '/__test/rotate') {
    keys = [newKey()]; // the old key is gone: a relying party must refetch the JWKS
    provider = build();
    return send(res, 200, { kid: keys[0].kid });
  }
  if (path === '/__test/tamper') {
    tamper = body;
    return send(res, 200, { ok: true });
  }
  return send(res, 404, { error: 'not_found' });
}

async function interaction(req, res, uid, action) {
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return send(res, 400, 'wrong interaction', 'text/plain');
    if (req.method === 'GET' && !action) return send(res, 200, loginForm(uid), 'text/html; charset=utf-8');
    if (req.method === 'POST' && action === 'login') {
      const form = new URLSearchParams(await readBody(req));
      const user = users.get(form.get('login') || '');
      if (!user || user.password !== form.get('password')) {
        return send(res, 200, loginForm(uid, 'Wrong username or password'), 'text/html; charset=utf-8');
      }
      // The provider claims MFA: Ankra must still ask its own second factor.
      const result = { login: { accountId: user.sub, amr: ['pwd', 'mfa'], acr: 'urn:test:mfa' } };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    return send(res, 405, 'method not allowed', 'text/plain');
  } catch (error) {
    return send(res, 400, String(error), 'text/plain');
  }
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, ISSUER);
  if (pathname.startsWith('/__test/')) return void testRoute(req, res, pathname);
  const match = /^\/interaction\/([^/]+)(?:\/(login))?$/.exec(pathname);
  if (match) return void interaction(req, res, match[1], match[2]);
  return provider.callback()(req, res);
});
server.listen(PORT, '127.0.0.1', () => console.log(`oidc-provider listening on ${ISSUER}`));
