// The device hand-off page (/cli/device): the person types the code their terminal shows;
// only then does the page show whose sign-in it is, from where, and the second factor.
// The approval handle the code opens lives in this module's memory only: never in a URL.
// For `ankra login --sso --no-browser` the page shows the provider instead of an account
// and "Continue with NAME" trades the handle for the provider's one-time start link; the
// second factor then follows on the page the provider's callback answers. For
// `ankra login --passkey --no-browser` the page asks for a passkey, which only names the
// account: then "Approve sign-in to ankra CLI for EMAIL?", and only Approve signs the
// terminal in (Deny tells it no).
import { $, api, busy, field, focusHeading, onSubmit, problemText, say, show, when } from './common.js';
import { passkeysSupported, signInWithPasskey } from './passkeys.js';
import { secondFactor } from './second-factor.js';

const base = '/api/v1/auth/cli/device';

function cliDevicePage() {
  const form = $('#cli-device-code');
  const check = $('#cli-device-check');
  let approval = null;
  const ended = (section) => {
    approval = null;
    show(check, false);
    say('');
    show(section);
    focusHeading(section);
  };
  const steps = secondFactor({
    calls: {
      passkeyOptions: () => api('POST', `${base}/passkey/options`, { approval_token: approval }),
      passkey: (credential) => api('POST', `${base}/passkey`, { approval_token: approval, credential }),
      totp: (code) => api('POST', `${base}/totp`, { approval_token: approval, code }),
      recovery: (code) => api('POST', `${base}/recovery-code`, { approval_token: approval, code }),
    },
    onSuccess() {
      steps.hide();
      ended($('#cli-done'));
    },
    onRestart(message) {
      approval = null;
      steps.hide();
      show(check, false);
      say(`${message} Run “ankra login” in your terminal again.`, 'error');
    },
  });

  let methods = [];
  let sso = null;
  let passkeyAlone = false;
  const approveBox = field('device-approve', check);
  onSubmit(form, (event) => {
    event.preventDefault();
    const input = form.elements.user_code;
    const typed = input.value.trim();
    if (!typed) {
      say('Enter the code your terminal shows.', 'error');
      input.focus();
      return;
    }
    busy(event.submitter || $('button[type="submit"]', form), async () => {
      let opened;
      try {
        opened = await api('POST', `${base}/code`, { user_code: typed });
      } catch (error) {
        say(problemText(error), 'error');
        input.select();
        input.focus();
        return;
      }
      approval = opened.approval_token;
      methods = opened.methods || [];
      sso = opened.sso_provider || null;
      passkeyAlone = Boolean(opened.passkey_alone);
      const canPasskey = passkeysSupported();
      // The account is shown once known: after a password, never before the provider or the passkey.
      for (const row of check.querySelectorAll('[data-row="email"]')) show(row, !sso && !passkeyAlone);
      for (const row of check.querySelectorAll('[data-row="sso"]')) show(row, Boolean(sso));
      show($('[data-action="confirm-device"]', check), !sso && !passkeyAlone);
      show($('[data-action="continue-sso"]', check), Boolean(sso));
      show($('[data-action="device-passkey"]', check), passkeyAlone && canPasskey);
      show(field('device-passkey-unavailable', check), passkeyAlone && !canPasskey);
      show(approveBox, false);
      field('email', check).textContent = opened.email || '';
      field('provider', check).textContent = sso ? sso.name : '';
      field('provider-name', check).textContent = sso ? sso.name : '';
      field('ip', check).textContent = opened.ip || 'unknown';
      const time = field('requested-at', check);
      time.dateTime = opened.requested_at;
      time.textContent = when(opened.requested_at);
      say('');
      show(form, false);
      show(check);
      focusHeading(check);
    });
  });
  $('[data-action="confirm-device"]', check).addEventListener('click', (event) => {
    show(event.currentTarget, false);
    steps.start(methods);
  });
  $('[data-action="continue-sso"]', check).addEventListener('click', (event) => {
    busy(event.currentTarget, async () => {
      let started;
      try {
        started = await api('POST', `${base}/sso`, { approval_token: approval });
      } catch (error) {
        approval = null;
        show(check, false);
        say(problemText(error), 'error');
        return;
      }
      approval = null;
      say(`Taking you to ${sso.name}…`);
      location.assign(started.start_url);
    });
  });
  $('[data-action="device-passkey"]', check).addEventListener('click', (event) => {
    const button = event.currentTarget;
    busy(button, async () => {
      say('Follow your browser’s prompt to use your passkey…');
      let named;
      try {
        named = await signInWithPasskey({
          optionsCall: () => api('POST', `${base}/passkey-alone/options`, { approval_token: approval }),
          signInCall: (credential) => api('POST', `${base}/passkey-alone`, { approval_token: approval, credential }),
        });
      } catch (error) {
        say(problemText(error), 'error');
        if (error.code === 'mfa_token_invalid') {
          approval = null;
          show(check, false);
        }
        return;
      }
      // Nothing is approved yet: the person decides, knowing the account now.
      say('');
      show(button, false);
      field('approve-email', approveBox).textContent = named.email;
      show(approveBox);
      $('#device-approve-question', approveBox).focus();
    });
  });
  const decide = (action, section) => (event) => {
    busy(event.currentTarget, async () => {
      try {
        await api('POST', `${base}/${action}`, { approval_token: approval });
      } catch (error) {
        say(`${problemText(error)} Run “ankra login --passkey --no-browser” in your terminal again.`, 'error');
        approval = null;
        show(check, false);
        return;
      }
      ended(section);
    });
  };
  $('[data-action="device-approve"]', approveBox).addEventListener('click', decide('approve', $('#cli-done')));
  $('[data-action="device-deny"]', approveBox).addEventListener('click', decide('deny', $('#cli-denied')));
}

cliDevicePage();
