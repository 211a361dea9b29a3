// The CLI loopback hand-off page: whose sign-in it is, then the second factor for the
// terminal's pending login, then back to the terminal's loopback listener.
import { $, api, field, focusHeading, page, problemText, say, show } from './common.js';
import { secondFactor } from './second-factor.js';

async function cliLoginPage() {
  const token = encodeURIComponent(page.token || '');
  const base = `/api/v1/auth/cli/handoff/${token}`;
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
  const account = $('#cli-account');
  field('email', account).textContent = handoff.email;
  show(account);
  steps.start(handoff.methods || []);
}

cliLoginPage();
