"""The alerts job: each hour, each site's alerts (``aggregator.reports.alerts``) go to its
webhook (signed like signal deliveries; a JSON body whose ``text`` chat tools show) and by
e-mail to ``response.notify``, once per alert and channel (``notifications``). A channel
that fails is tried again on the next run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import orjson

from aggregator.cases.desk import CaseDesk
from aggregator.jobs.base import StoreJob
from aggregator.reports.alerts import Alert, site_alerts
from aggregator.reports.mail import MailError, send_mail
from aggregator.reports.notifications import NotificationLog
from aggregator.store.client import Store
from aggregator.webhooks.request import Transport, post_webhook, signed_headers
from clearsignal.clock import utc_now
from clearsignal.settings import Settings, SiteSettings
from consent.pseudonyms import SiteKeys

__all__ = ["AlertJob", "AlertRun"]

log = logging.getLogger("clearsignal.jobs")


@dataclass
class AlertRun:
    found: int = 0
    sent: int = 0
    failed: int = 0


class AlertJob(StoreJob):
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Callable[[], datetime] = utc_now,
        transport: Transport = post_webhook,
    ) -> None:
        super().__init__(store, settings, clock)
        self.transport = transport

    def run_once(self) -> AlertRun:
        with self._lock:
            now = self._clock()
            run = AlertRun()
            notifications = NotificationLog(self._store)
            keys = SiteKeys(self._settings.site_key_dir)
            for site in self._settings.sites:
                channels = self._channels(self._settings, site)
                if not channels:  # nobody to tell: nothing to compute
                    continue
                desk = CaseDesk(self._store, site, keys.key(site.id))
                for alert in site_alerts(desk, now):
                    run.found += 1
                    for channel, send in channels:
                        if notifications.sent(site.id, "alert", alert.key, channel):
                            continue
                        error = send(alert)
                        run.sent += not error
                        run.failed += bool(error)
                        if error:
                            log.warning(
                                "alert %s of %s not sent by %s: %s",
                                alert.key,
                                site.id,
                                channel,
                                error,
                            )
                        body = orjson.dumps(alert.document(site.id)).decode()
                        notifications.record(
                            site.id, "alert", alert.key, channel, error, alert.text, body, now
                        )
            return run

    def _channels(
        self, settings: Settings, site: SiteSettings
    ) -> list[tuple[str, Callable[[Alert], str]]]:
        channels: list[tuple[str, Callable[[Alert], str]]] = []
        hook = site.webhook
        if hook is not None:

            def by_webhook(alert: Alert) -> str:
                body = orjson.dumps(alert.document(site.id), option=orjson.OPT_SORT_KEYS)
                headers = signed_headers(
                    hook.secret.get_secret_value().encode(), body, self._clock()
                )
                try:
                    status = self.transport(hook.url, body, headers, hook.timeout_seconds)
                except OSError as exc:
                    return f"no answer: {exc}"
                return "" if 200 <= status < 300 else f"HTTP {status}"

            channels.append(("webhook", by_webhook))
        if settings.mail.host is not None and site.response.notify:

            def by_mail(alert: Alert) -> str:
                try:
                    send_mail(
                        settings.mail,
                        site.response.notify,
                        f"ClearSignal alert: {alert.text[:120]}",
                        alert.text + "\n",
                    )
                except MailError as exc:
                    return str(exc)
                return ""

            channels.append(("mail", by_mail))
        return channels
