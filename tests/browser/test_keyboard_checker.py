"""The keyboard check itself (tests/browser/keyboard.py) can fail: a focused field under the
sticky status, or off screen, is refused in every engine, and one the engine is still
scrolling to is judged where it comes to rest."""

from __future__ import annotations

import pytest

from tests.browser.drivers import Driver
from tests.browser.flows import Live
from tests.browser.keyboard import expect_keyboard_focus

pytestmark = pytest.mark.browser

# The status bar laid over the email field, which then takes the focus.
COVER_THE_FIELD = """
const field = document.getElementById('login-email');
const box = field.getBoundingClientRect();
const status = document.getElementById('status');
status.textContent = 'Covering the field';
Object.assign(status.style, { position: 'fixed', left: '0', width: '100vw', top: `${box.top - 20}px`, height: `${box.height + 40}px` });
field.focus();
"""

# A page taller than the screen, scrolled to its top; the field at its foot takes the focus
# without being scrolled to (no engine scrolls on its own there).
PUSH_THE_FIELD_OFF_SCREEN = """
document.getElementById('status').removeAttribute('style');
document.querySelector('main').prepend(Object.assign(document.createElement('div'), { style: 'height: 300vh' }));
window.scrollTo(0, 0);
document.getElementById('login-password').focus({ preventScroll: true });
"""

# Focus first, the scroll into view a little later (as WebKitGTK does it by itself).
SCROLL_A_MOMENT_LATER = """
const field = document.getElementById('login-password');
field.focus({ preventScroll: true });
setTimeout(() => field.scrollIntoView({ block: 'center' }), 20);
"""


def test_a_covered_or_off_screen_focus_fails_the_check(live: Live, browser: Driver) -> None:
    browser.goto("/login")
    browser.expect_visible("button", "Sign in")

    browser.js(COVER_THE_FIELD)
    with pytest.raises(AssertionError, match="off screen or covered"):
        expect_keyboard_focus(browser, "Email")

    browser.js(PUSH_THE_FIELD_OFF_SCREEN)
    with pytest.raises(AssertionError, match="off screen or covered"):
        expect_keyboard_focus(browser, "Password")

    browser.js("window.scrollTo(0, 0); document.activeElement.blur();")
    browser.js(SCROLL_A_MOMENT_LATER)
    if browser.engine == "webkit":  # the one driver that waits for the focus to hold still
        expect_keyboard_focus(browser, "Password")
