// The CLI hand-off page: the second factor for a terminal's pending login.
import { $, api, field, focusHeading, page, problemText, say, show } from './common.js';
import { secondFactor } from './second-factor.js';

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

cliLoginPage();
