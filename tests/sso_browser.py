"""A cookie-keeping HTTP client that walks the single sign-on redirects like a browser:
Ankra's start route, the provider's login form, back to Ankra's callback."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx

from tests.openid_provider import OpenIdProvider, ProviderUser


def start_query(start_url: str) -> str:
    """The query of a one-time start link (``?cli=...``), for :meth:`SsoBrowser.start`."""
    return "?" + urlsplit(start_url).query


def page_token(page_text: str) -> str:
    """The CLI hand-off page's token: it travels in the page, never in a URL."""
    match = re.search(r'data-token="([^"]+)"', page_text)
    assert match, page_text
    return match.group(1)


class SsoBrowser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(follow_redirects=False, timeout=20)
        self.provider_logins = 0  # how often the provider asked for its password

    def close(self) -> None:
        self.http.close()

    def start(self, query: str = "", provider_id: str = "corp") -> httpx.Response:
        return self.http.get(f"{self.base}/auth/sso/{provider_id}/start{query}")

    def to_callback(
        self,
        op: OpenIdProvider,
        user: ProviderUser | None,
        query: str = "",
        provider_id: str = "corp",
    ) -> str:
        """Start at Ankra, sign in at the provider (when it asks), and return the callback URL
        the provider sends the browser to, without following it."""
        response = self.start(query, provider_id)
        assert response.status_code == 302, response.text
        return self.through_provider(op, user, response.headers["location"])

    def through_provider(self, op: OpenIdProvider, user: ProviderUser | None, location: str) -> str:
        """From Ankra's authorization URL at the provider, sign in there (when it asks); the
        callback URL the provider sends the browser to, not followed."""
        assert location.startswith(op.issuer), location
        for _ in range(20):
            if not location.startswith(op.issuer):
                return location
            response = self.http.get(location)
            if response.status_code == 200 and "<form" in response.text:
                assert user is not None, "the provider asked for a login"
                self.provider_logins += 1
                action = re.search(r'action="([^"]+)"', response.text)
                assert action is not None
                response = self.http.post(
                    urljoin(location, action.group(1)),
                    data={"login": user.sub, "password": user.password},
                )
            assert response.status_code in (302, 303), (response.status_code, response.text)
            location = urljoin(location, response.headers["location"])
        raise AssertionError("too many redirects at the provider")

    def link(
        self, op: OpenIdProvider, user: ProviderUser | None, provider_id: str = "corp"
    ) -> httpx.Response:
        """The profile's "Link NAME" (its same-origin POST), the provider, and back: the page
        that asks before anything is linked."""
        response = self.api("POST", f"/api/v1/profile/sso/{provider_id}/link")
        assert response.status_code == 200, response.text
        url = response.json()["authorization_url"]
        return self.callback(self.through_provider(op, user, url))

    def confirm_link(self, page: httpx.Response, provider_id: str = "corp") -> httpx.Response:
        """The person's "Link" on the confirmation page (a form POST from our own page)."""
        match = re.search(r'name="confirmation" value="([^"]+)"', page.text)
        assert match, page.text
        return self.http.post(
            f"{self.base}/auth/sso/{provider_id}/link/confirm",
            data={"confirmation": match.group(1)},
            headers={"Origin": self.base},
        )

    def callback(self, url: str) -> httpx.Response:
        return self.http.get(url)

    def hand_off_page(self, callback_url: str) -> str:
        """Follow the callback of a CLI sign-in: the CLI hand-off page, not cached, with no
        browser session; returns its token."""
        page = self.callback(callback_url)
        assert page.status_code == 200 and 'data-page="cli-login"' in page.text, page.text
        assert page.headers["cache-control"] == "no-store"
        assert self.session_cookie() is None
        return page_token(page.text)

    def sign_in(
        self, op: OpenIdProvider, user: ProviderUser | None, query: str = ""
    ) -> httpx.Response:
        return self.callback(self.to_callback(op, user, query))

    def api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        """A call as the pages make it: the session cookie and this site's Origin."""
        headers = {"Origin": self.base, "Accept": "application/json"}
        return self.http.request(method, f"{self.base}{path}", headers=headers, **kwargs)  # type: ignore[arg-type]

    def session_cookie(self) -> str | None:
        return self.http.cookies.get("ankra_session")
