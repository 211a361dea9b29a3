import { $, ApiError, api, busy, field, problemText, say, show } from './common.js';
import { getPasskey, passkeysSupported } from './passkeys.js';

/** The API calls for a pending login named by its mfa_token (`/login` and after SSO). */
export function mfaTokenCalls(mfaToken) {
  const body = (extra) => ({ mfa_token: mfaToken(), ...extra });
  return {
    passkeyOptions: () => api('POST', '/api/v1/auth/mfa/passkey/options', body()),
    passkey: (credential) => api('POST', '/api/v1/auth/mfa/passkey', body({ credential })),
    totp: (code) => api('POST', '/api/v1/auth/mfa/totp', body({ code })),
    recovery: (code) => api('POST', '/api/v1/auth/mfa/recovery-code', body({ code })),
  };
}

/**
 * The second-factor step in #second-factor. `calls` talks to the API for one pending
 * login: {passkeyOptions(), passkey(credential), totp(code), recovery(code)}.
 * `onSuccess(answer, method)` gets the API's answer and the method that gave it; `onRestart(message)` runs when the pending
 * login is spent (too many attempts, expired) and the person must start over.
 */
export function secondFactor({ calls, onSuccess, onRestart }) {
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

  async function attempt(button, method, call, input) {
    await busy(button, async () => {
      try {
        onSuccess(await call(), method);
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
    attempt(event.currentTarget, 'passkey', async () => calls.passkey(await getPasskey(await calls.passkeyOptions())));
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
      attempt(event.submitter || $('button[type="submit"]', form), name, () => call(code), input);
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
      const canPasskey = passkeysSupported();
      methods = canPasskey ? available : available.filter((method) => method !== 'passkey');
      show(passkeyBox, available.includes('passkey'));
      show($('[data-action="use-passkey"]', root), canPasskey);
      show(field('passkeys-unavailable', root), !canPasskey);
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
