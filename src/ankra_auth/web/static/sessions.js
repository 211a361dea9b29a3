// "Where you're signed in": each live session, "Sign out" for the others, and
// "Sign out everywhere else". A revoked session ends at once on every instance.
import { $, api, busy, field, focusHeading, problemText, say, show, when } from './common.js';

const METHODS = {
  password: 'password',
  totp: 'authenticator app',
  passkey: 'passkey',
  recovery_code: 'recovery code',
  sso: 'single sign-on',
  cli: 'the CLI',
  link: 'a sign-in link from the CLI',
};

/** The card; `ask` is the page's confirmation (confirm.js), asked before signing out the rest. */
export function sessionsCard({ ask }) {
  const card = $('#sessions-card');
  const list = field('sessions', card);
  const othersButton = $('[data-action="sign-out-others"]', card);

  async function signOut(button, path, message) {
    await busy(button, async () => {
      try {
        await api('DELETE', path);
        say(message, 'success');
        await refresh();
        focusHeading(card);
      } catch (error) {
        say(problemText(error), 'error');
      }
    });
  }

  function row(session) {
    const item = document.createElement('li');
    const info = document.createElement('div');
    const name = Object.assign(document.createElement('strong'), { textContent: session.device });
    info.append(name);
    if (session.current) {
      info.append(' ', Object.assign(document.createElement('span'), { className: 'badge on', textContent: 'This device' }));
    }
    const details = [
      `Signed in with ${METHODS[session.method] || session.method} ${when(session.created_at)}`,
      session.ip ? `from ${session.ip}` : '',
      `last active ${when(session.last_seen_at)}`,
    ].filter(Boolean);
    info.append(Object.assign(document.createElement('span'), { className: 'meta', textContent: details.join(' · ') }));
    item.append(info);
    if (!session.current) {
      const actions = Object.assign(document.createElement('div'), { className: 'actions' });
      const button = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Sign out' });
      button.append(Object.assign(document.createElement('span'), { className: 'visually-hidden', textContent: ` ${session.device}, ${when(session.last_seen_at)}` }));
      button.addEventListener('click', () => signOut(
        button,
        `/api/v1/profile/sessions/${encodeURIComponent(session.id)}`,
        `Signed out ${session.device}.`,
      ));
      actions.append(button);
      item.append(actions);
    }
    return item;
  }

  let others = 0;
  const read = () => api('GET', '/api/v1/profile/sessions');
  function draw(sessions) {
    list.replaceChildren(...sessions.map(row));
    others = sessions.filter((session) => !session.current).length;
    show(othersButton, others > 0);
  }
  const refresh = async () => draw(await read());

  othersButton.addEventListener('click', async () => {
    if (othersButton.getAttribute('aria-disabled') === 'true') return;
    const sure = await ask({
      question: 'Sign out everywhere else?',
      consequence: `${others === 1 ? 'Your other session ends' : `Your ${others} other sessions end`} at once: those browsers, devices and CLIs must sign in again. This device stays signed in.`,
      action: 'Sign out other sessions',
    });
    if (!sure) return;
    await signOut(othersButton, '/api/v1/profile/sessions', 'Signed out everywhere else. This device stays signed in.');
  });

  return { read, draw, refresh };
}

/** After 2FA turns on: end every other session (they may be someone holding the password). */
export async function signOutEverywhereElse() {
  await api('DELETE', '/api/v1/profile/sessions');
}
