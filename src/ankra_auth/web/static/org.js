// /orgs/{id}: what the organisation requires, and the member's own due date; for owners
// also the policy form, the members with their second factors, invitations and events.
import { $, ApiError, api, busy, field, focusHeading, onSubmit, page, problemText, say, scrollableByKeyboard, show, signOutButton, when } from './common.js';
import { ADD_LINK, dueDate, meets } from './grace-banner.js';
import { orgEventRow } from './org-events.js';

const orgPath = `/api/v1/orgs/${encodeURIComponent(page.org)}`;
const EVENTS_PAGE = 20;
const MAX_GRACE_DAYS = 90;
// What a member has, in the profile's words (recovery codes are never listed).
const METHOD_WORDS = { passkey: 'Passkey', totp: 'Authenticator app' };
const REQUIREMENT_WORDS = { two_factor: 'two-factor authentication', passkey: 'a passkey' };

export const policyOf = (org) => (org.require_passkey ? 'passkey' : org.require_two_factor ? 'two_factor' : 'off');
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function policySummary(org) {
  const kind = policyOf(org);
  if (kind === 'off') return `${org.name} doesn’t require two-factor authentication: it’s up to each member.`;
  const what = kind === 'passkey'
    ? `a passkey of every member, and that they sign in with it`
    : 'two-factor authentication of every member: an authenticator app or a passkey';
  const grace = org.grace_days > 0
    ? ` A member who doesn’t meet it yet has ${plural(org.grace_days, 'day')} from when it applies to them.`
    : ' A member who doesn’t meet it is restricted to securing their account until they do.';
  return `${org.name} requires ${what}.${grace}`;
}

/** The visitor's own standing: met, or due on a date (with the link to add it). */
function ownStanding(org, status) {
  const kind = policyOf(org);
  if (kind === 'off') return null;
  const line = document.createDocumentFragment();
  const mine = (status.enforced_by || []).find((item) => item.id === org.id);
  if (mine?.met ?? meets(status, kind)) {
    line.append(kind === 'passkey' ? 'You meet it: you have a passkey.' : 'You meet it: two-factor authentication is on.');
    return line;
  }
  const add = ADD_LINK[kind];
  const link = Object.assign(document.createElement('a'), { href: add.href, textContent: add.text });
  if (mine?.due_at) line.append(`You have until ${dueDate(mine.due_at)} to add ${REQUIREMENT_WORDS[kind]}. `, link);
  else line.append(`You need ${REQUIREMENT_WORDS[kind]}. `, link);
  return line;
}

function cellRow(cells) {
  const row = document.createElement('tr');
  row.append(...cells.map((content) => {
    const cell = document.createElement('td');
    cell.append(content);
    return cell;
  }));
  return row;
}

/** "Due": the date a member without the required factor must add it by. */
function dueText(member, org) {
  const kind = policyOf(org);
  const methods = member.methods || [];
  const met = kind === 'off' || (kind === 'passkey' ? methods.includes('passkey') : methods.length > 0);
  if (met) return '—';
  // The date, even once past: the service decides by its own clock when it restricts.
  if (member.due_at) return dueDate(member.due_at);
  return 'Now: restricted until they add it';
}

function memberRow(member, org) {
  const who = document.createDocumentFragment();
  who.append(member.email);
  if (member.user_id === page.user) who.append(' ', Object.assign(document.createElement('span'), { className: 'meta', textContent: 'You' }));
  const methods = (member.methods || []).map((m) => METHOD_WORDS[m] || m).join(', ') || 'None';
  return cellRow([who, member.role === 'owner' ? 'Owner' : 'Member', methods, dueText(member, org)]);
}

