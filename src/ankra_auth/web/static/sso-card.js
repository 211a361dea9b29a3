// The profile's "Single sign-on" card: linked providers, "Link NAME", "Unlink".
import { $, ApiError, api, busy, field, problemText, say, show, when } from './common.js';

export async function ssoCard() {
  const card = $('#sso-card');
  const profile = '/profile/authentication';
  const startUrl = (id, flag) => `/auth/sso/${encodeURIComponent(id)}/start?${flag}=1&next=${encodeURIComponent(profile)}`;
  const link = (href, text, className = 'button') => Object.assign(document.createElement('a'), { href, textContent: text, className });

  // Linking starts only from here, with a same-origin POST (a link could be sent by anyone);
  // the provider's answer is then confirmed on our own page before anything is linked.
  function linkButton(provider) {
    const button = Object.assign(document.createElement('button'), { type: 'button', textContent: `Link ${provider.name}` });
    button.addEventListener('click', () => busy(button, async () => {
      try {
        const started = await api('POST', `/api/v1/profile/sso/${encodeURIComponent(provider.id)}/link`);
        location.assign(started.authorization_url);
      } catch (error) {
        say(problemText(error), 'error');
      }
    }));
    return button;
  }

  async function unlink(button, provider) {
    await busy(button, async () => {
      try {
        await api('DELETE', `/api/v1/profile/sso/${encodeURIComponent(provider.id)}`);
        say(`${provider.name} is no longer linked.`, 'success');
        await draw();
      } catch (error) {
        if (error instanceof ApiError && error.code === 'reauthentication_required') {
          say(`Confirm it’s you first: sign in again with ${provider.name} (or your password), then press Unlink again.`, 'error');
          button.after(link(startUrl(provider.id, 'reauth'), `Confirm with ${provider.name}`));
          return;
        }
        say(problemText(error), 'error');
      }
    });
  }

  async function draw() {
    const [providers, links] = await Promise.all([
      api('GET', '/api/v1/auth/sso/providers'),
      api('GET', '/api/v1/profile/sso'),
    ]);
    show(card, providers.length > 0 || links.length > 0);
    const linked = new Set(links.map((l) => l.provider.id));
    field('sso-links').replaceChildren(...links.map((l) => {
      const row = document.createElement('li');
      const name = Object.assign(document.createElement('strong'), { textContent: l.provider.name });
      const meta = Object.assign(document.createElement('span'), {
        className: 'meta',
        textContent: `${l.email || 'no email'} · linked ${when(l.linked_at)}${l.last_used_at ? ` · last used ${when(l.last_used_at)}` : ''}`,
      });
      const button = Object.assign(document.createElement('button'), { type: 'button', className: 'danger', textContent: 'Unlink' });
      button.setAttribute('aria-label', `Unlink ${l.provider.name}`);
      button.addEventListener('click', () => unlink(button, l.provider));
      row.append(name, meta, button);
      return row;
    }));
    show(field('sso-none'), links.length === 0);
    field('sso-link-actions').replaceChildren(
      ...providers.filter((p) => !linked.has(p.id)).map((p) => linkButton(p)),
    );
  }

  try {
    await draw();
  } catch (error) {
    say(problemText(error), 'error');
  }
}
