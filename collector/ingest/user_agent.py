"""Coarse facts from the User-Agent header: is it a bot, which device class, browser and
operating system.

A bot is what any of two maintained pattern lists names: the crawler-user-agents
project's patterns (run as one RE2 automaton: time linear in the header, whatever it
holds) and CrawlerDetect's. An empty header is a bot too: every browser sends one.
Device class, browser family and operating system family come from ua-parser (the uap-core
rules), matched by RE2 as well: its automaton of the rules holds some 13 MB, where
ua-parser's default (a Rust regex set) holds 30 MB for a few microseconds less per header
(measured in a bare process). Only the first ``MAX_USER_AGENT`` characters are looked at,
and results are cached per header in memory: a site sees few distinct strings. The header
itself is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2
from crawlerdetect import CrawlerDetect
from crawleruseragents import CRAWLER_USER_AGENTS_DATA
from ua_parser import Parser, load_builtins
from ua_parser.re2 import Resolver

__all__ = ["MAX_USER_AGENT", "UserAgentFacts", "user_agent_facts"]

MAX_USER_AGENT = 512
"""Longer headers are cut here before anything reads them (and before the cache keys them):
real browsers send under 300 characters."""
_TABLETS = ("ipad", "tablet", "kindle", "silk", "playbook", "nexus 7", "nexus 9", "nexus 10")


def _crawler_patterns() -> Any:
    options = re2.Options()
    options.max_mem = 16 << 20  # the automaton of ~1,500 patterns, built lazily, within this
    joined = "|".join(f"(?:{crawler['pattern']})" for crawler in CRAWLER_USER_AGENTS_DATA)
    return re2.compile(joined, options)


_CRAWLERS = _crawler_patterns()
_CRAWLER_DETECT = CrawlerDetect()


@dataclass(frozen=True, slots=True)
class UserAgentFacts:
    is_bot: bool
    device: str  # desktop | mobile | tablet | unknown
    browser: str
    os: str


def user_agent_facts(user_agent: str) -> UserAgentFacts:
    return _facts(user_agent[:MAX_USER_AGENT])


@lru_cache(maxsize=1)
def _parser() -> Parser:
    """The uap-core rules as one RE2 set, built at the first header (a process that parses
    none, such as the jobs, holds none of it)."""
    return Parser(Resolver(load_builtins()))


@lru_cache(maxsize=8192)
def _facts(user_agent: str) -> UserAgentFacts:
    if not user_agent.strip():
        return UserAgentFacts(is_bot=True, device="unknown", browser="unknown", os="unknown")
    parsed = _parser().parse(user_agent)
    device_family = (parsed.device.family if parsed.device else "Other") or "Other"
    bot = (
        device_family == "Spider"
        or _CRAWLERS.search(user_agent) is not None
        or bool(_CRAWLER_DETECT.isCrawler(user_agent))
    )
    browser = parsed.user_agent.family if parsed.user_agent else "Other"
    system = parsed.os.family if parsed.os else "Other"
    return UserAgentFacts(
        is_bot=bot, device=_device_class(user_agent, device_family), browser=browser, os=system
    )


def _device_class(user_agent: str, device_family: str) -> str:
    lowered = user_agent.lower()
    if any(marker in lowered for marker in _TABLETS) or (
        "android" in lowered and "mobile" not in lowered
    ):
        return "tablet"
    if "mobi" in lowered or device_family in ("iPhone", "iPod"):
        return "mobile"
    return "desktop"
