"""The digest job: on each site's ``response.digest_weekday``, from 06:00 UTC, the weekly
digest (``aggregator.reports.digest``) goes by e-mail to ``response.notify`` through the
``[mail]`` relay, once per site and week (``notifications``); a relay that refuses is
tried again on the next hourly run."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aggregator.cases.desk import CaseDesk
from aggregator.jobs.base import StoreJob
from aggregator.reports.digest import compose_digest, digest_key
from aggregator.reports.mail import MailError, send_mail
from aggregator.reports.notifications import NotificationLog
from consent.pseudonyms import SiteKeys

__all__ = ["DIGEST_HOUR", "DigestJob", "DigestRun"]

DIGEST_HOUR = 6
log = logging.getLogger("clearsignal.jobs")


@dataclass
class DigestRun:
    sent: int = 0
    failed: int = 0


class DigestJob(StoreJob):
    def run_once(self) -> DigestRun:
        with self._lock:
            now = self._clock()
            run = DigestRun()
            mail = self._settings.mail
            if mail.host is None or now.hour < DIGEST_HOUR:
                return run
            notifications = NotificationLog(self._store)
            keys = SiteKeys(self._settings.site_key_dir)
            for site in self._settings.sites:
                if not site.response.notify or now.weekday() != site.response.digest_weekday:
                    continue
                if notifications.sent(site.id, "digest", digest_key(now), "mail"):
                    continue
                digest = compose_digest(CaseDesk(self._store, site, keys.key(site.id)), now)
                error = ""
                try:
                    send_mail(mail, site.response.notify, digest.subject, digest.text)
                    run.sent += 1
                except MailError as exc:
                    error = str(exc)
                    run.failed += 1
                    log.warning("digest of %s not sent: %s", site.id, error)
                notifications.record(
                    site.id, "digest", digest.key, "mail", error, digest.subject, digest.text, now
                )
            return run
