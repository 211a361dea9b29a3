"""The CLI's loopback listener on its own: where it listens and what it accepts."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from ankra_cli.loopback import LoopbackListener


def test_answers_the_first_matching_redirect_only() -> None:
    with LoopbackListener(state="s3cret") as listener:
        parts = urlsplit(listener.redirect_uri)
        assert parts.hostname == "127.0.0.1" and parts.port and parts.path == "/callback"
        assert httpx.get(f"http://127.0.0.1:{parts.port}/favicon.ico").status_code == 400
        ok = httpx.get(listener.redirect_uri, params={"code": "abc", "state": "s3cret"})
        assert ok.status_code == 200 and "You can close this window" in ok.text
        assert ok.headers["cache-control"] == "no-store"
        again = httpx.get(listener.redirect_uri, params={"code": "other", "state": "s3cret"})
        assert again.status_code == 409
        callback = listener.wait(1)
    assert callback is not None and callback.code == "abc" and callback.error is None


def test_stray_requests_get_400_and_the_real_redirect_still_counts() -> None:
    with LoopbackListener(state="s3cret") as listener:
        port = urlsplit(listener.redirect_uri).port
        strays = [
            httpx.get(listener.redirect_uri, params={"code": "abc", "state": "guess"}),
            httpx.get(listener.redirect_uri, params={"code": "abc"}),
            httpx.get(listener.redirect_uri),
            httpx.get(f"http://127.0.0.1:{port}/", params={"code": "x", "state": "s3cret"}),
            httpx.get(f"http://127.0.0.1:{port}/callback/extra"),
        ]
        assert [r.status_code for r in strays] == [400] * len(strays)
        assert "does not belong" in strays[0].text
        assert listener.wait(0.05) is None  # still waiting: nothing above ended the sign-in
        ok = httpx.get(listener.redirect_uri, params={"code": "real", "state": "s3cret"})
        assert ok.status_code == 200 and "You can close this window" in ok.text
        callback = listener.wait(1)
    assert callback is not None and callback.code == "real" and callback.error is None


def test_a_matching_state_without_a_code_ends_the_wait() -> None:
    with LoopbackListener(state="s3cret") as listener:
        r = httpx.get(listener.redirect_uri, params={"state": "s3cret", "error": "access_denied"})
        assert r.status_code == 400
        callback = listener.wait(1)
    assert callback is not None and callback.code is None and "access_denied" in str(callback.error)


def test_wait_gives_up_after_the_timeout() -> None:
    with LoopbackListener(state="s") as listener:
        assert listener.wait(0.05) is None


def test_the_servers_reason_is_shown_escaped_and_reported() -> None:
    reason = "Acme SSO did not confirm your email address: <script>x</script>"
    with LoopbackListener(state="s3cret") as listener:
        r = httpx.get(
            listener.redirect_uri,
            params={"state": "s3cret", "error": "access_denied", "error_description": reason},
        )
        assert r.status_code == 400 and "did not confirm your email address" in r.text
        assert "<script>" not in r.text and "&lt;script&gt;" in r.text
        callback = listener.wait(1)
    assert callback is not None and callback.code is None and callback.error == reason
