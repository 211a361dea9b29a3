// "Secure your account to continue": enrollment while an organisation requires 2FA.
import { $, api, focusHeading, page, show, signOutButton } from './common.js';
import { addPasskey, newCodesPanel, totpSetup } from './enrollment.js';
import { leaveOrgButtons } from './leave-org.js';

function secureAccountPage() {
  const next = page.next || '/profile/authentication';
  const proceed = () => location.assign(next);
  const codes = newCodesPanel({ onDone: proceed });

  async function enrolled(freshCodes) {
    const status = await api('GET', '/api/v1/profile/auth');
    if (status.enrollment_required) return;
    show($('#totp-card'), false);
    show($('#passkeys-card'), false);
    if (freshCodes && freshCodes.length) {
      codes.show(freshCodes, { turnedOn: true });
    } else {
      proceed();
    }
  }
  totpSetup({ onEnabled: enrolled });
  // Leaving the last organisation that requires 2FA lifts the restriction: continue.
  leaveOrgButtons({
    onLeft: (status) => {
      if (!status.enrollment_required) proceed();
      else focusHeading($('#why-card'));
    },
  });
  addPasskey({ onAdded: (answer) => enrolled(answer.recovery_codes) });
  signOutButton();
}

secureAccountPage();
