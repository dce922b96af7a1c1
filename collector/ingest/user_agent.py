"""Coarse facts from the User-Agent header: is it a bot, which device class, which browser.

Bot detection uses CrawlerDetect's maintained pattern list; device class and browser
family come from ua-parser (the uap-core rules). Results are cached per UA string: a
site sees few distinct strings, and the parse costs microseconds. The UA string itself
is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import ua_parser
from crawlerdetect import CrawlerDetect

__all__ = ["UserAgentFacts", "user_agent_facts"]

_crawlers = CrawlerDetect()
_TABLETS = ("ipad", "tablet", "kindle", "silk", "playbook", "nexus 7", "nexus 9", "nexus 10")


@dataclass(frozen=True, slots=True)
class UserAgentFacts:
    is_bot: bool
    device: str  # desktop | mobile | tablet | unknown
    browser: str


@lru_cache(maxsize=8192)
def user_agent_facts(user_agent: str) -> UserAgentFacts:
    if not user_agent.strip():
        return UserAgentFacts(is_bot=True, device="unknown", browser="unknown")
    parsed = ua_parser.parse(user_agent)
    device_family = (parsed.device.family if parsed.device else "Other") or "Other"
    is_bot = device_family == "Spider" or bool(_crawlers.isCrawler(user_agent))
    browser = parsed.user_agent.family if parsed.user_agent else "Other"
    return UserAgentFacts(
        is_bot=is_bot, device=_device_class(user_agent, device_family), browser=browser
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
