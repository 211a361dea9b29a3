// "Sign in faster next time: add a passkey": offered once on the page a sign-in lands on,
// after a sign-in with an authenticator code or a recovery code, in a browser with WebAuthn,
// for an account with no passkey. "Not now" is remembered on this device for 30 days
// (localStorage); the offer itself waits in this tab's sessionStorage for the page the
// sign-in lands on (two minutes at most), which takes it.
import { $, show } from './common.js';
import { passkeysSupported } from './passkeys.js';

const OFFER = 'ankra.passkeyNudge.offer';
const NOT_NOW_UNTIL = 'ankra.passkeyNudge.notNowUntil';
const THIRTY_DAYS = 30 * 24 * 60 * 60 * 1000;
const LANDING = 2 * 60 * 1000; // from the sign-in to the page it lands on

const store = (kind) => {
  try {
    return window[kind];
  } catch {
    return null; // storage switched off: no offer, never an error
  }
};

function saidNotNow() {
  const until = Number(store('localStorage')?.getItem(NOT_NOW_UNTIL));
  return Number.isFinite(until) && until > Date.now();
}

/** After a second factor on a sign-in page: `method` signed in, `methods` were offered. */
export function offerAfterSignIn(method, methods) {
  if (!['totp', 'recovery_code'].includes(method) || methods.includes('passkey')) return;
  if (!passkeysSupported() || saidNotNow()) return;
  store('sessionStorage')?.setItem(OFFER, String(Date.now()));
}

/** A short name for a passkey made here: the browser and the system, like "Firefox on Linux". */
export function thisDeviceName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox'
    : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'This browser';
  const system = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS'
    : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return system ? `${browser} on ${system}` : browser;
}

/**
 * The offer's card (#passkey-nudge). `show(status)` shows it once, when a sign-in left an
 * offer and the account still has no passkey; `onAdd()` adds one ("Add passkey"), resolving
 * true when it did; `onNotNow()` runs after "Not now".
 */
export function passkeyNudge({ onAdd, onNotNow }) {
  const card = $('#passkey-nudge');
  const hide = () => show(card, false);
  $('[data-action="nudge-add-passkey"]', card).addEventListener('click', async (event) => {
    if (await onAdd(event.currentTarget)) hide();
  });
  $('[data-action="nudge-not-now"]', card).addEventListener('click', () => {
    store('localStorage')?.setItem(NOT_NOW_UNTIL, String(Date.now() + THIRTY_DAYS));
    hide();
    onNotNow();
  });
  return {
    show(status) {
      const sessions = store('sessionStorage');
      const age = Date.now() - Number(sessions?.getItem(OFFER));
      const offered = Number.isFinite(age) && age >= 0 && age < LANDING;
      sessions?.removeItem(OFFER); // once: a reload or the next page does not offer it again
      show(card, offered && status.passkey_count === 0 && passkeysSupported() && !saidNotNow());
    },
    hide,
  };
}
