// /login: email and password, then the second-factor step; or a passkey alone, chosen in
// the email field's autofill (conditional mediation) or with "Sign in with a passkey".
import { $, api, busy, field, onSubmit, page, problemText, say, show, withNext } from './common.js';
import { offerAfterSignIn } from './passkey-nudge.js';
import { autofillAvailable, passkeysSupported, signInWithPasskey } from './passkeys.js';
import { mfaTokenCalls, secondFactor } from './second-factor.js';

// This page was opened at an address the service does not sign in from (127.0.0.1 instead
// of localhost, say): nothing was checked or spent. Say so, and link to the right page.
function wrongAddress(problem) {
  say(problem.detail, 'error');
  let target;
  try {
    target = new URL(problem.login_url);
  } catch {
    return;
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return;
  target.search = location.search;
  const link = document.createElement('a');
  link.href = target.href;
  link.textContent = `Go to ${target.origin}/login`;
  $('#status').append(' ', link);
  link.focus();
}

// What the browser says when a passkey request ends without a passkey (cancelled,
// nothing chosen, or aborted by the next request): no news for an autofill request.
const quietEnd = (error) => ['AbortError', 'NotAllowedError'].includes(error?.name);

/**
 * The passkey alone: one AbortController for every request of the page, so the modal
 * request ("Sign in with a passkey") cancels the autofill one, and the password step
 * cancels whichever still waits (its second factor may need the authenticator).
 */
function passkeyAlone({ form, onSignedIn, onProblem }) {
  let controller = null;
  const cancel = () => {
    controller?.abort();
    controller = null;
  };
  const request = (mediation) => {
    cancel();
    controller = new AbortController();
    return signInWithPasskey({
      optionsCall: () => api('POST', '/api/v1/auth/passkey/options', {}),
      signInCall: (credential) => api('POST', '/api/v1/auth/passkey', { credential }),
      mediation,
      signal: controller.signal,
    });
  };

  // At load, where the browser offers passkeys in the email field's autofill: choosing
  // one there signs in at once. Ended quietly when nothing was chosen.
  async function autofill() {
    if (!(await autofillAvailable())) return;
    try {
      onSignedIn(await request('conditional'));
    } catch (error) {
      if (error?.name === 'AbortError') return; // cancelled by the button or the password
      if (error?.code === 'rate_limited' || error?.code === 'network_error' || quietEnd(error)) return;
      onProblem(error);
    }
  }

  const box = field('passkey-sign-in', form);
  if (!passkeysSupported()) return { cancel }; // WebKitGTK: the password form only
  show(box);
  $('[data-action="sign-in-with-passkey"]', box).addEventListener('click', (event) => {
    busy(event.currentTarget, async () => {
      say('Follow your browser’s prompt to use your passkey…');
      try {
        onSignedIn(await request('optional'));
      } catch (error) {
        onProblem(error);
        if (quietEnd(error)) autofill(); // cancelled: the autofill offer comes back
      }
    });
  });
  autofill();
  return { cancel };
}

function loginPage() {
  const form = $('#password-step');
  const next = page.next || '/profile/authentication';
  let mfaToken = null;
  let offered = [];

  const finish = (answer) => {
    say('Signed in.', 'success');
    location.assign(answer.enrollment_required ? withNext('/secure-account', next) : next);
  };
  const steps = secondFactor({
    calls: mfaTokenCalls(() => mfaToken),
    onSuccess(answer, method) {
      offerAfterSignIn(method, offered); // "Sign in faster next time: add a passkey"
      finish(answer);
    },
    onRestart(message) {
      mfaToken = null;
      steps.hide();
      show(form);
      form.elements.password.value = '';
      form.elements.password.focus();
      say(message, 'error');
    },
  });
  const passkey = passkeyAlone({
    form,
    onSignedIn: finish,
    onProblem(error) {
      const text = error?.name === 'NotAllowedError'
        ? 'No passkey was used: the request was cancelled or timed out, or this device has no passkey for this site. Try again, or sign in with your email and password.'
        : problemText(error);
      say(text, 'error');
      form.elements.email.focus();
    },
  });

  onSubmit(form, (event) => {
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
        passkey.cancel(); // the password won: no passkey request may still wait
        if (answer.status === 'authenticated') {
          finish(answer);
          return;
        }
        mfaToken = answer.mfa_token;
        offered = answer.methods;
        show(form, false);
        say('Password accepted. Now confirm it’s you with a second factor.');
        steps.start(answer.methods);
      } catch (error) {
        if (error.code === 'origin_not_allowed') {
          wrongAddress(error.problem);
          return;
        }
        say(problemText(error), 'error');
        form.elements.password.focus();
      }
    });
  });
  form.elements.email.focus();
}

loginPage();
