// The CLI hand-off page: whose sign-in it is, then the second factor for the terminal's
// pending login, then back to the terminal's loopback listener. For a device hand-off
// (a terminal elsewhere, after single sign-on) the page first shows the account, the
// terminal's address and time and the warning; an account without a second factor is
// then approved only by the person's "Approve" here. For `ankra login --passkey` the page
// asks for a passkey alone, which names the account and signs the terminal in.
import { $, api, busy, field, focusHeading, page, problemText, say, show, when } from './common.js';
import { passkeysSupported, signInWithPasskey } from './passkeys.js';
import { secondFactor } from './second-factor.js';

function finished() {
  say('');
  show($('#cli-done'));
  focusHeading($('#cli-done'));
}

async function cliLoginPage() {
  const token = encodeURIComponent(page.token || '');
  const base = `/api/v1/auth/cli/handoff/${token}`;
  const facts = $('#cli-device-facts');
  const steps = secondFactor({
    calls: {
      passkeyOptions: () => api('POST', `${base}/passkey/options`, {}),
      passkey: (credential) => api('POST', `${base}/passkey`, { credential }),
      totp: (code) => api('POST', `${base}/totp`, { code }),
      recovery: (code) => api('POST', `${base}/recovery-code`, { code }),
    },
    onSuccess(answer) {
      steps.hide();
      show(facts, false);
      if (answer && answer.redirect_url) {
        say('Signed in. Returning to your terminal…', 'success');
        location.assign(answer.redirect_url);
        return;
      }
      finished();
    },
    onRestart(message) {
      steps.hide();
      show(facts, false);
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
  if (handoff.passkey_alone) {
    passkeyAlone(base);
    return;
  }
  if (!handoff.device_hand_off) {
    const account = $('#cli-account');
    field('email', account).textContent = handoff.email;
    show(account);
    steps.start(methods);
    return;
  }
  field('device-email', facts).textContent = handoff.email;
  field('ip', facts).textContent = handoff.ip || 'unknown';
  const time = field('requested-at', facts);
  time.dateTime = handoff.requested_at;
  time.textContent = when(handoff.requested_at);
  show(facts);
  focusHeading(facts);
  if (methods.length) {
    steps.start(methods);
    return;
  }
  const actions = field('approve-actions', facts);
  field('approve-email', actions).textContent = handoff.email;
  show(actions);
  $('[data-action="approve"]', actions).addEventListener('click', (event) => {
    busy(event.currentTarget, async () => {
      try {
        await api('POST', `${base}/approve`);
      } catch (error) {
        say(`${problemText(error)} Run “ankra login” in your terminal again.`, 'error');
        show(actions, false);
        return;
      }
      show(facts, false);
      finished();
    });
  });
  $('[data-action="deny"]', actions).addEventListener('click', (event) => {
    busy(event.currentTarget, async () => {
      try {
        await api('POST', `${base}/deny`);
      } catch (error) {
        say(problemText(error), 'error');
        return;
      }
      show(facts, false);
      show($('#cli-denied'));
      focusHeading($('#cli-denied'));
    });
  });
}

/** `ankra login --passkey`: the passkey is the whole sign-in, then back to the terminal. */
function passkeyAlone(base) {
  const card = $('#cli-passkey');
  const button = $('[data-action="cli-passkey"]', card);
  show(card);
  if (!passkeysSupported()) {
    show(button, false);
    show(field('cli-passkey-unavailable', card));
    focusHeading(card);
    return;
  }
  button.addEventListener('click', (event) => {
    busy(event.currentTarget, async () => {
      say('Follow your browser’s prompt to use your passkey…');
      let answer;
      try {
        answer = await signInWithPasskey({
          optionsCall: () => api('POST', `${base}/passkey-alone/options`, {}),
          signInCall: (credential) => api('POST', `${base}/passkey-alone`, { credential }),
        });
      } catch (error) {
        say(problemText(error), 'error');
        if (error.code === 'mfa_token_invalid') show(card, false); // over: the terminal starts again
        return;
      }
      show(card, false);
      say('Signed in. Returning to your terminal…', 'success');
      location.assign(answer.redirect_url);
    });
  });
  button.focus();
}

cliLoginPage();
