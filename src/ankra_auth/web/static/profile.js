// Profile → Authentication: status, authenticator app, passkeys, recovery codes, security log.
import { $, ApiError, api, busy, field, focusHeading, here, page, problemText, say, scrollableByKeyboard, show, signOutButton, when, withNext } from './common.js';
import { confirmDialog } from './confirm.js';
import { addPasskey, newCodesPanel, registerPasskey, totpSetup } from './enrollment.js';
import { passkeyNudge, thisDeviceName } from './passkey-nudge.js';
import { signalAcceptedPasskeys } from './passkeys.js';
import { sessionsCard } from './sessions.js';
import { ssoCard } from './sso-card.js';
import { invitationsCard } from './invitations.js';
import { orgsCard } from './orgs-card.js';
import { emailCard } from './email-card.js';

const EVENT_LABELS = {
  sign_in: 'Signed in',
  sign_out: 'Signed out',
  session_revoked: 'Session signed out',
  sso_linked: 'Single sign-on linked',
  sso_unlinked: 'Single sign-on unlinked',
  password_failed: 'Wrong password entered',
  second_factor_failed: 'Second factor failed',
  pending_login_voided: 'Sign-in stopped after too many attempts',
  throttled: 'Sign-in attempts paused',
  reauthenticated: 'Password confirmed',
  totp_enabled: 'Authenticator app set up',
  totp_removed: 'Authenticator app removed',
  passkey_added: 'Passkey added',
  passkey_renamed: 'Passkey renamed',
  passkey_removed: 'Passkey removed',
  passkey_sign_count_mismatch: 'Passkey counter mismatch (possible copied key)',
  recovery_codes_issued: 'Recovery codes issued',
  recovery_codes_regenerated: 'Recovery codes regenerated',
  recovery_code_used: 'Recovery code used',
  two_factor_disabled: 'Two-factor authentication turned off',
  two_factor_reset_by_admin: 'Two-factor authentication reset by an administrator',
  org_enforcement_enabled: 'Organisation started requiring two-factor authentication',
  org_enforcement_disabled: 'Organisation stopped requiring two-factor authentication',
  cli_login_approved: 'CLI sign-in approved',
  email_verified: 'Email address verified',
  account_closed: 'Account closed',
  org_invited: 'Invited to an organisation',
  org_invitation_accepted: 'Organisation invitation accepted',
  org_invitation_declined: 'Organisation invitation declined',
  org_invitation_withdrawn: 'Organisation invitation withdrawn',
  org_left: 'Left an organisation',
  org_member_removed: 'Removed from an organisation',
};
const METHOD_LABELS = { password: 'Password', totp: 'Authenticator app', passkey: 'Passkey', recovery_code: 'Recovery code', sso: 'Single sign-on' };
const EVENTS_PAGE = 20;
// Events whose note names a passkey (the others' is a provider, a device, an address).
const PASSKEY_NAMED = new Set(['passkey_added', 'passkey_renamed', 'passkey_removed']);
// What `detail` says in words (its `note`, or a passkey alone's `passwordless`);
// organisation events show theirs as the Event.
const noteOf = (e) => {
  if (e.detail && typeof e.detail.note === 'string') return e.detail.note;
  return e.detail?.passwordless === true ? 'passwordless' : '';
};

/** "Details": how (the method), what (the passkey, the provider, the device signed out),
 * and whether the owner was told by email. */
function eventDetails(e) {
  const method = METHOD_LABELS[e.method] || e.method || '';
  const note = e.type.startsWith('org_') ? '' : noteOf(e);
  let text = method;
  if (note && PASSKEY_NAMED.has(e.type)) text = `${method || 'Passkey'} “${note}”`;
  else if (note) text = method ? `${method} · ${note}` : note;
  if (e.detail?.mail !== 'queued') return text;
  const told = Object.assign(document.createElement('span'), { className: 'meta', textContent: 'Emailed to you' });
  const cell = document.createDocumentFragment();
  if (text) cell.append(text, ' ');
  cell.append(told);
  return cell;
}

