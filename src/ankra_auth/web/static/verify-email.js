// /verify-email?token=...: proves the address with the mailed link, in the account's own
// session (the server sent a visitor without one to sign in first, and back here).
import { $, ApiError, api, focusHeading, page, signOutButton } from './common.js';
import { sendLinkAgain } from './email-card.js';

function showView(name) {
  for (const section of document.querySelectorAll('[data-view]')) section.hidden = section.dataset.view !== name;
  focusHeading($(`[data-view="${name}"]`));
}

async function verifyEmailPage() {
  signOutButton();
  const token = page.token || '';
  // The link's token leaves the address bar and the history; it is used once, now.
  history.replaceState(null, '', '/verify-email');
  $('[data-action="send-again"]').addEventListener('click', (event) => sendLinkAgain(event.currentTarget, page.email));
  try {
    const me = await api('GET', '/api/v1/me');
    if (me.email_verified) {
      showView('verified');
      return;
    }
    if (!token) {
      showView('invalid');
      return;
    }
    await api('POST', '/api/v1/me/email/verify', { token });
    showView('verified');
  } catch (error) {
    if (error instanceof ApiError && (error.code === 'invalid_token' || error.code === 'validation_error')) {
      showView('invalid');
    } else {
      $('[data-field="failure"]').textContent = error.message;
      showView('failed');
    }
  }
}

verifyEmailPage();
