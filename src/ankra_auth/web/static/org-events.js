// An organisation's events in words: the same words as `ankra org events`
// (src/ankra_cli/labels.py; tests/cli/test_cli_org.py holds the two side by side).

export const ORG_EVENT_LABELS = {
  org_created: 'Organisation created',
  org_policy_changed: 'Policy changed',
  member_invited: 'Member invited',
  invitation_accepted: 'Invitation accepted',
  invitation_declined: 'Invitation declined',
  invitation_withdrawn: 'Invitation withdrawn',
  member_left: 'Member left',
  member_removed: 'Member removed',
  member_role_changed: 'Role changed',
};
// Members' two-factor changes, as the profile's security log names them.
export const MEMBER_EVENT_LABELS = {
  totp_enabled: 'Authenticator app set up',
  totp_removed: 'Authenticator app removed',
  passkey_added: 'Passkey added',
  passkey_removed: 'Passkey removed',
  recovery_codes_regenerated: 'Recovery codes regenerated',
  two_factor_disabled: 'Two-factor authentication turned off',
  two_factor_reset_by_admin: 'Two-factor authentication reset by an administrator',
};

/** A policy object ({require_two_factor, require_passkey, grace_days}) in words. */
export function policyWords(policy) {
  if (!policy || typeof policy !== 'object') return null;
  let words;
  if (policy.require_passkey) words = 'passkey';
  else if (policy.require_two_factor) words = 'two-factor';
  else return 'off';
  const days = policy.grace_days;
  if (Number.isInteger(days) && days > 0) words += `, ${days} day${days === 1 ? '' : 's'}' grace`;
  return words;
}

/** An event's `detail` in words: a policy change as "old → new", the role, who did it, a name. */
export function orgEventDetail(detail) {
  if (typeof detail === 'string') return detail;
  if (!detail || typeof detail !== 'object') return '';
  const [before, after] = [policyWords(detail.old), policyWords(detail.new)];
  if (before !== null && after !== null) return `${before} → ${after}`;
  const parts = [];
  if (typeof detail.role === 'string') parts.push(`as ${detail.role}`);
  if (typeof detail.by === 'string') parts.push(`by ${detail.by}`);
  for (const key of ['name', 'note']) if (typeof detail[key] === 'string') parts.push(detail[key]);
  return parts.join(' · ');
}

/** The table cells of one event: when, what, who, details. */
export function orgEventRow(e, when) {
  const time = Object.assign(document.createElement('time'), { dateTime: e.created_at, textContent: when(e.created_at) });
  const label = ORG_EVENT_LABELS[e.type] || MEMBER_EVENT_LABELS[e.type] || e.type;
  return [time, label, e.user?.email || '', orgEventDetail(e.detail)];
}