/** "Device": the user agent as the sessions card names it, the raw one when unrecognised. */
function eventDevice(e) {
  if (!e.device) return '';
  const cell = document.createDocumentFragment();
  cell.append(e.device);
  if (e.device === 'Unknown device' && e.user_agent) {
    const raw = e.user_agent.length > 60 ? `${e.user_agent.slice(0, 59)}…` : e.user_agent;
    cell.append(Object.assign(document.createElement('span'), { className: 'meta', textContent: raw }));
  }
  return cell;
}

function eventRow(e) {
  const row = document.createElement('tr');
  const time = Object.assign(document.createElement('time'), { dateTime: e.created_at, textContent: when(e.created_at) });
  // Organisation events name the organisation (their note).
  const label = EVENT_LABELS[e.type] || e.type;
  const event = e.type.startsWith('org_') && noteOf(e) ? `${label}: ${noteOf(e)}` : label;
  const cells = [time, event, eventDetails(e), eventDevice(e), e.ip || ''];
  row.append(...cells.map((content) => {
    const cell = document.createElement('td');
    cell.append(content);
    return cell;
  }));
  return row;
}

/** Asks for the password when the API wants a recent check; resolves false on cancel. */
function reauthDialog() {
  const dialog = $('#reauth');
  const form = $('[data-form="reauth"]', dialog);
  const error = field('reauth-error', dialog);
  let settle = null;

  const close = (ok) => {
    if (dialog.open) dialog.close();
    settle?.(ok);
    settle = null;
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const password = form.elements.password.value;
    if (!password) {
      error.textContent = 'Enter your password.';
      return;
    }
    busy(event.submitter, async () => {
      try {
        await api('POST', '/api/v1/auth/reauthenticate', { password });
        close(true);
      } catch (problem) {
        // The API's words fit the sign-in form ("Wrong email or password"); here only a
        // password was typed.
        const wrong = problem instanceof ApiError && problem.code === 'invalid_credentials';
        error.textContent = wrong ? 'Wrong password. Try again.' : problemText(problem);
        form.elements.password.select();
      }
    });
  });
  $('[data-action="cancel-reauth"]', dialog).addEventListener('click', () => close(false));
  // Escape; a close event that arrives after the dialog was opened again is the old one's.
  dialog.addEventListener('close', () => {
    if (!dialog.open) close(false);
  });

  return () => new Promise((resolve) => {
    settle = resolve;
    form.reset();
    error.textContent = '';
    dialog.showModal();
    form.elements.password.focus();
  });
}

