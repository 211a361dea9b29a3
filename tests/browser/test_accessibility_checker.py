"""The accessibility check itself (tests/browser/axe.py) can fail: a page state with known
WCAG failures is refused in every engine, with the rules named and the results saved."""

from __future__ import annotations

import json

import pytest

from tests.browser.axe import WCAG_TAGS, check_accessibility
from tests.browser.drivers import Driver
from tests.browser.flows import Live

pytestmark = pytest.mark.browser

# An image without a text alternative and a field without a label (WCAG 1.1.1 and 4.1.2).
BREAK_THE_PAGE = """
const img = Object.assign(document.createElement('img'), { src: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=' });
const input = Object.assign(document.createElement('input'), { type: 'text' });
document.querySelector('main').append(img, input);
"""


def test_a_violation_fails_the_check_and_is_saved(live: Live, browser: Driver) -> None:
    browser.goto("/login")
    browser.expect_visible("button", "Sign in")
    clean = check_accessibility(browser, "checker-clean-login")
    saved = json.loads(clean.read_text())
    assert saved["violations"] == [] and "color-contrast" in saved["passes"]
    assert saved["toolOptions"]["runOnly"]["values"] == WCAG_TAGS

    browser.js(BREAK_THE_PAGE)
    with pytest.raises(AssertionError) as failed:
        check_accessibility(browser, "checker-broken-login")
    message = str(failed.value)
    assert "image-alt" in message and "label" in message, message
    saved = json.loads(clean.with_name("checker-broken-login.json").read_text())
    assert {rule["id"] for rule in saved["violations"]} >= {"image-alt", "label"}
