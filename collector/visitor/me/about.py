"""What a site collects, why and for how long: the part of /me that is the same for everyone.

Served without a browser id (``GET /api/me/about?site=<id>``), so that a visitor without
analytics consent also learns what anonymous counting means, and embedded in every
export so that a download explains itself.
"""

from __future__ import annotations

from typing import Any

from aggregator.signals.rules import RULES
from clearsignal.purposes import Purpose
from clearsignal.settings import SiteSettings
from consent.ledger import CONSENT_LIFETIME

__all__ = ["COLLECTED", "NEVER_COLLECTED", "site_explanation"]

COLLECTED = (
    "The pages you view: their address, with query parameters removed except campaign tags "
    "the site allows, and the page you came from.",
    "Clicks on links and buttons: which element (its label or place on the page), never "
    "what else is on your screen.",
    "How far you scroll and how long a page is in front of you.",
    "Clicks that got no response, and fast repeated clicks on one spot.",
    "Forms you start, send or leave: the form's name and the names of the fields you touched.",
    "Steps of the purchase the site marks (cart, shipping, payment, purchase).",
    "Your kind of device (desktop, mobile, tablet), browser family and operating system.",
    "Your country, looked up from your IP address when an event arrives (the address is not kept).",
)

NEVER_COLLECTED = (
    "Your IP address.",
    "Your browser's full user-agent string.",
    "Anything you type into a form.",
    "Your browser id itself: only a keyed hash of it, which only your browser can produce again.",
    "Cookies or identifiers of other sites; no third-party scripts or trackers.",
    "What you do on other sites.",
)


def _anonymous_counting(site: SiteSettings) -> str:
    if site.strict:
        return (
            "This site counts nothing without your consent: without it, no event of yours "
            "is sent or stored."
        )
    measurement = site.purpose(Purpose.MEASUREMENT)
    how = f" {measurement.description}" if measurement else ""
    return (
        "Without your analytics consent nothing is linked to you. The site still counts "
        "page views anonymously: each count carries a code made from that day's secret "
        "salt, which is destroyed after 48 hours, so no one (the site included) can tell "
        f"that two counts on different days were yours.{how} Your browser's 'Do Not "
        "Track' or Global Privacy Control setting turns this counting off too."
    )


def site_explanation(site: SiteSettings) -> dict[str, Any]:
    """The public explanation of one site's processing, as /me shows it."""
    return {
        "site": {
            "id": site.id,
            "name": site.name or site.id,
            "controller": site.controller or site.name or site.id,
            "contact": site.contact,
            "notice": {
                "uri": site.notice.uri,
                "version": site.notice.version,
                "language": site.notice.language,
            },
        },
        "purposes": [
            {
                "id": purpose.id.value,
                "lawful_basis": purpose.lawful_basis.value,
                "description": purpose.description,
                "needs_consent": purpose.id != Purpose.MEASUREMENT or site.strict,
            }
            for purpose in site.purposes
        ],
        "anonymous_counting": _anonymous_counting(site),
        "collected": list(COLLECTED),
        "never_collected": list(NEVER_COLLECTED),
        "retention": {
            "events_days": site.retention_days,
            "signals_days": site.retention_days,
            "consent_days": CONSENT_LIFETIME.days,
            "consent_records": "Kept as the proof of what you agreed to and when (GDPR "
            "Art. 7(1)); they hold the keyed hash of your browser id, never your events.",
        },
        "rules": [
            {
                "id": rule.id,
                "version": rule.version,
                "title": rule.title,
                "why": rule.why,
                "may_do": rule.may_do,
            }
            for rule in RULES
        ],
    }
