"""A Playwright-shaped layer over any ``Driver``, so a Playwright page test ports by
renaming ``page`` to ``browser`` and importing ``expect`` from here:

    browser.get_by_label("Email").fill(account.email)
    browser.get_by_role("button", name="Sign in").click()
    expect(browser.get_by_role("status")).to_contain_text("4 attempts left")
    card = browser.get_by_role("region", name="Where you're signed in")
    expect(card.get_by_role("list", name="Your sessions").get_by_role("listitem")).to_have_count(4)
    expect(browser).to_have_url(f"{live.url}/profile/authentication")

Only this subset: roles button, link, heading, list (+ listitem), region, dialog, checkbox,
textbox, status; ``get_by_label``; ``get_by_text`` (visible / hidden). Scoping goes one level
deep (a region or dialog, by its exact accessible name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.browser.drivers import Driver

KINDS = {
    "button": "button",
    "link": "link",
    "heading": "heading",
    "list": "list",
    "region": "region",
    "dialog": "dialog",
    "checkbox": "checkbox",
    "textbox": "field",
}


@dataclass(frozen=True)
class Locator:
    driver: Driver
    kind: str  # a locate.js kind, or "status"
    name: str = ""
    exact: bool = False
    within: str | None = None

    # -- narrowing (inside a region or dialog) -------------------------------------------------
    def get_by_label(self, label: str, *, exact: bool = False) -> Locator:
        return Locator(self.driver, "labelled", label, exact, self._scope())

    def get_by_role(self, role: str, *, name: str = "", exact: bool = False) -> Any:
        if role == "listitem":
            if self.kind != "list":
                raise NotImplementedError("listitem only inside a named list")
            return ListItems(self.driver, self.name)
        return Locator(self.driver, KINDS[role], name, exact, self._scope())

    def _scope(self) -> str:
        if self.kind not in ("region", "dialog"):
            raise NotImplementedError("scope by a region or dialog")
        return self.name

    # -- acting ------------------------------------------------------------------------------
    def fill(self, text: str) -> None:
        self.driver.fill(self.name, text, exact=self.exact, within=self.within, kind=self.kind)

    def press(self, key: str) -> None:
        if key != "Enter":
            raise NotImplementedError(key)
        self.driver.press_enter(self.name, exact=self.exact, within=self.within, kind=self.kind)

    def click(self) -> None:
        self.driver.click(self.name, exact=self.exact, within=self.within, role=self.kind)

    def check(self) -> None:
        self.driver.set_checked(self.name, True)

    def uncheck(self) -> None:
        self.driver.set_checked(self.name, False)

    def input_value(self) -> str:
        return self.driver.value(self.name, exact=self.exact, within=self.within, kind=self.kind)

    def is_visible(self) -> bool:
        if self.kind == "status":
            return bool(self.driver.status())
        return self.driver.visible(self.kind, self.name, exact=self.exact, within=self.within)

    def is_checked(self) -> bool:
        return self.driver.checked(self.name)

    def inner_text(self) -> str:
        if self.kind == "status":
            return self.driver.status()
        return self.driver.text(within=self.name)


@dataclass(frozen=True)
class ListItems:
    driver: Driver
    list_name: str

    def all_inner_texts(self) -> list[str]:
        return self.driver.list_items(self.list_name)

    def count(self) -> int:
        return len(self.all_inner_texts())


@dataclass(frozen=True)
class Text:
    driver: Driver
    text: str


class Expectation:
    def __init__(self, target: Any) -> None:
        self.target = target

    def to_be_visible(self) -> None:
        t = self.target
        if isinstance(t, Text):
            t.driver.expect_text(t.text)
        else:
            t.driver.expect_visible(t.kind, t.name, exact=t.exact, within=t.within)

    def to_be_hidden(self) -> None:
        t = self.target
        if isinstance(t, Text):
            t.driver.expect_no_text(t.text)
        elif isinstance(t, ListItems):
            t.driver.expect_hidden("list", t.list_name, exact=True)
        else:
            t.driver.expect_hidden(t.kind, t.name, exact=t.exact, within=t.within)

    def to_contain_text(self, text: str) -> None:
        t = self.target
        if t.kind == "status":
            t.driver.expect_status(text)
        elif t.kind in ("region", "dialog"):
            t.driver.expect_text(text, within=t.name)
        else:
            t.driver.wait_for(lambda: text in t.inner_text(), f"{text!r} in {t.name!r}")

    def to_have_count(self, count: int) -> None:
        t = self.target
        if not isinstance(t, ListItems):
            raise NotImplementedError("to_have_count on list items")
        t.driver.expect_items(t.list_name, count)

    def to_be_focused(self) -> None:
        self.target.driver.expect_focused(self.target.name)

    def to_be_checked(self) -> None:
        t = self.target
        t.driver.wait_for(lambda: t.driver.checked(t.name), f"{t.name!r} checked")

    def not_to_have_value(self, value: str) -> None:
        t = self.target
        t.driver.wait_for(lambda: t.input_value() != value, f"{t.name!r} not {value!r}")

    def to_have_url(self, url: str) -> None:
        self.target.expect_url(url)


def expect(target: Any) -> Expectation:
    """``expect(locator)`` or ``expect(browser)`` (for ``to_have_url``), as in Playwright."""
    return Expectation(target)
