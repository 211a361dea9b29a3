#!/usr/bin/env bash
# Serves the API and pages (SQLite ./ankra.db by default), installing into .venv first.
# Extra arguments go to `ankra-auth serve`, e.g. `scripts/serve.sh --port 8080`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv
if [ -z "${ANKRA_SMTP_URL:-}" ]; then
    # Without an SMTP server nothing is mailed (mails wait in the outbox): say how to send.
    echo "Notifications are off: mails (verification links, security notices) wait in the outbox." >&2
    echo "To send them: ANKRA_SMTP_URL=smtp://user:password@mail.example.com:587 bash scripts/serve.sh" >&2
    echo "  (smtps://... for TLS from the start, ?starttls=required to refuse plain text;" >&2
    echo "   ANKRA_MAIL_FROM='Ankra <no-reply@example.com>' to choose the sender)" >&2
fi
exec ankra-auth serve "$@"