async function profilePage() {
  const askPassword = reauthDialog();
  const ask = confirmDialog();
  // Asks before a change made with `button`; not while that change is already running.
  const confirmed = (button, question) => button.getAttribute('aria-disabled') !== 'true' && ask(question);
  const codes = newCodesPanel({
    onDone: async ({ signedOutOthers }) => {
      say(signedOutOthers ? 'Signed out everywhere else. Keep your recovery codes somewhere safe.' : 'Keep your recovery codes somewhere safe.', 'success');
      await sessions.refresh();
      focusHeading($('#two-factor-card'));
    },
  });
  const totp = totpSetup({ sensitive, onEnabled: async (fresh) => { await refresh(); if (fresh) codes.show(fresh, { turnedOn: true }); } });
  const passkeyAdded = async (answer) => { await refresh(); if (answer.recovery_codes) codes.show(answer.recovery_codes, { turnedOn: true }); };
  addPasskey({ sensitive, onAdded: passkeyAdded });
  const nudge = passkeyNudge({
    // One click: the browser's prompt, and a name to tell it apart (renamed below at will).
    onAdd: (button) => busy(button, async () => {
      const name = thisDeviceName();
      try {
        say('Follow your browser’s prompt to create the passkey…');
        const answer = await registerPasskey(name, sensitive);
        say(`Passkey “${answer.passkey.name}” added: next time, sign in with it. You can rename it under “Passkeys and security keys”.`, 'success');
        await passkeyAdded(answer);
        focusHeading($('#passkeys-card'));
        return true;
      } catch (error) {
        say(problemText(error, { creating: true }), 'error');
        return false;
      }
    }),
    onNotNow() {
      say('Not now: this device won’t ask again for 30 days. You can add a passkey any time under “Passkeys and security keys”.');
      focusHeading($('#two-factor-card'));
    },
  });
  const sessions = sessionsCard({ ask });
  const address = emailCard($('#email-card'), page.email);
  signOutButton();
  if ($('#sso-card')) ssoCard();
  // After joining an organisation that requires 2FA, refresh() goes to "Secure your account".
  const invitations = invitationsCard({ onJoined: () => refresh() });
  const orgs = orgsCard();

  // Runs a sensitive action; on reauthentication_required asks for the password and retries once.
  async function sensitive(action) {
    try {
      return await action();
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'reauthentication_required') throw error;
      if (!(await askPassword())) throw new Error('Cancelled: nothing was changed.');
      return action();
    }
  }

  // A change through the API, then the page redrawn; `focusAfter` keeps keyboard users in place.
  async function act(button, action, success, focusAfter) {
    await busy(button, async () => {
      try {
        await sensitive(action);
        say(success, 'success');
        await refresh();
        focusAfter?.();
      } catch (error) {
        say(problemText(error), 'error');
      }
    });
  }

  const focusPasskeyButton = (id, verb) => $(`[data-passkey="${CSS.escape(id)}"][data-verb="${verb}"]`)?.focus();

  // Everything is read first and drawn in one go: nothing moves under the pointer while
  // the answers arrive one by one.
  async function refresh() {
    const status = await api('GET', '/api/v1/profile/auth');
    if (status.enrollment_required) {
      location.assign(withNext('/secure-account', here()));
      return;
    }
    const [passkeys, signedIn, invited, memberships, events] = await Promise.all([
      api('GET', '/api/v1/profile/auth/passkeys'),
      sessions.read(),
      invitations.read(),
      orgs.read(),
      readEvents(false),
    ]);
    renderStatus(status);
    address.render(status.email_verified);
    totp.view(status.totp_enabled ? 'on' : $('#totp-card [data-view="setup"]').hidden ? 'off' : 'setup');
    renderPasskeys(passkeys);
    sessions.draw(signedIn);
    invitations.draw(invited);
    orgs.draw(memberships);
    drawEvents(events, false);
  }

  // The last status drawn: a factor that is the last one is refused at once, not after a
  // question and a password (the API refuses it too, with the same words).
  let current = null;
  const isLastFactor = (kind) => current !== null
    && (kind === 'totp' ? current.passkey_count === 0 : !current.totp_enabled && current.passkey_count === 1);
  const LAST_FACTOR = {
    totp: 'The authenticator app is your last second factor: add a passkey first, or turn two-factor authentication off.',
    passkey: 'This passkey is your last second factor: add another one first, or turn two-factor authentication off.',
  };

  function renderStatus(status) {
    current = status;
    const on = status.two_factor_enabled;
    field('summary').replaceChildren(
      Object.assign(document.createElement('span'), { className: `badge ${on ? 'on' : 'off'}`, textContent: on ? 'On' : 'Off' }),
      on ? ' Two-factor authentication is on.' : ' Two-factor authentication is off. Set up an authenticator app or add a passkey to turn it on.',
    );
    show(field('facts'), on);
    field('totp-state').textContent = status.totp_enabled ? 'Set up' : 'Not set up';
    field('passkey-count').textContent = String(status.passkey_count);
    field('codes-left').textContent = `${status.recovery_codes_remaining} of 10`;
    const low = on && status.recovery_codes_remaining <= 3;
    const warning = field('codes-warning');
    warning.textContent = status.recovery_codes_remaining === 0
      ? 'You have no recovery codes left. Regenerate recovery codes so you can still sign in if you lose your other factors.'
      : `Only ${status.recovery_codes_remaining} recovery code${status.recovery_codes_remaining === 1 ? '' : 's'} left. Regenerate recovery codes so you don’t get locked out.`;
    show(warning, low);
    const enforced = field('enforced');
    enforced.textContent = status.enforced_by.length
      ? `Required by ${status.enforced_by.map((org) => org.name).join(', ')}: it cannot be turned off.`
      : '';
    show(enforced, status.enforced_by.length > 0);
    show($('#recovery-card'), on);
    show($('#disable-card'), on && status.enforced_by.length === 0);
  }

  function renderPasskeys(passkeys) {
    const list = field('passkeys');
    show(field('no-passkeys'), passkeys.length === 0);
    list.replaceChildren(...passkeys.map(passkeyRow));
    // The list as the server has it now (after a rename or a removal too): the person's
    // password manager drops passkeys this account no longer accepts.
    signalAcceptedPasskeys({
      rpId: page.rpId,
      userId: page.userHandle,
      allAcceptedCredentialIds: passkeys.map((passkey) => passkey.credential_id),
    });
  }

  function button(label, hiddenSuffix, onClick, className = '') {
    const element = document.createElement('button');
    element.type = 'button';
    element.className = className;
    element.append(label);
    if (hiddenSuffix) {
      element.append(Object.assign(document.createElement('span'), { className: 'visually-hidden', textContent: ` ${hiddenSuffix}` }));
    }
    element.addEventListener('click', onClick);
    return element;
  }

  function passkeyRow(passkey) {
    const row = document.createElement('li');
    const info = document.createElement('div');
    const kind = [
      passkey.backup_eligible ? 'Synced' : 'This device only',
      passkey.signs_in_alone ? 'Signs you in by itself' : 'Second step only',
    ];
    const details = [`Added ${when(passkey.created_at)}`, passkey.last_used_at ? `last used ${when(passkey.last_used_at)}` : 'never used'];
    info.append(Object.assign(document.createElement('strong'), { textContent: passkey.name }));
    if (passkey.provider) info.append(providerLine(passkey));
    info.append(
      Object.assign(document.createElement('span'), { className: 'meta', textContent: kind.join(' · ') }),
      Object.assign(document.createElement('span'), { className: 'meta', textContent: details.join(' · ') }),
    );
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(
      button('Rename', passkey.name, () => renameForm(row, passkey)),
      button('Remove', passkey.name, async (event) => {
        const remove = event.currentTarget;
        if (isLastFactor('passkey')) {
          say(LAST_FACTOR.passkey, 'error');
          return;
        }
        const sure = await confirmed(remove, {
          question: `Remove the passkey “${passkey.name}”?`,
          consequence: 'You will no longer be able to sign in with it. To use it again, you would have to add it again.',
          action: 'Remove passkey',
        });
        if (!sure) return;
        await act(
          remove,
          () => api('DELETE', `/api/v1/profile/auth/passkeys/${encodeURIComponent(passkey.id)}`),
          `Passkey “${passkey.name}” removed.`,
          () => focusHeading($('#passkeys-card')),
        );
      }, 'danger'),
    );
    for (const [element, verb] of [[actions.children[0], 'rename'], [actions.children[1], 'remove']]) {
      element.dataset.passkey = passkey.id;
      element.dataset.verb = verb;
    }
    row.append(info, actions);
    return row;
  }

  // "Google Password Manager" with the AAGUID list's icon, served from our own origin (the
  // page's CSP takes images from 'self' only); an authenticator without one shows its name.
  function providerLine(passkey) {
    const line = Object.assign(document.createElement('span'), { className: 'provider' });
    const icon = `/passkey-icons/${encodeURIComponent(passkey.aaguid)}`;
    const picture = document.createElement('picture');
    const dark = Object.assign(document.createElement('source'), { srcset: `${icon}?scheme=dark`, media: '(prefers-color-scheme: dark)' });
    const image = Object.assign(document.createElement('img'), { src: icon, alt: '', width: 20, height: 20 });
    image.addEventListener('error', () => picture.remove());
    picture.append(dark, image);
    line.append(picture, Object.assign(document.createElement('span'), { textContent: passkey.provider }));
    return line;
  }

  function renameForm(row, passkey) {
    const form = document.createElement('form');
    form.className = 'rename';
    const id = `rename-${passkey.id}`;
    const label = Object.assign(document.createElement('label'), { htmlFor: id, textContent: `New name for ${passkey.name}` });
    const input = Object.assign(document.createElement('input'), { id, name: 'name', type: 'text', value: passkey.name, maxLength: 100, required: true, autocomplete: 'off' });
    const save = Object.assign(document.createElement('button'), { type: 'submit', className: 'primary', textContent: 'Save name' });
    const cancel = button('Cancel', '', async () => {
      await refresh();
      focusPasskeyButton(passkey.id, 'rename');
    });
    const actions = Object.assign(document.createElement('div'), { className: 'actions' });
    actions.append(save, cancel);
    form.append(label, input, actions);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (!name) {
        say('The name cannot be empty.', 'error');
        input.focus();
        return;
      }
      act(
        save,
        () => api('PATCH', `/api/v1/profile/auth/passkeys/${encodeURIComponent(passkey.id)}`, { name }),
        `Passkey renamed to “${name}”.`,
        () => focusPasskeyButton(passkey.id, 'rename'),
      );
    });
    row.replaceChildren(form);
    input.select();
    input.focus();
  }

  $('[data-action="remove-totp"]').addEventListener('click', async (event) => {
    const remove = event.currentTarget;
    if (isLastFactor('totp')) {
      say(LAST_FACTOR.totp, 'error');
      return;
    }
    const sure = await confirmed(remove, {
      question: 'Remove your authenticator app?',
      consequence: 'Its codes will no longer sign you in to Ankra. You can set up an app again later.',
      action: 'Remove app',
    });
    if (!sure) return;
    await act(remove, () => api('DELETE', '/api/v1/profile/auth/totp'), 'Authenticator app removed.',
      () => $('[data-action="start-totp"]').focus());
  });
  $('[data-action="regenerate-codes"]').addEventListener('click', async (event) => {
    const regenerate = event.currentTarget;
    const sure = await confirmed(regenerate, {
      question: 'Regenerate your recovery codes?',
      consequence: 'Your current recovery codes stop working at once, including any you have saved or printed. You will get 10 new codes to save.',
      action: 'Regenerate codes',
    });
    if (!sure) return;
    await busy(regenerate, async () => {
      try {
        const answer = await sensitive(() => api('POST', '/api/v1/profile/auth/recovery-codes'));
        await refresh();
        say('New recovery codes created. The old ones no longer work.', 'success');
        codes.show(answer.recovery_codes);
      } catch (error) {
        say(problemText(error), 'error');
      }
    });
  });
  $('[data-action="disable"]').addEventListener('click', async (event) => {
    const disable = event.currentTarget;
    const sure = await confirmed(disable, {
      question: 'Turn off two-factor authentication?',
      consequence: 'This removes your authenticator app, passkeys and recovery codes. Anyone who learns your password could then sign in as you.',
      action: 'Turn it off',
    });
    if (!sure) return;
    await act(disable, () => api('DELETE', '/api/v1/profile/auth'), 'Two-factor authentication is off.',
      () => focusHeading($('#two-factor-card')));
  });

  // Security log: newest first, 20 at a time; "Show more events" follows next_cursor.
  let cursor = null;
  const moreEvents = $('[data-action="more-events"]');
  const logScrolls = scrollableByKeyboard($('#events-card .table-wrap'));
  function readEvents(more) {
    const query = more && cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    return api('GET', `/api/v1/profile/auth/events?limit=${EVENTS_PAGE}${query}`);
  }
  function drawEvents(answer, more) {
    const rows = answer.events.map(eventRow);
    const body = field('events');
    if (more) body.append(...rows);
    else body.replaceChildren(...rows);
    cursor = answer.next_cursor;
    show(moreEvents, Boolean(cursor));
    show(field('no-events'), body.childElementCount === 0);
    logScrolls();
    return rows.length;
  }
  moreEvents.addEventListener('click', (event) => busy(event.currentTarget, async () => {
    try {
      const added = drawEvents(await readEvents(true), true);
      say(cursor ? `${added} more events shown.` : `${added} more events shown. That is the whole log.`);
      // The button is gone at the end of the log: keep keyboard users in the card.
      if (!cursor) focusHeading($('#events-card'));
    } catch (error) {
      say(problemText(error), 'error');
    }
  }));

  try {
    await refresh();
    nudge.show(current);
  } catch (error) {
    say(problemText(error), 'error');
  }
}

profilePage();
