"""Bots and browsers told apart on corpora nobody here wrote, against the best-known list."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from collector.ingest.user_agent import MAX_USER_AGENT, user_agent_facts

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def corpus() -> dict[str, Any]:
    """crawler-user-agents' examples, real browsers' user agents (top-user-agents and
    user-agents), and isbot's verdict on each, from the npm packages make test installs."""
    node = shutil.which("node")
    assert node, "node is needed (make test installs it)"
    modules = REPO / "js_snippet" / "node_modules"
    assert (modules / "isbot").is_dir(), "run make test (npm ci in js_snippet) first"
    result = subprocess.run(
        [node, str(REPO / "tests" / "support" / "bot_corpus.cjs"), str(REPO / "js_snippet")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_at_least_as_many_crawlers_as_isbot_and_no_browser_are_bots(
    corpus: dict[str, Any],
) -> None:
    crawlers, browsers = corpus["crawlers"], corpus["browsers"]
    assert len(crawlers) > 2000
    assert len(browsers) > 800
    caught = sum(user_agent_facts(ua).is_bot for ua in crawlers)
    browsers_dropped = [ua for ua in browsers if user_agent_facts(ua).is_bot]
    ours, theirs = caught / len(crawlers), corpus["isbot"]["crawlers"] / len(crawlers)
    print(
        f"bots among {len(crawlers):,} crawler user agents: ClearSignal {caught:,} "
        f"({ours:.1%}), isbot {corpus['isbot']['crawlers']:,} ({theirs:.1%}); "
        f"among {len(browsers):,} browsers: ClearSignal {len(browsers_dropped)}, "
        f"isbot {corpus['isbot']['browsers']}"
    )
    assert browsers_dropped == []
    assert ours >= theirs


@pytest.mark.parametrize(
    ("user_agent", "bot"),
    [
        ("", True),
        ("   ", True),
        ("curl/8.5.0", True),
        ("python-requests/2.32.3", True),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", False),
    ],
)
def test_the_usual_suspects(user_agent: str, bot: bool) -> None:
    assert user_agent_facts(user_agent).is_bot is bot


def test_only_the_first_characters_of_a_long_header_are_read() -> None:
    browser = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 "
    padded = browser + "x" * 100_000
    assert user_agent_facts(padded) == user_agent_facts(padded[:MAX_USER_AGENT])
    # A bot's name beyond the cut is not read: the cut is a bound, not a loophole for
    # browsers, and a bot hiding past 512 characters is counted anonymously at worst.
    assert user_agent_facts(browser + " " * 600 + "Googlebot/2.1").is_bot is False
