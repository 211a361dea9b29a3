// /login: email and password, then the second-factor step.
import { $, api, busy, onSubmit, page, problemText, say, show, withNext } from './common.js';
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

function loginPage() {
  const form = $('#password-step');
  const next = page.next || '/profile/authentication';
  let mfaToken = null;

  const finish = (answer) => {
    say('Signed in.', 'success');
    location.assign(answer.enrollment_required ? withNext('/secure-account', next) : next);
  };
  const steps = secondFactor({
    calls: mfaTokenCalls(() => mfaToken),
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
        if (answer.status === 'authenticated') {
          finish(answer);
          return;
        }
        mfaToken = answer.mfa_token;
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
