// After a provider signed someone in: the second-factor step for that pending login.
import { $, focusHeading, page, say, show, withNext } from './common.js';
import { offerAfterSignIn } from './passkey-nudge.js';
import { mfaTokenCalls, secondFactor } from './second-factor.js';

function ssoSecondFactorPage() {
  const next = page.next || '/profile/authentication';
  const mfaToken = page.mfaToken;
  const methods = (page.methods || '').split(',').filter(Boolean);
  const steps = secondFactor({
    calls: mfaTokenCalls(() => mfaToken),
    onSuccess(answer, method) {
      offerAfterSignIn(method, methods); // "Sign in faster next time: add a passkey"
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
  steps.start(methods);
}

ssoSecondFactorPage();
