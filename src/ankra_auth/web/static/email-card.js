// The account's address: verified or not, and "Send the link again" (profile and
// /verify-email). Security mails go to a verified address only.
import { ApiError, api, busy, problemText, say } from './common.js';

/** POST a new verification link; says what happened in the page's status region. */
export function sendLinkAgain(button, email) {
  return busy(button, async () => {
    try {
      await api('POST', '/api/v1/me/email/verification');
      say(`We sent a new link to ${email}. It works once, for 24 hours.`, 'success');
    } catch (error) {
      if (error instanceof ApiError && error.code === 'email_already_verified') {
        say('Your email address is already verified.', 'success');
      } else if (error instanceof ApiError && error.code === 'rate_limited') {
        const minutes = Math.max(1, Math.ceil((error.problem.retry_after || 60) / 60));
        say(`A link was sent a moment ago: check your mail (and its spam folder), or try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, 'error');
      } else {
        say(problemText(error), 'error');
      }
    }
  });
}

/** The profile's "Email address" card; `render(verified)` draws it. */
export function emailCard(card, email) {
  const state = card.querySelector('[data-field="email-state"]');
  const again = card.querySelector('[data-action="send-verification"]');
  const hint = card.querySelector('[data-field="email-hint"]');
  again.addEventListener('click', (event) => sendLinkAgain(event.currentTarget, email));
  return {
    render(verified) {
      const badge = Object.assign(document.createElement('span'), {
        className: `badge ${verified ? 'on' : 'off'}`,
        textContent: verified ? 'Verified' : 'Not verified',
      });
      state.replaceChildren(
        Object.assign(document.createElement('strong'), { textContent: email }), ' ', badge,
      );
      hint.textContent = verified
        ? 'Mails about your account’s security go to this address.'
        : 'Open the link we mailed to this address to verify it. Until then no security mail reaches you, and you cannot accept invitations to organisations.';
      again.hidden = verified;
    },
  };
}
