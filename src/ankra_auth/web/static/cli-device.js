// The device hand-off page (/cli/device): the person types the code their terminal shows;
// only then does the page show whose sign-in it is, from where, and the second factor.
// The approval handle the code opens lives in this module's memory only: never in a URL.
import { $, api, busy, field, focusHeading, problemText, say, show, when } from './common.js';
import { secondFactor } from './second-factor.js';

const base = '/api/v1/auth/cli/device';

function cliDevicePage() {
  const form = $('#cli-device-code');
  const check = $('#cli-device-check');
  let approval = null;
  const steps = secondFactor({
    calls: {
      passkeyOptions: () => api('POST', `${base}/passkey/options`, { approval_token: approval }),
      passkey: (credential) => api('POST', `${base}/passkey`, { approval_token: approval, credential }),
      totp: (code) => api('POST', `${base}/totp`, { approval_token: approval, code }),
      recovery: (code) => api('POST', `${base}/recovery-code`, { approval_token: approval, code }),
    },
    onSuccess() {
      approval = null;
      steps.hide();
      show(check, false);
      say('');
      show($('#cli-done'));
      focusHeading($('#cli-done'));
    },
    onRestart(message) {
      approval = null;
      steps.hide();
      show(check, false);
      say(`${message} Run “ankra login” in your terminal again.`, 'error');
    },
  });

  let methods = [];
  form.addEventListener('submit', (event) => {
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
      field('email', check).textContent = opened.email;
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
}

cliDevicePage();
