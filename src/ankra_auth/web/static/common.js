// Shared by every page module: DOM helpers, the JSON API client, feedback and dates.
// Pages are small ES modules (no build step); <body data-page> names the page, and the
// template loads that page's module. Every change goes through the JSON API (/api/v1).

export const $ = (selector, root = document) => root.querySelector(selector);
export const field = (name, root = document) => $(`[data-field="${name}"]`, root);
export const page = document.body.dataset;
export const here = () => location.pathname + location.search;
// Same form as the server's redirects: the path stays readable, the rest is encoded.
export const withNext = (path, next) => `${path}?next=${encodeURIComponent(next).replace(/%2F/g, '/')}`;

// ---------------------------------------------------------------- API calls

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `The request failed (HTTP ${status}).`);
    this.status = status;
    this.code = problem.code || 'http_error';
    this.problem = problem;
  }
}

// Set once the page has chosen where to go (signing out): a late 401 from a load
// that was in flight must not send the person somewhere else.
let leaving = false;

export async function api(method, path, body) {
  const init = {
    method,
    credentials: 'same-origin',
    // The page itself sends no Referer (the hand-off URL holds a token), but under
    // "no-referrer" a POST's Origin becomes "null" and fails the API's CSRF check.
    referrerPolicy: 'strict-origin',
    headers: { Accept: 'application/json' },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { code: 'network_error', detail: 'Could not reach Ankra. Check your connection and try again.' });
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) return data;
  const error = new ApiError(response.status, data && typeof data === 'object' ? data : {});
  if (leaving) {
    // The page is on its way out; nothing to redirect.
  } else if (page.auth === 'session' && error.code === 'not_authenticated') {
    location.assign(withNext('/login', here()));
  } else if (error.code === 'enrollment_required' && page.page !== 'secure-account') {
    location.assign(withNext('/secure-account', here()));
  }
  throw error;
}

// ---------------------------------------------------------------- feedback

export function say(message, kind = 'info') {
  const region = $('#status');
  region.dataset.kind = kind;
  region.textContent = message;
}

// Runs an action once at a time per button; the button stays focusable while busy.
export async function busy(button, work) {
  if (button?.getAttribute('aria-disabled') === 'true') return undefined;
  button?.setAttribute('aria-disabled', 'true');
  try {
    return await work();
  } finally {
    button?.removeAttribute('aria-disabled');
  }
}

/**
 * Handles `form`'s submit in the page, and only then lets it be submitted. A form on screen
 * before its page's script has run renders its submit button `disabled data-until-script`:
 * a click or Enter that early would send it natively (a reload with its fields in the URL).
 */
export function onSubmit(form, handler) {
  form.addEventListener('submit', handler);
  for (const button of form.querySelectorAll('[data-until-script]')) {
    button.disabled = false;
    button.removeAttribute('data-until-script');
  }
}

export function show(element, visible = true) {
  element.hidden = !visible;
}

/**
 * A table wider than its box scrolls sideways (a phone): then the box takes the focus, so
 * the keyboard can scroll it too (WCAG 2.1.1); otherwise it is no stop on the Tab path.
 * Returns the check, to run again when rows change.
 */
export function scrollableByKeyboard(box) {
  const check = () => {
    if (box.scrollWidth > box.clientWidth) box.tabIndex = 0;
    else box.removeAttribute('tabindex');
  };
  new ResizeObserver(check).observe(box);
  return check;
}

export function focusHeading(section) {
  const heading = $('h2', section);
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

export const pad = (n) => String(n).padStart(2, '0');
export const localDate = (d = new Date()) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
export const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '');

// What a failed ceremony means to a person (API errors carry their own detail).
// `creating`: the ceremony was adding a passkey, so nothing was looked for, nothing found.
export function problemText(error, { creating = false } = {}) {
  if (error instanceof ApiError) return error.message;
  switch (error?.name) {
    case 'NotAllowedError':
      return creating
        ? 'The passkey was not added: the request was cancelled or timed out. Nothing was changed. Try again and follow your browser’s prompt to the end.'
        : 'The passkey request was cancelled or timed out, or no passkey for this site was found. Try again, or use another way to confirm it’s you.';
    case 'InvalidStateError':
      return 'This passkey or security key is already registered to your account.';
    case 'SecurityError':
      return 'Passkeys cannot be used on this address. Open Ankra at its usual address (not an IP address).';
    case 'AbortError':
      return creating ? 'The passkey was not added: the request was cancelled.' : 'The passkey request was cancelled.';
    default:
      return error?.message || String(error);
  }
}

export function signOutButton() {
  $('[data-action="sign-out"]')?.addEventListener('click', (event) => busy(event.currentTarget, async () => {
    leaving = true;
    try {
      await api('POST', '/api/v1/auth/logout');
    } catch (error) {
      if (error.code !== 'not_authenticated') {
        leaving = false;
        say(problemText(error), 'error');
        return;
      }
    }
    location.assign('/login');
  }));
}
