"""The throttle's rule (accounts/backoff.py): 10 free failures, then 1 minute doubling to 1 hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ankra_auth.accounts.backoff import (
    FIRST_BACKOFF,
    FREE_FAILURES,
    MAX_BACKOFF,
    backoff_after,
    retry_after_seconds,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_numbers_are_the_contracts() -> None:
    assert (FREE_FAILURES, FIRST_BACKOFF, MAX_BACKOFF) == (
        10,
        timedelta(minutes=1),
        timedelta(hours=1),
    )


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [(0, None), (1, None), (9, None)]
    + [(10, 1), (11, 2), (12, 4), (13, 8), (14, 16), (15, 32), (16, 60), (17, 60), (40, 60)]
    + [(10**6, 60)],  # no overflow however long the run of failures
)
def test_backoff_after_failures(failures: int, minutes: int | None) -> None:
    expected = None if minutes is None else timedelta(minutes=minutes)
    assert backoff_after(failures) == expected


@pytest.mark.parametrize(
    ("left", "seconds"),
    [
        (None, 1),  # no recorded end: try again in a second
        (timedelta(seconds=-30), 1),  # already over
        (timedelta(0), 1),
        (timedelta(milliseconds=1), 1),
        (timedelta(seconds=1), 1),
        (timedelta(seconds=1, milliseconds=1), 2),  # rounded up, never early
        (timedelta(seconds=59, microseconds=1), 60),
        (timedelta(minutes=1), 60),
        (timedelta(hours=1), 3600),
    ],
)
def test_retry_after_is_whole_seconds_rounded_up(left: timedelta | None, seconds: int) -> None:
    blocked_until = None if left is None else NOW + left
    assert retry_after_seconds(blocked_until, NOW) == seconds
