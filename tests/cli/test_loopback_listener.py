"""The CLI's loopback listener on its own: where it listens and what it accepts."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from ankra_cli.loopback import LoopbackListener


def test_answers_the_first_matching_redirect_only() -> None:
    with LoopbackListener(state="s3cret") as listener:
        parts = urlsplit(listener.redirect_uri)
        assert parts.hostname == "127.0.0.1" and parts.port and parts.path == "/callback"
        assert httpx.get(f"http://127.0.0.1:{parts.port}/favicon.ico").status_code == 404
        ok = httpx.get(listener.redirect_uri, params={"code": "abc", "state": "s3cret"})
        assert ok.status_code == 200 and "You can close this window" in ok.text
        assert ok.headers["cache-control"] == "no-store"
        again = httpx.get(listener.redirect_uri, params={"code": "other", "state": "s3cret"})
        assert again.status_code == 409
        callback = listener.wait(1)
    assert callback is not None and callback.code == "abc" and callback.error is None


def test_refuses_a_foreign_state_or_a_missing_code() -> None:
    with LoopbackListener(state="s3cret") as listener:
        r = httpx.get(listener.redirect_uri, params={"code": "abc", "state": "guess"})
        assert r.status_code == 400
        callback = listener.wait(1)
    assert callback is not None and callback.code is None
    assert callback.error is not None and "different state" in callback.error

    with LoopbackListener(state="s3cret") as listener:
        httpx.get(listener.redirect_uri, params={"state": "s3cret", "error": "access_denied"})
        callback = listener.wait(1)
    assert callback is not None and callback.code is None and "access_denied" in str(callback.error)


def test_wait_gives_up_after_the_timeout() -> None:
    with LoopbackListener(state="s") as listener:
        assert listener.wait(0.05) is None
