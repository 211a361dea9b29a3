// Ankra's pages: one vanilla module, no build step. <body data-page> picks what runs;
// every change goes through the JSON API (/api/v1), which owns all the rules.

const $ = (selector, root = document) => root.querySelector(selector);
const field = (name, root = document) => $(`[data-field="${name}"]`, root);
const page = document.body.dataset;
const here = () => location.pathname + location.search;
// Same form as the server's redirects: the path stays readable, the rest is encoded.
const withNext = (path, next) => `${path}?next=${encodeURIComponent(next).replace(/%2F/g, '/')}`;

// ---------------------------------------------------------------- API calls

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The request failed (HTTP ${status}).`);
    this.status = status;
    this.code = problem.code || 'http_error';
    this.problem = problem;
  }
}

async function api(method, path, body) {
  const init = {
    method,
    credentials: 'same-origin',
    // The page itself sends no Referer (the hand-off URL holds a token), but under
    // "no-referrer" a POST's Origin becomes "null" and fails the API's CSRF check.
    referrerPolicy: 'strict-origin',
    headers: { Accept: 'application/json' },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { code: 'network_error', detail: 'Could not reach Ankra. Check your connection and try again.' });
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) return data;
  const error = new ApiError(response.status, data && typeof data === 'object' ? data : {});
  if (page.auth === 'session' && error.code === 'not_authenticated') {
    location.assign(withNext('/login', here()));
  } else if (error.code === 'enrollment_required' && page.page !== 'secure-account') {
    location.assign(withNext('/secure-account', here()));
  }
  throw error;
}

// ---------------------------------------------------------------- feedback

function say(message, kind = 'info') {
  const region = $('#status');
  region.dataset.kind = kind;
  region.textContent = message;
}

// Runs an action once at a time per button; the button stays focusable while busy.
async function busy(button, work) {
  if (button?.getAttribute('aria-disabled') === 'true') return undefined;
  button?.setAttribute('aria-disabled', 'true');
  try {
    return await work();
  } finally {
    button?.removeAttribute('aria-disabled');
  }
}

function show(element, visible = true) {
  element.hidden = !visible;
}

function focusHeading(section) {
  const heading = $('h2', section);
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

const pad = (n) => String(n).padStart(2, '0');
const localDate = (d = new Date()) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '');

// ---------------------------------------------------------------- WebAuthn

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

function requirePasskeySupport() {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    throw new Error('This browser does not support passkeys. Use another browser or another method.');
  }
}

async function createPasskey(optionsJSON) {
  requirePasskeySupport();
  const credential = await navigator.credentials.create({ publicKey: creationOptions(optionsJSON) });
  return credentialJSON(credential);
}

async function getPasskey(optionsJSON) {
  requirePasskeySupport();
  const credential = await navigator.credentials.get({ publicKey: requestOptions(optionsJSON) });
  return credentialJSON(credential);
}

// What a failed ceremony means to a person (API errors carry their own detail).
function problemText(error) {
  if (error instanceof ApiError) return error.message;
  switch (error?.name) {
    case 'NotAllowedError':
      return 'The passkey request was cancelled or timed out, or no passkey for this site was found. Try again, or use another way to confirm it’s you.';
    case 'InvalidStateError':
      return 'This passkey or security key is already registered to your account.';
    case 'SecurityError':
      return 'Passkeys cannot be used on this address. Open Ankra at its usual address (not an IP address).';
    case 'AbortError':
      return 'The passkey request was cancelled.';
    default:
      return error?.message || String(error);
  }
}

// ---------------------------------------------------------------- second factor (login + CLI)

/**
 * The second-factor step in #second-factor. `calls` talks to the API for one pending
 * login: {passkeyOptions(), passkey(credential), totp(code), recovery(code)}.
 * `onSuccess(answer)` gets the API's answer; `onRestart(message)` runs when the pending
 * login is spent (too many attempts, expired) and the person must start over.
 */
function secondFactor({ calls, onSuccess, onRestart }) {
  const root = $('#second-factor');
  const passkeyBox = $('[data-method="passkey"]', root);
  const forms = { totp: $('form[data-method="totp"]', root), recovery_code: $('form[data-method="recovery_code"]', root) };
  const toRecovery = $('[data-action="use-recovery"]', root);
  const toTotp = $('[data-action="use-totp"]', root);
  let methods = [];

  function mode(chosen) {
    for (const [name, form] of Object.entries(forms)) show(form, name === chosen);
    show(toRecovery, methods.includes('recovery_code') && chosen !== 'recovery_code');
    show(toTotp, methods.includes('totp') && chosen === 'recovery_code');
    show($('[data-or]', root), Boolean(chosen));
  }

  async function attempt(button, call, input) {
    await busy(button, async () => {
      try {
        onSuccess(await call());
      } catch (error) {
        if (error instanceof ApiError && ['too_many_attempts', 'mfa_token_invalid'].includes(error.code)) {
          onRestart(error.message);
          return;
        }
        say(problemText(error), 'error');
        if (input) {
          input.select();
          input.focus();
        }
      }
    });
  }

  $('[data-action="use-passkey"]', root).addEventListener('click', (event) => {
    say('Follow your browser’s prompt to use your passkey…');
    attempt(event.currentTarget, async () => calls.passkey(await getPasskey(await calls.passkeyOptions())));
  });
  for (const [name, form] of Object.entries(forms)) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const input = form.elements.code;
      const code = input.value.trim();
      if (!code) {
        say(name === 'totp' ? 'Enter the code from your authenticator app.' : 'Enter one of your recovery codes.', 'error');
        input.focus();
        return;
      }
      const call = name === 'totp' ? calls.totp : calls.recovery;
      attempt(event.submitter || $('button[type="submit"]', form), () => call(code), input);
    });
  }
  toRecovery.addEventListener('click', () => {
    mode('recovery_code');
    forms.recovery_code.elements.code.focus();
  });
  toTotp.addEventListener('click', () => {
    mode('totp');
    forms.totp.elements.code.focus();
  });

  return {
    start(available) {
      methods = available;
      show(passkeyBox, methods.includes('passkey'));
      const first = methods.includes('totp') ? 'totp' : methods.includes('passkey') ? null : 'recovery_code';
      for (const form of Object.values(forms)) form.reset();
      mode(first);
      show(root);
      const target = first ? forms[first].elements.code : $('[data-action="use-passkey"]', root);
      target.focus();
    },
    hide() {
      show(root, false);
    },
  };
}

// ---------------------------------------------------------------- page: /login

function loginPage() {
  const form = $('#password-step');
  const next = page.next || '/profile/authentication';
  let mfaToken = null;

  const finish = (answer) => {
    say('Signed in.', 'success');
    location.assign(answer.enrollment_required ? withNext('/secure-account', next) : next);
  };
  const steps = secondFactor({
    calls: {
      passkeyOptions: () => api('POST', '/api/v1/auth/mfa/passkey/options', { mfa_token: mfaToken }),
      passkey: (credential) => api('POST', '/api/v1/auth/mfa/passkey', { mfa_token: mfaToken, credential }),
      totp: (code) => api('POST', '/api/v1/auth/mfa/totp', { mfa_token: mfaToken, code }),
      recovery: (code) => api('POST', '/api/v1/auth/mfa/recovery-code', { mfa_token: mfaToken, code }),
    },
    onSuccess: finish,
    onRestart(message) {
      mfaToken = null;
      steps.hide();
      show(form);
      form.elements.password.value = '';
      form.elements.password.focus();
      say(message, 'error');
    },
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    if (!email || !password) {
      say('Enter your email and password.', 'error');
      (email ? form.elements.password : form.elements.email).focus();
      return;
    }
    busy(event.submitter, async () => {
      try {
        const answer = await api('POST', '/api/v1/auth/login', { email, password });
        if (answer.status === 'authenticated') {
          finish(answer);
          return;
        }
        mfaToken = answer.mfa_token;
        show(form, false);
        say('Password accepted. Now confirm it’s you with a second factor.');
        steps.start(answer.methods);
      } catch (error) {
        say(problemText(error), 'error');
        form.elements.password.focus();
      }
    });
  });
  form.elements.email.focus();
}

// ---------------------------------------------------------------- page: CLI hand-off

async function cliLoginPage() {
  const token = encodeURIComponent(page.token || '');
  const base = `/api/v1/auth/cli/handoff/${token}`;
  const userCodeCard = $('#cli-user-code');
  const steps = secondFactor({
    calls: {
      passkeyOptions: () => api('POST', `${base}/passkey/options`, {}),
      passkey: (credential) => api('POST', `${base}/passkey`, { credential }),
      totp: (code) => api('POST', `${base}/totp`, { code }),
      recovery: (code) => api('POST', `${base}/recovery-code`, { code }),
    },
    onSuccess(answer) {
      steps.hide();
      if (answer && answer.redirect_url) {
        say('Signed in. Returning to your terminal…', 'success');
        location.assign(answer.redirect_url);
        return;
      }
      say('');
      show($('#cli-done'));
      focusHeading($('#cli-done'));
    },
    onRestart(message) {
      steps.hide();
      say(`${message} Run “ankra login” in your terminal again.`, 'error');
    },
  });

  let handoff;
  try {
    handoff = await api('GET', base);
  } catch (error) {
    show($('#cli-loading'), false);
    say(`${problemText(error)} Run “ankra login” in your terminal again.`, 'error');
    return;
  }
  show($('#cli-loading'), false);
  const methods = handoff.methods || [];
  if (!handoff.user_code) {
    steps.start(methods);
    return;
  }
  field('user-code', userCodeCard).textContent = handoff.user_code;
  show(userCodeCard);
  focusHeading(userCodeCard);
  $('[data-action="confirm-user-code"]', userCodeCard).addEventListener('click', () => {
    show(userCodeCard, false);
    steps.start(methods);
  }, { once: true });
}

// ---------------------------------------------------------------- enrollment pieces

/** Fresh recovery codes, shown once with copy and download. */
function newCodesPanel({ onDone }) {
  const panel = $('#new-codes');
  let codes = [];

  const fileText = () => [
    'Ankra recovery codes',
    `Account: ${page.email}`,
    `Site: ${page.site}`,
    `Date: ${localDate()}`,
    '',
    'Each code signs you in once when you cannot use your authenticator app or passkeys.',
    'Keep this file somewhere safe. Generating new codes makes these stop working.',
    '',
    ...codes,
    '',
  ].join('\n');

  $('[data-action="copy-codes"]', panel).addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      say('Recovery codes copied.', 'success');
    } catch {
      say('Could not copy: select the codes and copy them yourself, or download them.', 'error');
    }
  });
  $('[data-action="download-codes"]', panel).addEventListener('click', () => {
    const host = new URL(page.site || location.origin).host.replace(/[^a-zA-Z0-9.-]/g, '-');
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([fileText()], { type: 'text/plain;charset=utf-8' }));
    link.download = `ankra-recovery-codes-${host}-${localDate()}.txt`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    say('Recovery codes downloaded.', 'success');
  });
  $('[data-action="codes-saved"]', panel).addEventListener('click', () => {
    codes = [];
    field('codes', panel).replaceChildren();
    show(panel, false);
    onDone();
  });

  return {
    show(fresh) {
      codes = fresh;
      field('codes', panel).replaceChildren(...fresh.map((code) => Object.assign(document.createElement('li'), { textContent: code })));
      show(panel);
      panel.scrollIntoView({ block: 'start' });
      focusHeading(panel);
    },
  };
}

/** "Set up authenticator app": QR code, secret, confirmation. */
function totpSetup({ onEnabled }) {
  const card = $('#totp-card');
  const views = { off: $('[data-view="off"]', card), setup: $('[data-view="setup"]', card), on: $('[data-view="on"]', card) };
  const confirmForm = $('[data-form="confirm-totp"]', card);

  function view(name) {
    for (const [key, element] of Object.entries(views)) if (element) show(element, key === name);
  }

  $('[data-action="start-totp"]', card).addEventListener('click', (event) => busy(event.currentTarget, async () => {
    try {
      const setup = await api('POST', '/api/v1/profile/auth/totp');
      // The QR code is our own server's SVG (attributes only, no inline style or script).
      const svg = new DOMParser().parseFromString(setup.qr_svg, 'text/html').querySelector('svg');
      svg.setAttribute('role', 'img');
      svg.setAttribute('aria-label', 'QR code for your authenticator app');
      field('qr', card).replaceChildren(document.importNode(svg, true));
      $('#totp-secret').value = setup.secret.match(/.{1,4}/g).join(' ');
      confirmForm.reset();
      view('setup');
      say('Scan the QR code, then enter the code your app shows.');
      confirmForm.elements.code.focus();
    } catch (error) {
      say(problemText(error), 'error');
    }
  }));
  $('[data-action="cancel-totp"]', card).addEventListener('click', () => {
    view('off');
    say('Authenticator app set-up cancelled.');
    $('[data-action="start-totp"]', card).focus();
  });
  confirmForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = confirmForm.elements.code;
    const code = input.value.replace(/\s/g, '');
    if (!code) {
      say('Enter the 6-digit code from your authenticator app.', 'error');
      input.focus();
      return;
    }
    busy(event.submitter, async () => {
      try {
        const answer = await api('POST', '/api/v1/profile/auth/totp/confirm', { code });
        field('qr', card).replaceChildren();
        $('#totp-secret').value = '';
        say('Authenticator app set up. Two-factor authentication is on.', 'success');
        await onEnabled(answer.recovery_codes);
      } catch (error) {
        say(problemText(error), 'error');
        input.select();
        input.focus();
      }
    });
  });

  return { view };
}

/** "Add passkey": name, browser ceremony, registration. */
function addPasskey({ onAdded }) {
  const form = $('[data-form="add-passkey"]');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = form.elements.name;
    const name = input.value.trim();
    if (!name) {
      say('Give the passkey a name first, like “Work laptop”.', 'error');
      input.focus();
      return;
    }
    busy(event.submitter, async () => {
      try {
        say('Follow your browser’s prompt to create the passkey…');
        const options = await api('POST', '/api/v1/profile/auth/passkeys/options');
        const credential = await createPasskey(options);
        const answer = await api('POST', '/api/v1/profile/auth/passkeys', { name, credential });
        form.reset();
        say(`Passkey “${answer.passkey.name}” added.`, 'success');
        await onAdded(answer);
      } catch (error) {
        say(problemText(error), 'error');
      }
    });
  });
}

function signOutButton() {
  $('[data-action="sign-out"]')?.addEventListener('click', (event) => busy(event.currentTarget, async () => {
    try {
      await api('POST', '/api/v1/auth/logout');
    } catch (error) {
      if (error.code !== 'not_authenticated') {
        say(problemText(error), 'error');
        return;
      }
    }
    location.assign('/login');
  }));
}

// ---------------------------------------------------------------- page: Secure your account

function secureAccountPage() {
  const next = page.next || '/profile/authentication';
  const proceed = () => location.assign(next);
  const codes = newCodesPanel({ onDone: proceed });

  async function enrolled(freshCodes) {
    const status = await api('GET', '/api/v1/profile/auth');
    if (status.enrollment_required) return;
    show($('#totp-card'), false);
    show($('#passkeys-card'), false);
    if (freshCodes && freshCodes.length) {
      codes.show(freshCodes);
    } else {
      proceed();
    }
  }
  totpSetup({ onEnabled: enrolled });
  addPasskey({ onAdded: (answer) => enrolled(answer.recovery_codes) });
  signOutButton();
}

// ---------------------------------------------------------------- page: Profile → Authentication

const EVENT_LABELS = {
  sign_in: 'Signed in',
  sign_out: 'Signed out',
  password_failed: 'Wrong password entered',
  second_factor_failed: 'Second factor failed',
  pending_login_voided: 'Sign-in stopped after too many attempts',
  throttled: 'Sign-in attempts paused',
  reauthenticated: 'Password confirmed',
  totp_enabled: 'Authenticator app set up',
  totp_removed: 'Authenticator app removed',
  passkey_added: 'Passkey added',
  passkey_renamed: 'Passkey renamed',
  passkey_removed: 'Passkey removed',
  passkey_sign_count_mismatch: 'Passkey counter mismatch (possible copied key)',
  recovery_codes_issued: 'Recovery codes issued',
  recovery_codes_regenerated: 'Recovery codes regenerated',
  recovery_code_used: 'Recovery code used',
  two_factor_disabled: 'Two-factor authentication turned off',
  two_factor_reset_by_admin: 'Two-factor authentication reset by an administrator',
  org_enforcement_enabled: 'Organisation started requiring two-factor authentication',
  org_enforcement_disabled: 'Organisation stopped requiring two-factor authentication',
  cli_login_approved: 'CLI sign-in approved',
};
const METHOD_LABELS = { password: 'Password', totp: 'Authenticator app', passkey: 'Passkey', recovery_code: 'Recovery code' };

/** Asks for the password when the API wants a recent check; resolves false on cancel. */
function reauthDialog() {
  const dialog = $('#reauth');
  const form = $('[data-form="reauth"]', dialog);
  const error = field('reauth-error', dialog);
  let settle = null;

  const close = (ok) => {
    if (dialog.open) dialog.close();
    settle?.(ok);
    settle = null;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const password = form.elements.password.value;
    if (!password) {
      error.textContent = 'Enter your password.';
      return;
    }
    busy(event.submitter, async () => {
      try {
        await api('POST', '/api/v1/auth/reauthenticate', { password });
        close(true);
      } catch (problem) {
        error.textContent = problemText(problem);
        form.elements.password.select();
      }
    });
  });
  $('[data-action="cancel-reauth"]', dialog).addEventListener('click', () => close(false));
  dialog.addEventListener('close', () => close(false));

  return () => new Promise((resolve) => {
    settle = resolve;
    form.reset();
    error.textContent = '';
    dialog.showModal();
    form.elements.password.focus();
  });
}

async function profilePage() {
  const askPassword = reauthDialog();
  const codes = newCodesPanel({
    onDone: () => {
      say('Keep your recovery codes somewhere safe.');
      focusHeading($('#two-factor-card'));
    },
  });
  const totp = totpSetup({ onEnabled: async (fresh) => { await refresh(); if (fresh) codes.show(fresh); } });
  addPasskey({ onAdded: async (answer) => { await refresh(); if (answer.recovery_codes) codes.show(answer.recovery_codes); } });
  signOutButton();

  // Runs a sensitive action; on reauthentication_required asks for the password and retries once.
  async function sensitive(action) {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'reauthentication_required') throw error;
      if (!(await askPassword())) throw new Error('Cancelled: nothing was changed.');
      return action();
    }
  }

  // A change through the API, then the page redrawn; `focusAfter` keeps keyboard users in place.
  async function act(button, action, success, focusAfter) {
    await busy(button, async () => {
      try {
        await sensitive(action);
        say(success, 'success');
        await refresh();
        focusAfter?.();
      } catch (error) {
        say(problemText(error), 'error');
      }
    });
  }

  const focusPasskeyButton = (id, verb) => $(`[data-passkey="${CSS.escape(id)}"][data-verb="${verb}"]`)?.focus();

  async function refresh() {
    const status = await api('GET', '/api/v1/profile/auth');
    if (status.enrollment_required) {
      location.assign(withNext('/secure-account', here()));
      return;
    }
    renderStatus(status);
    totp.view(status.totp_enabled ? 'on' : $('#totp-card [data-view="setup"]').hidden ? 'off' : 'setup');
    renderPasskeys(await api('GET', '/api/v1/profile/auth/passkeys'));
    await loadEvents(false);
  }

  function renderStatus(status) {
    const on = status.two_factor_enabled;
    field('summary').replaceChildren(
      Object.assign(document.createElement('span'), { className: `badge ${on ? 'on' : 'off'}`, textContent: on ? 'On' : 'Off' }),
      on ? ' Two-factor authentication is on.' : ' Two-factor authentication is off. Set up an authenticator app or add a passkey to turn it on.',
    );
    show(field('facts'), on);
    field('totp-state').textContent = status.totp_enabled ? 'Set up' : 'Not set up';
    field('passkey-count').textContent = String(status.passkey_count);
    field('codes-left').textContent = `${status.recovery_codes_remaining} of 10`;
    const low = on && status.recovery_codes_remaining <= 3;
    const warning = field('codes-warning');
    warning.textContent = status.recovery_codes_remaining === 0
      ? 'You have no recovery codes left. Regenerate recovery codes so you can still sign in if you lose your other factors.'
      : `Only ${status.recovery_codes_remaining} recovery code${status.recovery_codes_remaining === 1 ? '' : 's'} left. Regenerate recovery codes so you don’t get locked out.`;
    show(warning, low);
    const enforced = field('enforced');
    enforced.textContent = status.enforced_by.length
      ? `Required by ${status.enforced_by.map((org) => org.name).join(', ')}: it cannot be turned off.`
      : '';
    show(enforced, status.enforced_by.length > 0);
    show($('#recovery-card'), on);
    show($('#disable-card'), on && status.enforced_by.length === 0);
  }

  function renderPasskeys(passkeys) {
    const list = field('passkeys');
    show(field('no-passkeys'), passkeys.length === 0);
    list.replaceChildren(...passkeys.map(passkeyRow));
  }

  function button(label, hiddenSuffix, onClick, className = '') {
    const element = document.createElement('button');
    element.type = 'button';
    element.className = className;
    element.append(label);
    if (hiddenSuffix) {
      element.append(Object.assign(document.createElement('span'), { className: 'visually-hidden', textContent: ` ${hiddenSuffix}` }));
    }
    element.addEventListener('click', onClick);
    return element;
  }

  function passkeyRow(passkey) {
    const row = document.createElement('li');
    const info = document.createElement('div');
    const details = [`Added ${when(passkey.created_at)}`, passkey.last_used_at ? `last used ${when(passkey.last_used_at)}` : 'never used'];
    if (passkey.backed_up) details.push('synced');
    info.append(
      Object.assign(document.createElement('strong'), { textContent: passkey.name }),
      Object.assign(document.createElement('span'), { className: 'meta', textContent: details.join(' · ') }),
    );
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(
      button('Rename', passkey.name, () => renameForm(row, passkey)),
      button('Remove', passkey.name, (event) => act(
        event.currentTarget,
        () => api('DELETE', `/api/v1/profile/auth/passkeys/${encodeURIComponent(passkey.id)}`),
        `Passkey “${passkey.name}” removed.`,
        () => focusHeading($('#passkeys-card')),
      ), 'danger'),
    );
    for (const [element, verb] of [[actions.children[0], 'rename'], [actions.children[1], 'remove']]) {
      element.dataset.passkey = passkey.id;
      element.dataset.verb = verb;
    }
    row.append(info, actions);
    return row;
  }

  function renameForm(row, passkey) {
    const form = document.createElement('form');
    form.className = 'rename';
    const id = `rename-${passkey.id}`;
    const label = Object.assign(document.createElement('label'), { htmlFor: id, textContent: `New name for ${passkey.name}` });
    const input = Object.assign(document.createElement('input'), { id, name: 'name', type: 'text', value: passkey.name, maxLength: 100, required: true, autocomplete: 'off' });
    const save = Object.assign(document.createElement('button'), { type: 'submit', className: 'primary', textContent: 'Save name' });
    const cancel = button('Cancel', '', async () => {
      await refresh();
      focusPasskeyButton(passkey.id, 'rename');
    });
    const actions = Object.assign(document.createElement('div'), { className: 'actions' });
    actions.append(save, cancel);
    form.append(label, input, actions);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (!name) {
        say('The name cannot be empty.', 'error');
        input.focus();
        return;
      }
      act(
        save,
        () => api('PATCH', `/api/v1/profile/auth/passkeys/${encodeURIComponent(passkey.id)}`, { name }),
        `Passkey renamed to “${name}”.`,
        () => focusPasskeyButton(passkey.id, 'rename'),
      );
    });
    row.replaceChildren(form);
    input.select();
    input.focus();
  }

  $('[data-action="remove-totp"]').addEventListener('click', (event) => act(
    event.currentTarget,
    () => api('DELETE', '/api/v1/profile/auth/totp'),
    'Authenticator app removed.',
    () => $('[data-action="start-totp"]').focus(),
  ));
  $('[data-action="regenerate-codes"]').addEventListener('click', (event) => busy(event.currentTarget, async () => {
    try {
      const answer = await sensitive(() => api('POST', '/api/v1/profile/auth/recovery-codes'));
      await refresh();
      say('New recovery codes created. The old ones no longer work.', 'success');
      codes.show(answer.recovery_codes);
    } catch (error) {
      say(problemText(error), 'error');
    }
  }));
  const disableCard = $('#disable-card');
  const confirmDisable = $('[data-view="confirm-disable"]', disableCard);
  $('[data-action="disable"]', disableCard).addEventListener('click', () => {
    show(confirmDisable);
    $('[data-action="confirm-disable"]', disableCard).focus();
  });
  $('[data-action="cancel-disable"]', disableCard).addEventListener('click', () => {
    show(confirmDisable, false);
    $('[data-action="disable"]', disableCard).focus();
  });
  $('[data-action="confirm-disable"]', disableCard).addEventListener('click', async (event) => {
    await act(
      event.currentTarget,
      () => api('DELETE', '/api/v1/profile/auth'),
      'Two-factor authentication is off.',
      () => focusHeading($('#two-factor-card')),
    );
    show(confirmDisable, false);
  });

  // Security log: newest first, 20 at a time.
  let cursor = null;
  const moreEvents = $('[data-action="more-events"]');
  async function loadEvents(more) {
    const query = more && cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const answer = await api('GET', `/api/v1/profile/auth/events?limit=20${query}`);
    const rows = answer.events.map((e) => {
      const row = document.createElement('tr');
      const time = Object.assign(document.createElement('time'), { dateTime: e.created_at, textContent: when(e.created_at) });
      const cells = [time, EVENT_LABELS[e.type] || e.type, METHOD_LABELS[e.method] || e.method || '', e.ip || ''];
      row.append(...cells.map((content) => {
        const cell = document.createElement('td');
        cell.append(content);
        return cell;
      }));
      return row;
    });
    const body = field('events');
    if (more) body.append(...rows);
    else body.replaceChildren(...rows);
    cursor = answer.next_cursor;
    show(moreEvents, Boolean(cursor));
    show(field('no-events'), body.childElementCount === 0);
  }
  moreEvents.addEventListener('click', (event) => busy(event.currentTarget, async () => {
    try {
      await loadEvents(true);
    } catch (error) {
      say(problemText(error), 'error');
    }
  }));

  try {
    await refresh();
  } catch (error) {
    say(problemText(error), 'error');
  }
}

// ---------------------------------------------------------------- single sign-on (sso/)
// Own block so it can move into its own module: the second-factor page after a provider
// signed someone in, and the profile's "Single sign-on" card.

function ssoSecondFactorPage() {
  const next = page.next || '/profile/authentication';
  const mfaToken = page.mfaToken;
  const steps = secondFactor({
    calls: {
      passkeyOptions: () => api('POST', '/api/v1/auth/mfa/passkey/options', { mfa_token: mfaToken }),
      passkey: (credential) => api('POST', '/api/v1/auth/mfa/passkey', { mfa_token: mfaToken, credential }),
      totp: (code) => api('POST', '/api/v1/auth/mfa/totp', { mfa_token: mfaToken, code }),
      recovery: (code) => api('POST', '/api/v1/auth/mfa/recovery-code', { mfa_token: mfaToken, code }),
    },
    onSuccess(answer) {
      say('Signed in.', 'success');
      location.assign(answer.enrollment_required ? withNext('/secure-account', next) : next);
    },
    onRestart(message) {
      steps.hide();
      say(message, 'error');
      show($('#sso-restart'));
      focusHeading($('#sso-restart'));
    },
  });
  say(`${page.provider} signed you in. Now confirm it’s you with a second factor.`);
  steps.start((page.methods || '').split(',').filter(Boolean));
}

async function ssoCard() {
  const card = $('#sso-card');
  const profile = '/profile/authentication';
  const startUrl = (id, flag) => `/auth/sso/${encodeURIComponent(id)}/start?${flag}=1&next=${encodeURIComponent(profile)}`;
  const link = (href, text, className = 'button') => Object.assign(document.createElement('a'), { href, textContent: text, className });

  async function unlink(button, provider) {
    await busy(button, async () => {
      try {
        await api('DELETE', `/api/v1/profile/sso/${encodeURIComponent(provider.id)}`);
        say(`${provider.name} is no longer linked.`, 'success');
        await draw();
      } catch (error) {
        if (error instanceof ApiError && error.code === 'reauthentication_required') {
          say(`Confirm it’s you first: sign in again with ${provider.name} (or your password), then press Unlink again.`, 'error');
          button.after(link(startUrl(provider.id, 'reauth'), `Confirm with ${provider.name}`));
          return;
        }
        say(problemText(error), 'error');
      }
    });
  }

  async function draw() {
    const [providers, links] = await Promise.all([
      api('GET', '/api/v1/auth/sso/providers'),
      api('GET', '/api/v1/profile/sso'),
    ]);
    show(card, providers.length > 0 || links.length > 0);
    const linked = new Set(links.map((l) => l.provider.id));
    field('sso-links').replaceChildren(...links.map((l) => {
      const row = document.createElement('li');
      const name = Object.assign(document.createElement('strong'), { textContent: l.provider.name });
      const meta = Object.assign(document.createElement('span'), {
        className: 'meta',
        textContent: `${l.email || 'no email'} · linked ${when(l.linked_at)}${l.last_used_at ? ` · last used ${when(l.last_used_at)}` : ''}`,
      });
      const button = Object.assign(document.createElement('button'), { type: 'button', className: 'danger', textContent: 'Unlink' });
      button.setAttribute('aria-label', `Unlink ${l.provider.name}`);
      button.addEventListener('click', () => unlink(button, l.provider));
      row.append(name, meta, button);
      return row;
    }));
    show(field('sso-none'), links.length === 0);
    field('sso-link-actions').replaceChildren(
      ...providers.filter((p) => !linked.has(p.id)).map((p) => link(startUrl(p.id, 'link'), `Link ${p.name}`)),
    );
  }

  try {
    await draw();
  } catch (error) {
    say(problemText(error), 'error');
  }
}

Object.assign(EVENT_LABELS, { sso_linked: 'Single sign-on linked', sso_unlinked: 'Single sign-on unlinked' });
Object.assign(METHOD_LABELS, { sso: 'Single sign-on' });
// ---------------------------------------------------------------- end single sign-on

// ---------------------------------------------------------------- start

const PAGES = { login: loginPage, 'cli-login': cliLoginPage, profile: profilePage, 'secure-account': secureAccountPage };
PAGES[page.page]?.();
if (page.page === 'sso-second-factor') ssoSecondFactorPage();
if (page.page === 'profile' && $('#sso-card')) ssoCard();
