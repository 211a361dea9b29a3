// "Secure your account to continue": enrollment while an organisation requires 2FA.
import { $, api, page, show, signOutButton } from './common.js';
import { addPasskey, newCodesPanel, totpSetup } from './enrollment.js';

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
  addPasskey({ onAdded: (answer) => enrolled(answer.recovery_codes) });
  signOutButton();
}

secureAccountPage();
