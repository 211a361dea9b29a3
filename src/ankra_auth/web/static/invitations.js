// Profile → "Organisation invitations": open invitations with Accept and Decline.
// Joining is the invitee's choice; an organisation that requires 2FA applies from then on.
import { $, api, busy, field, focusHeading, problemText, say, show, when } from './common.js';

function actionButton(label, name, className, onClick) {
  const button = Object.assign(document.createElement('button'), { type: 'button', className });
  button.append(label, Object.assign(document.createElement('span'), { className: 'visually-hidden', textContent: ` invitation to ${name}` }));
  button.addEventListener('click', onClick);
  return button;
}

/** The invitations card; `onJoined(org)` runs after an accept (the page re-checks enrollment). */
export function invitationsCard({ onJoined }) {
  const card = $('#invitations-card');
  const list = field('invitations', card);

  function row(invitation) {
    const { org } = invitation;
    const item = document.createElement('li');
    const info = document.createElement('div');
    const facts = [`as ${invitation.role}`];
    if (invitation.invited_by) facts.push(`invited by ${invitation.invited_by}`);
    facts.push(`expires ${when(invitation.expires_at)}`);
    info.append(
      Object.assign(document.createElement('strong'), { textContent: org.name }),
      Object.assign(document.createElement('span'), { className: 'meta', textContent: facts.join(' · ') }),
    );
    if (org.require_two_factor) {
      info.append(Object.assign(document.createElement('span'), {
        className: 'meta',
        textContent: 'Requires two-factor authentication of every member.',
      }));
    }
    const answer = (button, work, message) => busy(button, async () => {
      try {
        const result = await work();
        say(message, 'success');
        await load();
        focusHeading(card.hidden ? $('#two-factor-card') : card);
        return result;
      } catch (error) {
        say(problemText(error), 'error');
        return null;
      }
    });
    const path = `/api/v1/invitations/${encodeURIComponent(invitation.id)}`;
    const actions = Object.assign(document.createElement('div'), { className: 'actions' });
    actions.append(
      actionButton('Accept', org.name, 'primary', async (event) => {
        const joined = await answer(event.currentTarget, () => api('POST', `${path}/accept`), `You joined ${org.name}.`);
        if (joined) await onJoined(joined);
      }),
      actionButton('Decline', org.name, '', (event) => answer(
        event.currentTarget, () => api('DELETE', path), `You declined the invitation to ${org.name}.`,
      )),
    );
    item.append(info, actions);
    return item;
  }

  const read = () => api('GET', '/api/v1/invitations');
  function draw(invitations) {
    list.replaceChildren(...invitations.map(row));
    show(card, invitations.length > 0);
  }
  const load = async () => draw(await read());

  return { read, draw };
}
