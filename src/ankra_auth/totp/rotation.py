"""Re-sealing every TOTP secret under the current secret key (``ankra-auth rotate-secrets``).

Safe to run while the service serves and to run again: each device is read, and
only one sealed under a previous key is rewritten, by a conditional UPDATE on
the sealed value it read, so a set-up that replaced the secret meanwhile wins.
Devices are visited in batches by user id (keyset paging), one short
transaction per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from ankra_auth.config import Settings
from ankra_auth.db import affected_rows
from ankra_auth.totp import service
from ankra_auth.totp.models import TotpDevice

BATCH = 200


@dataclass(frozen=True, slots=True)
class Rotation:
    resealed: int  # sealed under a previous key, now under the current one
    current: int  # already under the current key: left alone
    unreadable: int  # opened by no configured key (a key is missing from the settings)


def reseal_all(engine: Engine, *, settings: Settings, batch: int = BATCH) -> Rotation:
    resealed = current = unreadable = 0
    after = ""
    with Session(engine) as db:
        while True:
            devices = list(
                db.scalars(
                    select(TotpDevice)
                    .where(TotpDevice.user_id > after)
                    .order_by(TotpDevice.user_id)
                    .limit(batch)
                )
            )
            if not devices:
                return Rotation(resealed, current, unreadable)
            for device in devices:
                try:
                    secret, old_key = service.unseal(settings, device)
                except ValueError:
                    unreadable += 1
                    continue
                if not old_key:
                    current += 1
                    continue
                changed = db.execute(
                    update(TotpDevice)
                    .where(
                        TotpDevice.user_id == device.user_id,
                        TotpDevice.secret_encrypted == device.secret_encrypted,
                    )
                    .values(secret_encrypted=service.seal(settings, device.user_id, secret))
                )
                resealed += affected_rows(changed)
            after = devices[-1].user_id
            db.commit()
            db.expunge_all()
