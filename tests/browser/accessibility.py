"""Accessibility basics, checked in the browser on a page as it is shown: a title and a
language, headings in order, every control named, every control reachable by keyboard."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

__all__ = [
    "check_basics",
    "heading_levels",
    "tab_to",
    "unnamed_controls",
    "unreachable_by_keyboard",
]

# What the Tab key should reach: visible, enabled, not taken out of the tab order.
FOCUSABLE = """[...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]')]
  .filter((c) => c.checkVisibility() && !c.disabled && c.tabIndex >= 0)"""


def heading_levels(page: Any) -> list[int]:
    return list(
        page.evaluate(
            "() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]"
            ".filter((h) => h.checkVisibility()).map((h) => Number(h.tagName[1]))"
        )
    )


def unnamed_controls(page: Any) -> list[str]:
    """Visible form controls and buttons without a label or text, by outer HTML."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea, button, a, summary')]
              .filter((c) => c.checkVisibility() && c.type !== 'hidden')
              .filter((c) => !(c.labels?.length ? [...c.labels].some((l) => l.textContent.trim())
                                : (c.textContent.trim() || c.getAttribute('aria-label'))))
              .map((c) => c.outerHTML)"""
        )
    )


def tab_to(page: Any, element_id: str, presses: int = 80) -> None:
    """Move the keyboard focus with Tab alone until it reaches the element."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with the Tab key")


def unreachable_by_keyboard(page: Any) -> list[str]:
    """The focusable controls that Tab, pressed from the top of the page until the focus
    comes round again, never reaches (outer HTML); a radio group counts once."""
    total = page.evaluate(
        f"""() => {{
          const controls = {FOCUSABLE}
          controls.forEach((c, index) => c.setAttribute('data-tab-check', index))
          document.activeElement?.blur()
          window.scrollTo(0, 0)
          return controls.length
        }}"""
    )
    reached: set[int] = set()
    for _ in range(4 * total + 2):  # a date field takes four Tabs: its three parts and its picker
        page.keyboard.press("Tab")
        index = page.evaluate("() => document.activeElement?.getAttribute('data-tab-check')")
        if index is None and reached:
            break
        if index is not None:
            reached.add(int(index))
    return list(
        page.evaluate(
            f"""(reached) => {{
              const controls = {FOCUSABLE}
              const groups = new Set(reached.map((i) => controls[i])
                .filter((c) => c.type === 'radio').map((c) => c.name))
              return controls.filter((c, i) => !reached.includes(i))
                .filter((c) => !(c.type === 'radio' && groups.has(c.name)))
                .map((c) => c.outerHTML)
            }}""",
            sorted(reached),
        )
    )


def check_basics(page: Any, title: str) -> None:
    """The page's title and language, one h1 first and no level skipped, named controls."""
    assert page.title() == title
    assert page.locator("html").get_attribute("lang") == "en"
    levels = heading_levels(page)
    assert levels[0] == 1, levels
    assert levels.count(1) == 1, levels
    assert all(later <= earlier + 1 for earlier, later in pairwise(levels)), levels
    assert unnamed_controls(page) == []
