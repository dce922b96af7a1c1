"""The sites a command names: each one must be in the settings, or the command says which
ones are and stops (exit status 2)."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from clearsignal.settings import Settings, SiteSettings

__all__ = ["known_site", "unknown_sites"]


def unknown_sites(settings: Settings, named: Iterable[str]) -> bool:
    """True, after printing them and the sites there are, when some of ``named`` are not
    sites of ``settings``."""
    known = sorted(site.id for site in settings.sites)
    unknown = sorted(set(named) - set(known))
    if unknown:
        names = ", ".join(repr(site) for site in unknown)
        print(f"clearsignal: unknown site {names}; the sites are: {', '.join(known)}",
              file=sys.stderr)  # fmt: skip
    return bool(unknown)


def known_site(settings: Settings, site_id: str) -> SiteSettings | None:
    """The site ``site_id`` of ``settings``; None, after saying which sites there are, when
    it is not one."""
    site = settings.site(site_id)
    if site is None:
        unknown_sites(settings, [site_id])
    return site
