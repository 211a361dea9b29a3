"""Real-browser fixtures: the app in-process on http://localhost:PORT (its FrozenClock drives
TOTP), and the browsers: ``browser`` (one engine-neutral driver, parametrised over Chromium,
Firefox and WebKit; see tests/browser/drivers) and ``page`` (Playwright's Chromium, for
Chromium-only checks such as CDP internals).

One browser per engine at a time: the session-scoped ``browser_engine`` fixture groups the
tests by engine, so Firefox (slow to start, about 1 GiB) starts once and is gone before WebKit
starts.
Each test gets fresh state: a new Playwright context, or the engine's cookies cleared (every
test's server has its own port, so its origin's storage is new anyway)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from ankra_auth import migrate
from ankra_auth.app import create_app
from ankra_auth.clock import FrozenClock
from ankra_auth.config import Settings
from ankra_auth.db import make_engine
from tests.browser.drivers import ENGINES, Driver
from tests.browser.flows import Authenticator, Live
from tests.live_server import threaded_server
from tests.postgres_server import free_port
from tests.screenshots import SCREENSHOT_DIR, full_page, refreshing

SECRET = "browser-test-secret-" + "b" * 32
OTHER_ENGINE_SHOTS = {
    "login",
    "login-second-factor",
    "login-passkey",  # Firefox
    "login-no-passkeys",  # WebKit
    "profile-recovery-codes",
    "profile-passkeys",  # Firefox
    "secure-account",
    "cli-login",
}


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "ankra.db"
    engine = make_engine(Settings(database_url=f"sqlite:///{path}", secret_key=SECRET))
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def live(tmp_path: Path, template_db: Path, clock: FrozenClock) -> Iterator[Live]:
    db_file = tmp_path / "ankra.db"
    shutil.copy(template_db, db_file)
    # The public URL must name the port (WebAuthn origin, allowed origins): pick it first.
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{db_file}",
        secret_key=SECRET,
        public_url=f"http://localhost:{port}",
        password_hash_concurrency=4,
    )
    app = create_app(settings, clock)
    try:
        with threaded_server(app, port) as url:
            yield Live(url, clock, app)
    finally:
        app.state.engine.dispose()


@pytest.fixture
def context(playwright_browser: Browser, live: Live) -> Iterator[BrowserContext]:
    ctx = playwright_browser.new_context(
        base_url=live.url, accept_downloads=True, timezone_id="UTC"
    )
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session", params=ENGINES)
def browser_engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The engine's long-lived browser (Firefox, WebKit), or None for Chromium (whose
    Playwright browser is ``playwright_browser``)."""
    name = request.param
    if name == "chromium":
        yield None
        return
    if name == "firefox":
        from tests.browser.drivers.firefox import FirefoxDriver

        driver: Any = FirefoxDriver()
    else:
        from tests.browser.drivers.webkit import WebKitDriver

        driver = WebKitDriver()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(request: pytest.FixtureRequest, browser_engine: Any, live: Live) -> Iterator[Driver]:
    """The page flows' browser: the same test runs in Chromium, Firefox and WebKit."""
    engine = browser_engine
    if engine is None:
        from tests.browser.drivers.chromium import ChromiumDriver

        yield ChromiumDriver(request.getfixturevalue("page"), live.url)
        return
    engine.reset(live.url)
    try:
        yield engine
    finally:
        engine.finish()


@pytest.fixture
def add_authenticator(context: BrowserContext, page: Page) -> Callable[[str], Authenticator]:
    """Attach a CTAP2 virtual authenticator with resident keys and user verification to
    ``page``: transport "internal" is a platform passkey, "usb" a roaming security key."""

    def add(transport: str) -> Authenticator:
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable", {"enableUI": False})
        options = {
            "protocol": "ctap2",
            "transport": transport,
            "hasResidentKey": True,
            "hasUserVerification": True,
            "isUserVerified": True,
            "automaticPresenceSimulation": True,
        }
        added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
        return Authenticator(cdp, added["authenticatorId"])

    return add


@pytest.fixture(scope="session")
def screenshot(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., Path]:
    """Full-page PNGs: into docs/screenshots with ANKRA_SCREENSHOTS=1, else a temporary dir."""
    if refreshing():
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOT_DIR
    else:
        target = tmp_path_factory.mktemp("screenshots")
    scratch = tmp_path_factory.mktemp("other-engine-screenshots")

    def take(page: Page | Driver, name: str, *, window_only: bool = False) -> Path:
        """``name`` as docs/screenshots knows it; other engines than Chromium add theirs
        (``login-firefox.png``). ``window_only``: not the whole page (a modal dialog, whose
        backdrop covers the window only)."""
        if not isinstance(page, Page):
            engine = page.engine
            if engine == "chromium":
                path = target / f"{name}.png"
            else:
                # Other engines: the key pages only, beside Chromium's (keeps docs/ small).
                folder = target if name in OTHER_ENGINE_SHOTS else scratch
                path = folder / f"{name}-{engine}.png"
            page.screenshot(path, full_page=not window_only)
            return path
        return full_page(page, target / f"{name}.png")

    return take
