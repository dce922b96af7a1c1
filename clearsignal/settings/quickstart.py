"""The built-in ``demo`` site: what ClearSignal serves when no settings file names sites,
so that a fresh checkout runs out of the box (``make run``)."""

from __future__ import annotations

from clearsignal.settings.sites import NoticeSettings, SiteSettings

__all__ = ["DEMO_NOTICE_TEXT", "demo_site"]

DEMO_NOTICE_TEXT = (
    "ClearSignal demo shop privacy notice. We count visits anonymously. With your "
    "consent we also link your visits to a random identifier kept in your browser, to "
    "notice where you hesitate or get stuck (analytics) and to offer help while you "
    "browse (personalization). You can see everything we hold about you, download it, "
    "withdraw consent or delete it at /me."
)


def demo_site() -> SiteSettings:
    return SiteSettings(
        id="demo",
        name="ClearSignal demo shop",
        allowed_origins=["http://127.0.0.1:8000", "http://localhost:8000"],
        notice=NoticeSettings(
            uri="http://127.0.0.1:8000/demo/privacy", version="1", text=DEMO_NOTICE_TEXT
        ),
        controller="ClearSignal demo shop",
    )
