// "Leave NAME" on "Secure your account to continue": leaving an organisation that
// requires 2FA, after a confirmation. The API allows it from a restricted session.
import { $, api, busy, page, problemText, say } from './common.js';

function confirmBox(name, onYes, onNo) {
  const box = Object.assign(document.createElement('div'), { className: 'confirm' });
  const question = document.createElement('p');
  question.append(
    Object.assign(document.createElement('strong'), { textContent: `Leave ${name}?` }),
    ' You will no longer be a member, and only an owner can invite you back.',
  );
  const yes = Object.assign(document.createElement('button'), { type: 'button', className: 'danger', textContent: `Yes, leave ${name}` });
  const no = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Stay' });
  yes.addEventListener('click', () => onYes(yes));
  no.addEventListener('click', onNo);
  const actions = Object.assign(document.createElement('div'), { className: 'actions' });
  actions.append(yes, no);
  box.append(question, actions);
  return box;
}

/** Wires every "Leave NAME" button; `onLeft(status)` gets the profile status after leaving. */
export function leaveOrgButtons({ onLeft }) {
  for (const item of document.querySelectorAll('[data-field="orgs"] li[data-org]')) {
    const leave = $('[data-action="leave"]', item);
    const { org, name } = item.dataset;
    let box = null;
    const close = () => {
      box?.remove();
      box = null;
      leave.focus();
    };
    const confirmed = (yes) => busy(yes, async () => {
      try {
        await api('DELETE', `/api/v1/orgs/${encodeURIComponent(org)}/members/${encodeURIComponent(page.user)}`);
      } catch (error) {
        say(problemText(error), 'error');
        return;
      }
      item.remove();
      say(`You left ${name}.`, 'success');
      onLeft(await api('GET', '/api/v1/profile/auth'));
    });
    leave.addEventListener('click', () => {
      if (box) return;
      box = confirmBox(name, confirmed, close);
      item.append(box);
      $('button', box).focus();
    });
  }
}
