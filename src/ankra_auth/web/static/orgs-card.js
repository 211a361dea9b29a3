// Profile → "Your organisations": a link to each organisation's page, with the caller's
// role and what it requires.
import { $, api, field, show } from './common.js';

const REQUIRES = {
  off: 'No requirement',
  two_factor: 'Requires two-factor authentication',
  passkey: 'Requires a passkey',
};
const policyOf = (org) => (org.require_passkey ? 'passkey' : org.require_two_factor ? 'two_factor' : 'off');

export function orgsCard() {
  const card = $('#orgs-card');
  const list = field('orgs-list', card);

  function item(org) {
    const row = document.createElement('li');
    const info = document.createElement('div');
    const link = Object.assign(document.createElement('a'), { href: `/orgs/${encodeURIComponent(org.id)}`, textContent: org.name });
    const facts = [org.role === 'owner' ? 'Owner' : 'Member', REQUIRES[policyOf(org)]];
    info.append(link, Object.assign(document.createElement('span'), { className: 'meta', textContent: facts.join(' · ') }));
    row.append(info);
    return row;
  }

  const read = () => api('GET', '/api/v1/orgs');
  function draw(orgs) {
    list.replaceChildren(...orgs.map(item));
    show(card, orgs.length > 0);
  }

  return { read, draw };
}
