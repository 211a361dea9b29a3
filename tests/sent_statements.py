"""What the event loop's flows send to PostgreSQL: each statement's SQL, in order, recorded
on the cursor they use (``db_async.cursor``, wrapped, not copied)."""

from __future__ import annotations

from typing import Any

import pytest

from ankra_auth import db_async


def record_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the SQL of every statement the flows execute, appended in order."""
    sent: list[str] = []
    real_cursor = db_async.cursor

    def recording(conn: Any) -> Any:
        cursor = real_cursor(conn)
        execute = cursor.execute

        async def recorded(query: Any, params: Any = None, **kwargs: Any) -> Any:
            sent.append(str(query))
            return await execute(query, params, **kwargs)

        cursor.execute = recorded  # type: ignore[method-assign]
        return cursor

    monkeypatch.setattr(db_async, "cursor", recording)
    return sent