function ownerPage(org) {
  const form = $('[data-form="policy"]');
  const needed = field('owner-factor-needed');
  const members = field('members');
  const invitationList = field('invitations');
  let current = org;

  function fillForm(value) {
    for (const radio of form.elements.requirement) radio.checked = radio.value === policyOf(value);
    form.elements.grace_days.value = String(value.grace_days ?? 0);
  }

  const membersScroll = scrollableByKeyboard($('#members-card .table-wrap'));
  async function loadMembers() {
    const people = await api('GET', `${orgPath}/members`);
    const active = people.filter((p) => p.status === 'active');
    const invited = people.filter((p) => p.status === 'invited');
    members.replaceChildren(...active.map((m) => memberRow(m, current)));
    invitationList.replaceChildren(...invited.map(invitationItem));
    show(field('no-invitations'), invited.length === 0);
    membersScroll();
  }

  function invitationItem(invitation) {
    const item = document.createElement('li');
    const info = document.createElement('div');
    const facts = [`as ${invitation.role}`];
    if (invitation.email_verified === false) facts.push('address not verified yet: they can accept once it is');
    info.append(
      Object.assign(document.createElement('strong'), { textContent: invitation.email }),
      Object.assign(document.createElement('span'), { className: 'meta', textContent: facts.join(' · ') }),
    );
    const withdraw = Object.assign(document.createElement('button'), { type: 'button', className: 'danger' });
    withdraw.append('Withdraw', Object.assign(document.createElement('span'), { className: 'visually-hidden', textContent: ` invitation to ${invitation.email}` }));
    withdraw.addEventListener('click', () => busy(withdraw, async () => {
      try {
        await api('DELETE', `${orgPath}/members/${encodeURIComponent(invitation.user_id)}`);
        say(`Invitation to ${invitation.email} withdrawn.`, 'success');
        await Promise.all([loadMembers(), events.load(false)]);
        focusHeading($('#org-invitations-card'));
      } catch (error) {
        say(problemText(error), 'error');
      }
    }));
    const actions = Object.assign(document.createElement('div'), { className: 'actions' });
    actions.append(withdraw);
    item.append(info, actions);
    return item;
  }

  // A 409 from the owner's own lack of a factor: say it in plain words, with the way out.
  function ownerFactorNeeded(error) {
    const passkey = error.code === 'owner_passkey_required';
    field('owner-factor-text').textContent = passkey
      ? `You need a passkey of your own before ${current.name} can require one of its members. Nothing was changed.`
      : `You need two-factor authentication yourself before ${current.name} can require it of its members. Nothing was changed.`;
    const link = field('owner-factor-link');
    link.href = passkey ? ADD_LINK.passkey.href : ADD_LINK.two_factor.href;
    link.textContent = passkey ? 'Add a passkey on your profile, then save again' : 'Set up two-factor authentication on your profile, then save again';
    show(needed);
    say(field('owner-factor-text').textContent, 'error');
    link.focus();
  }

  onSubmit(form, (event) => {
    event.preventDefault();
    show(needed, false);
    const choice = form.elements.requirement.value;
    const text = form.elements.grace_days.value.trim();
    const days = Number(text);
    if (!choice) {
      say('Choose what every member must have.', 'error');
      form.elements.requirement[0].focus();
      return;
    }
    if (!/^\d+$/.test(text) || days > MAX_GRACE_DAYS) {
      say(`Grace days must be a whole number from 0 to ${MAX_GRACE_DAYS}.`, 'error');
      form.elements.grace_days.focus();
      return;
    }
    const body = {
      require_two_factor: choice !== 'off',
      require_passkey: choice === 'passkey',
      grace_days: days,
    };
    busy(event.submitter, async () => {
      try {
        current = await api('PATCH', orgPath, body);
        fillForm(current);
        renderPolicy(current, await api('GET', '/api/v1/profile/auth'));
        say(`Policy saved. ${policySummary(current)}`, 'success');
        await Promise.all([loadMembers(), events.load(false)]);
      } catch (error) {
        if (error instanceof ApiError && ['owner_passkey_required', 'owner_two_factor_required'].includes(error.code)) {
          ownerFactorNeeded(error);
        } else {
          say(problemText(error), 'error');
        }
      }
    });
  });

  const invite = $('[data-form="invite"]');
  onSubmit(invite, (event) => {
    event.preventDefault();
    const email = invite.elements.email.value.trim();
    if (!email) {
      say('Enter the email address of the account to invite.', 'error');
      invite.elements.email.focus();
      return;
    }
    busy(event.submitter, async () => {
      try {
        await api('POST', `${orgPath}/members`, { email, role: invite.elements.role.value });
        invite.reset();
        say(`Invitation sent to ${email}. It lives 7 days.`, 'success');
        await Promise.all([loadMembers(), events.load(false)]);
      } catch (error) {
        say(problemText(error), 'error');
        invite.elements.email.focus();
      }
    });
  });

  const events = orgEvents();
  fillForm(org);
  return Promise.all([loadMembers(), events.load(false)]);
}

/** The org's events, 20 at a time; "Show more events" follows next_cursor. */
function orgEvents() {
  const body = field('org-events');
  const more = $('[data-action="more-org-events"]');
  let cursor = null;
  const scrolls = scrollableByKeyboard($('#org-events-card .table-wrap'));
  async function load(next) {
    const query = next && cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const answer = await api('GET', `${orgPath}/events?limit=${EVENTS_PAGE}${query}`);
    const rows = answer.events.map((e) => cellRow(orgEventRow(e, when)));
    if (next) body.append(...rows);
    else body.replaceChildren(...rows);
    cursor = answer.next_cursor;
    show(more, Boolean(cursor));
    show(field('no-org-events'), body.childElementCount === 0);
    scrolls();
    return rows.length;
  }
  more.addEventListener('click', (event) => busy(event.currentTarget, async () => {
    try {
      const added = await load(true);
      say(cursor ? `${added} more events shown.` : `${added} more events shown. That is all of them.`);
      if (!cursor) focusHeading($('#org-events-card'));
    } catch (error) {
      say(problemText(error), 'error');
    }
  }));
  return { load };
}

function renderPolicy(org, status) {
  field('policy-summary').textContent = policySummary(org);
  const standing = ownStanding(org, status);
  const due = field('my-due');
  if (standing) due.replaceChildren(standing);
  show(due, Boolean(standing));
}

async function orgPage() {
  signOutButton();
  try {
    const [orgs, status] = await Promise.all([api('GET', '/api/v1/orgs'), api('GET', '/api/v1/profile/auth')]);
    const org = orgs.find((o) => o.id === page.org);
    if (!org) {
      say(`You are no longer a member of ${page.orgName}.`, 'error');
      return;
    }
    renderPolicy(org, status);
    if (org.role === 'owner' && $('[data-form="policy"]')) await ownerPage(org);
  } catch (error) {
    say(problemText(error), 'error');
  }
}

orgPage();
