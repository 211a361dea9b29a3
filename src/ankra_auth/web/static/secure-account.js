// "Secure your account to continue": enrollment while an organisation requires 2FA, or a
// passkey: then "Acme requires a passkey. Use your passkey, or add one on this device".
import { $, api, busy, field, focusHeading, page, problemText, say, show, signOutButton } from './common.js';
import { addPasskey, newCodesPanel, totpSetup } from './enrollment.js';
import { leaveOrgButtons } from './leave-org.js';
import { passkeysSupported, signInWithPasskey } from './passkeys.js';

const names = (items) => {
  const list = items.map((item) => item.name);
  return list.length <= 1 ? list.join('') : `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`;
};

/**
 * The organisations restricting this session that require a passkey (the API's
 * `restriction`: "enroll" without one, "use_passkey" with one but not signed in with it).
 */
const passkeyRestrictions = (status) => (status.enforced_by || [])
  .filter((item) => item.restriction && item.required === 'passkey');

/** Says what a passkey requirement asks of this person, and offers what meets it here. */
function passkeyWording(restricting, { onSignedIn }) {
  const useOne = restricting.some((item) => item.restriction === 'use_passkey');
  const verb = restricting.length === 1 ? 'requires' : 'require';
  $('#why-title').textContent = 'A passkey is required';
  const why = field('why-passkey');
  why.textContent = useOne
    ? `${names(restricting)} ${verb} a passkey. Use your passkey, or add one on this device.`
    : `${names(restricting)} ${verb} a passkey. Add one on this device.`;
  show(why);
  show(field('why-two-factor'), false);
  show(field('how-two-factor'), false);
  show(field('how-passkey'));
  // An authenticator app doesn't meet it: offer only what does.
  show($('#totp-card'), false);
  if (!passkeysSupported()) {
    // Neither way works here: one plain sentence instead of a card that suggests an app.
    show(field('no-webauthn'));
    show($('#passkeys-card'), false);
    return;
  }
  if (!useOne) return;
  show(field('use-passkey'));
  $('[data-action="use-passkey"]').addEventListener('click', (event) => busy(event.currentTarget, async () => {
    try {
      say('Follow your browser’s prompt to use your passkey…');
      // This session stays restricted: the passkey's sign-in replaces it, so end it after.
      const sessions = await api('GET', '/api/v1/profile/sessions');
      const restricted = sessions.find((s) => s.current);
      await signInWithPasskey({
        optionsCall: () => api('POST', '/api/v1/auth/passkey/options', {}),
        signInCall: (credential) => api('POST', '/api/v1/auth/passkey', { credential }),
      });
      if (restricted) {
        await api('DELETE', `/api/v1/profile/sessions/${encodeURIComponent(restricted.id)}`).catch(() => {});
      }
      await onSignedIn();
    } catch (error) {
      say(problemText(error), 'error');
    }
  }));
}

async function secureAccountPage() {
  const next = page.next || '/profile/authentication';
  const proceed = () => location.assign(next);
  const codes = newCodesPanel({ onDone: proceed });

  async function enrolled(freshCodes) {
    const status = await api('GET', '/api/v1/profile/auth');
    if (status.enrollment_required) {
      say('Your account is still restricted: see what is required above.', 'error');
      focusHeading($('#why-card'));
      return;
    }
    show($('#totp-card'), false);
    show($('#passkeys-card'), false);
    if (freshCodes && freshCodes.length) {
      codes.show(freshCodes, { turnedOn: true });
    } else {
      proceed();
    }
  }
  totpSetup({ onEnabled: enrolled });
  // Leaving the last organisation that requires 2FA lifts the restriction: continue.
  leaveOrgButtons({
    onLeft: (status) => {
      if (!status.enrollment_required) proceed();
      else focusHeading($('#why-card'));
    },
  });
  addPasskey({ onAdded: (answer) => enrolled(answer.recovery_codes) });
  signOutButton();

  try {
    const status = await api('GET', '/api/v1/profile/auth');
    if (!status.enrollment_required) {
      proceed();
      return;
    }
    // Only the organisations that restrict this session (not those met or in grace).
    const restricting = new Set((status.enforced_by || []).filter((item) => item.restriction !== null).map((item) => item.id));
    for (const item of document.querySelectorAll('[data-field="orgs"] li[data-org]')) {
      if (restricting.size && !restricting.has(item.dataset.org)) item.remove();
    }
    const passkeys = passkeyRestrictions(status);
    if (passkeys.length) passkeyWording(passkeys, { onSignedIn: () => enrolled(null) });
  } catch (error) {
    say(problemText(error), 'error');
  }
}

secureAccountPage();
