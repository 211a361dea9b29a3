// Finds elements as a person (and Playwright's get_by_label / get_by_role) would: by the
// text of their <label> or their accessible name, visible ones only. The same script runs in
// every engine, so a test means the same thing in Chromium, Firefox and WebKit.
// arguments: [kind, name, exact, scope]; kind is "field", "checkbox", "labelled" (either),
// "button", "link", "list", "heading", "region" or "dialog"; scope, if given, is the accessible name of a region or
// dialog to search within.
const [kind, wanted, exact, scope] = arguments;
const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
const byIds = (ids) => ids.split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' ');
const nameOf = (el) => {
  if (el.hasAttribute('aria-labelledby')) return norm(byIds(el.getAttribute('aria-labelledby')));
  if (el.hasAttribute('aria-label')) return norm(el.getAttribute('aria-label'));
  if (el.labels && el.labels.length) return norm([...el.labels].map((l) => l.textContent).join(' '));
  if (el.tagName === 'INPUT' && ['button', 'submit', 'reset'].includes(el.type)) return norm(el.value);
  return norm(el.textContent);
};
const matches = (el, text) => {
  const name = nameOf(el);
  return exact ? name === text : name.toLowerCase().includes(text.toLowerCase());
};
const selectors = {
  field: 'input:not([type=hidden]):not([type=checkbox]):not([type=radio]), textarea, select',
  checkbox: 'input[type=checkbox], input[type=radio]',
  labelled: 'input:not([type=hidden]), textarea, select',
  button: 'button, input[type=button], input[type=submit], input[type=reset], [role=button]',
  link: 'a[href], [role=link]',
  list: 'ul, ol, [role=list]',
  heading: 'h1, h2, h3, h4, h5, h6, [role=heading]',
  region: 'section[aria-label], section[aria-labelledby], [role=region]',
  dialog: 'dialog, [role=dialog]',
};
let root = document;
if (scope) {
  root = [...document.querySelectorAll(`${selectors.region}, ${selectors.dialog}`)]
    .find((el) => visible(el) && norm(nameOf(el)) === scope);
  if (!root) return null;
}
return [...root.querySelectorAll(selectors[kind])].find((el) => visible(el) && matches(el, wanted)) || null;
