// "Are you sure?" before a change that cannot be undone: a modal <dialog> that names the
// consequence, with "Cancel" focused (the safe default) and a button named by the action.
import { $ } from './common.js';

/** Wires #confirm once; returns `ask({question, consequence, action})`, a promise of true
 * (the action's button) or false (Cancel, Escape). Focus goes back where it was on cancel. */
export function confirmDialog() {
  const dialog = $('#confirm');
  const cancel = $('[data-action="confirm-cancel"]', dialog);
  const yes = $('[data-action="confirm-yes"]', dialog);
  let settle = null;
  let opener = null;

  const finish = (confirmed) => {
    const done = settle;
    settle = null;
    if (dialog.open) dialog.close();
    if (!done) return;
    if (!confirmed) opener?.focus();
    done(confirmed);
  };
  cancel.addEventListener('click', () => finish(false));
  yes.addEventListener('click', () => finish(true));
  // Escape. The event comes a task after the close: when the question was asked again
  // meanwhile (Cancel, then the button at once), it belongs to the old one: not this one.
  dialog.addEventListener('close', () => {
    if (!dialog.open) finish(false);
  });

  return ({ question, consequence, action }) => new Promise((resolve) => {
    settle?.(false);
    settle = resolve;
    opener = document.activeElement;
    $('#confirm-question', dialog).textContent = question;
    $('#confirm-consequence', dialog).textContent = consequence;
    yes.textContent = action;
    dialog.showModal();
    cancel.focus();
  });
}
