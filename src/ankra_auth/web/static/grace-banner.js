// The grace banner on every signed-in page: "Acme requires a passkey from 14 January 2027.
// Add one now." while an organisation's requirement is not met yet and its due date is ahead.
import { api, field } from './common.js';

// The contract's own form ("14 January 2027"), in the person's time zone.
const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric' });
export const dueDate = (iso) => DAY.format(new Date(iso));

// Where one adds what is required: the profile's cards.
export const ADD_LINK = {
  passkey: { href: '/profile/authentication#passkeys-card', text: 'Add one now.', what: 'a passkey' },
  two_factor: { href: '/profile/authentication#totp-card', text: 'Set it up now.', what: 'two-factor authentication' },
};

/** Whether the account already has what `required` asks for. */
export const meets = (status, required) => (required === 'passkey' ? status.passkey_count > 0 : status.two_factor_enabled);

/**
 * The organisations of `status.enforced_by` in their grace period: not met, and not
 * restricting this session although a due date is set. The service decides by its own
 * clock (`restriction` turns on at `due_at`); the browser's clock is only asked of an older
 * service that does not say.
 */
export function inGrace(status, now = new Date()) {
  return (status.enforced_by || []).filter((org) => {
    if (!org.due_at || org.restriction) return false;
    if (org.met ?? meets(status, org.required || 'two_factor')) return false;
    return 'restriction' in org || new Date(org.due_at) > now;
  });
}

/** "Acme requires a passkey from 14 January 2027. Add one now." as nodes. */
export function graceLine(org) {
  const add = ADD_LINK[org.required] || ADD_LINK.two_factor;
  const line = document.createElement('p');
  const link = Object.assign(document.createElement('a'), { href: add.href, textContent: add.text });
  line.append(`${org.name} requires ${add.what} from ${dueDate(org.due_at)}. `, link);
  return line;
}

async function graceBanner() {
  const banner = field('grace-banner');
  if (!banner) return;
  let status;
  try {
    status = await api('GET', '/api/v1/profile/auth');
  } catch {
    return; // the page itself says what went wrong
  }
  const lines = inGrace(status).map(graceLine);
  banner.replaceChildren(...lines);
  banner.hidden = lines.length === 0;
}

graceBanner();
