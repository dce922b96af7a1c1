"""The cases job: open a case for each new actionable finding about a consenting customer,
and forget the cases of visitors who no longer allow personalization
(``aggregator.cases.opening``)."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.cases.book import CaseBook
from aggregator.cases.opening import forget_unconsented, open_cases
from aggregator.jobs.base import StoreJob
from consent.pseudonyms import SiteKeys

__all__ = ["CasesJob", "CasesRun"]


@dataclass
class CasesRun:
    opened: int = 0
    forgotten: int = 0
    """Visitors whose cases and reference were deleted for want of a personalization grant."""


class CasesJob(StoreJob):
    def run_once(self) -> CasesRun:
        with self._lock:
            now = self._clock()
            keys = SiteKeys(self._settings.site_key_dir)
            run = CasesRun()
            for site in self._settings.sites:
                run.forgotten += forget_unconsented(self._store, site, now)
                book = CaseBook(self._store, keys.key(site.id), site.response.note_chars)
                run.opened += open_cases(self._store, book, site, now)
            return run
