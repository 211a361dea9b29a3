"""Keyboard-only steps: Tab, Shift+Tab, Enter and Space as real key events, with the focus
checked at every stop (where it is, that it shows, that nothing covers it)."""

from __future__ import annotations

from typing import Any

from tests.browser.drivers import Driver


def _matches(state: dict[str, Any], name: str, exact: bool) -> bool:
    focused = str(state["name"]).lower()
    return focused == name.lower() if exact else name.lower() in focused


def check_focus_shows(browser: Driver, state: dict[str, Any]) -> None:
    """An element on the Tab path draws its focus (``:focus-visible`` and an outline); the
    headings the page's script focuses (to say "look here", off the Tab path) need not. Any
    focused element is on screen and not under something else (the sticky status)."""
    where = f"[{browser.engine}] focus on {state['tag']} {state['name']!r}"
    if state["tabbable"]:
        assert state["focusVisible"], f"{where}: not :focus-visible ({state})"
        assert state["outline"], f"{where}: no visible outline ({state})"
    assert state["unobscured"], f"{where}: off screen or covered ({state})"


def expect_keyboard_focus(browser: Driver, name: str, *, exact: bool = False) -> None:
    """The page moved the focus to the element named ``name``, and it shows."""
    state = browser.wait_for(
        lambda: (s := browser.focus_state()) and _matches(s, name, exact) and s,
        f"keyboard focus on {name!r}",
    )
    check_focus_shows(browser, state)


def tab_to(
    browser: Driver, name: str, *, backwards: bool = False, exact: bool = False, limit: int = 60
) -> list[str]:
    """Presses Tab (Shift+Tab) until the element named ``name`` has the focus; every element
    on the way must show its focus. Returns the names passed, in order."""
    key = "Shift+Tab" if backwards else "Tab"
    passed: list[str] = []
    for _ in range(limit):
        browser.press(key)
        state = browser.focus_state()
        passed.append(str(state["name"]))
        if state["tag"]:
            check_focus_shows(browser, state)
        if _matches(state, name, exact):
            return passed
    raise AssertionError(
        f"[{browser.engine}] {name!r} not reached with {key} in {limit} presses; passed: {passed}"
    )
