"""A TOTP sign-in on the event loop (PostgreSQL): four round trips and no thread.

The statements are the sync way's optimistic admission (``challenges.verify_second_factor``)
with the grant folded in: BEGIN; the read that admits the attempt
(``challenges.read_and_admit_query``); one statement that spends the step, finishes the
pending login and writes the session, device token and event, and answers whether the
finish happened (``grant.one_write``); COMMIT. Single use is still decided by PostgreSQL:
the step's spend and the login's finish are conditional UPDATEs, the finish acts only
when the spend did, and nothing commits unless the finish did.

Only an admitted, right code is granted here. Anything else (not admitted during a
backoff, a wrong code, an expired or used login, a race lost) is rolled back, admission
included, and answered by the counted way on a thread
(``second_factor.complete_with_totp(counted_only=True)``), as the sync way falls back.
The code is looked at only once the attempt is admitted, so during a backoff a right
code takes the same way, in the same time, as a wrong one.
"""

from __future__ import annotations

from typing import Any

from psycopg.rows import namedtuple_row

from ankra_auth import db_async
from ankra_auth.challenges import service as challenges
from ankra_auth.config import Settings
from ankra_auth.context import RequestContext
from ankra_auth.errors import MfaTokenInvalid
from ankra_auth.observability import metrics
from ankra_auth.security import tokens
from ankra_auth.signin.grant import Authenticated, OneWrite, one_write
from ankra_auth.totp import service as totp


async def sign_in(
    pool: db_async.Pool, *, settings: Settings, ctx: RequestContext, mfa_token: str, code: str
) -> Authenticated | None:
    """The session for a right code, committed; None when the counted way must answer."""
    read = db_async.compiled(challenges.read_and_admit_query(totp.with_device, by_token=True))
    async with pool.connection() as conn:
        cursor = conn.cursor(row_factory=namedtuple_row)
        named = tokens.hash_token(mfa_token)
        await cursor.execute(read.sql, read.params({"named": named, "now": ctx.now}))
        granting = _granting(await cursor.fetchone(), settings=settings, ctx=ctx, code=code)
        if granting is None:
            await conn.rollback()
            return None
        write = db_async.compiled(granting.statement)
        await cursor.execute(write.sql, write.params(granting.params))
        finished = await cursor.fetchone()
        if finished is None or not finished[0]:
            await conn.rollback()  # the session rows written beside the spend go too
            return None
        await conn.commit()
    metrics.count_committed(*granting.event)
    return granting.granted


def _granting(row: Any, *, settings: Settings, ctx: RequestContext, code: str) -> OneWrite | None:
    """The write for ``row`` (the read, a named tuple), or None for the counted way."""
    if row is None or not row.admitted:  # admitted before the code is looked at
        return None
    try:
        pending = challenges.active_row(row, ctx.now)
    except MfaTokenInvalid:
        return None
    step = totp.step_to_spend(row=row, code=code, settings=settings, now=ctx.now)
    if step is None:
        return None
    return one_write(
        settings=settings,
        ctx=ctx,
        pending=pending,
        method="totp",
        spent=totp.SPEND_STEP,
        spent_params={"step": step},
    )
