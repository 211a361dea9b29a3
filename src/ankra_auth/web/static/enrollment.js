// Enrollment pieces shared by the profile page and "Secure your account to continue".
import { $, api, busy, field, focusHeading, localDate, onSubmit, page, problemText, say, show } from './common.js';
import { createPasskey, passkeysSupported } from './passkeys.js';
import { signOutEverywhereElse } from './sessions.js';

/** Fresh recovery codes, shown once with copy and download. */
export function newCodesPanel({ onDone }) {
  const panel = $('#new-codes');
  let codes = [];

  const fileText = () => [
    'Ankra recovery codes',
    `Account: ${page.email}`,
    `Site: ${page.site}`,
    `Date: ${localDate()}`,
    '',
    'Each code signs you in once when you cannot use your authenticator app or passkeys.',
    'Keep this file somewhere safe. Generating new codes makes these stop working.',
    '',
    ...codes,
    '',
  ].join('\n');

  $('[data-action="copy-codes"]', panel).addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      say('Recovery codes copied.', 'success');
    } catch {
      say('Could not copy: select the codes and copy them yourself, or download them.', 'error');
    }
  });
  $('[data-action="download-codes"]', panel).addEventListener('click', () => {
    const host = new URL(page.site || location.origin).host.replace(/[^a-zA-Z0-9.-]/g, '-');
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([fileText()], { type: 'text/plain;charset=utf-8' }));
    link.download = `ankra-recovery-codes-${host}-${localDate()}.txt`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    say('Recovery codes downloaded.', 'success');
  });
  const offer = field('sign-out-offer', panel);
  $('[data-action="codes-saved"]', panel).addEventListener('click', (event) => busy(event.currentTarget, async () => {
    const signOutOthers = !offer.hidden && field('sign-out-others', panel).checked;
    if (signOutOthers) {
      try {
        await signOutEverywhereElse();
      } catch (error) {
        say(problemText(error), 'error');
        return;
      }
    }
    codes = [];
    field('codes', panel).replaceChildren();
    show(panel, false);
    await onDone({ signedOutOthers: signOutOthers });
  }));

  return {
    /** `turnedOn`: these codes came with turning 2FA on, so offer "Sign out everywhere else". */
    show(fresh, { turnedOn = false } = {}) {
      codes = fresh;
      show(offer, turnedOn);
      field('sign-out-others', panel).checked = true;
      field('codes', panel).replaceChildren(...fresh.map((code) => Object.assign(document.createElement('li'), { textContent: code })));
      show(panel);
      panel.scrollIntoView({ block: 'start' });
      focusHeading(panel);
    },
  };
}

/** "Set up authenticator app": QR code, secret, confirmation. `sensitive` runs the first call
 * (the profile asks for the password when 2FA is on and the sign-in is old). */
export function totpSetup({ onEnabled, sensitive = (action) => action() }) {
  const card = $('#totp-card');
  const views = { off: $('[data-view="off"]', card), setup: $('[data-view="setup"]', card), on: $('[data-view="on"]', card) };
  const confirmForm = $('[data-form="confirm-totp"]', card);

  function view(name) {
    for (const [key, element] of Object.entries(views)) if (element) show(element, key === name);
  }

  $('[data-action="start-totp"]', card).addEventListener('click', (event) => busy(event.currentTarget, async () => {
    try {
      const setup = await sensitive(() => api('POST', '/api/v1/profile/auth/totp'));
      // The QR code is our own server's SVG (attributes only, no inline style or script).
      const svg = new DOMParser().parseFromString(setup.qr_svg, 'text/html').querySelector('svg');
      svg.setAttribute('role', 'img');
      svg.setAttribute('aria-label', 'QR code for your authenticator app');
      field('qr', card).replaceChildren(document.importNode(svg, true));
      $('#totp-secret').value = setup.secret.match(/.{1,4}/g).join(' ');
      confirmForm.reset();
      view('setup');
      say('Scan the QR code, then enter the code your app shows.');
      confirmForm.elements.code.focus();
    } catch (error) {
      say(problemText(error), 'error');
    }
  }));
  $('[data-action="cancel-totp"]', card).addEventListener('click', () => {
    view('off');
    say('Authenticator app set-up cancelled.');
    $('[data-action="start-totp"]', card).focus();
  });
  confirmForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = confirmForm.elements.code;
    const code = input.value.replace(/\s/g, '');
    if (!code) {
      say('Enter the 6-digit code from your authenticator app.', 'error');
      input.focus();
      return;
    }
    busy(event.submitter, async () => {
      try {
        const answer = await api('POST', '/api/v1/profile/auth/totp/confirm', { code });
        field('qr', card).replaceChildren();
        $('#totp-secret').value = '';
        say('Authenticator app set up. Two-factor authentication is on.', 'success');
        await onEnabled(answer.recovery_codes);
      } catch (error) {
        say(problemText(error), 'error');
        input.select();
        input.focus();
      }
    });
  });

  return { view };
}

/**
 * A new passkey named `name`: the browser's ceremony, then its registration (the API's
 * answer). `sensitive` (as for totpSetup) wraps the options call, so a password prompt
 * comes before the browser's, and the ceremony runs once.
 */
export async function registerPasskey(name, sensitive = (action) => action()) {
  const options = await sensitive(() => api('POST', '/api/v1/profile/auth/passkeys/options'));
  const credential = await createPasskey(options);
  return api('POST', '/api/v1/profile/auth/passkeys', { name, credential });
}

/** "Add passkey": name, browser ceremony, registration; `sensitive` as for totpSetup. */
export function addPasskey({ onAdded, sensitive = (action) => action() }) {
  const form = $('[data-form="add-passkey"]');
  if (!passkeysSupported()) {
    show(form, false);
    show(field('passkeys-unavailable', form.parentElement));
    return;
  }
  onSubmit(form, (event) => {
    event.preventDefault();
    const input = form.elements.name;
    const name = input.value.trim();
    if (!name) {
      say('Give the passkey a name first, like “Work laptop”.', 'error');
      input.focus();
      return;
    }
    busy(event.submitter, async () => {
      try {
        say('Follow your browser’s prompt to create the passkey…');
        const answer = await registerPasskey(name, sensitive);
        form.reset();
        say(`Passkey “${answer.passkey.name}” added.`, 'success');
        await onAdded(answer);
      } catch (error) {
        say(problemText(error, { creating: true }), 'error');
      }
    });
  });
}
