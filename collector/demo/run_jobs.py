"""The demo's "Run jobs now" action: ``POST /demo/run-jobs?back=/demo/...``.

The scheduler runs the jobs every few minutes; a newcomer trying the demo should not
have to wait. The action first writes what the spool holds to the store (the events the
visitor's browser sent a moment ago), then runs every job once, in the deployment's
order (``aggregator.jobs.registry``, as ``clearsignal jobs run-once all`` does), in a
worker thread, and answers when they are done with a page saying what each job did,
linking to /me and back to the shop page it was pressed on (``back``, a /demo/ path).

Served only in demo mode (``settings.demo``), like the rest of the shop. Guarded:

* against cross-site requests: the ``Origin`` header (or, without one, the
  ``Referer``) must be this server's own origin or one of the demo site's origins;
  anything else is refused with 403 — a page elsewhere cannot make a visitor's browser
  start the jobs;
* against floods: one run at a time, and at most ``BURST`` runs, then one every
  ``SECONDS_PER_RUN`` seconds; beyond that 429 with ``Retry-After``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from aggregator.errors import StoreError
from aggregator.jobs.runner import JobOutcome
from clearsignal.settings import SiteSettings
from collector.demo.layout import Frame, render_page, shop_headers
from collector.origins import site_accepts
from collector.rate_limit import RateLimiter
from collector.state import lifespan_state

__all__ = ["BURST", "DEMO_STATE", "SECONDS_PER_RUN", "DemoJobs", "RunJobsAction", "demo_jobs"]

DEMO_STATE = "demo"
BURST = 3
SECONDS_PER_RUN = 10.0
_BACK = re.compile(r"^/demo/[A-Za-z0-9/_-]*(\?[A-Za-z0-9_=&-]*)?$")


@dataclass(frozen=True)
class DemoJobs:
    """What the action needs of the running server (the app's lifespan gives it)."""

    run_every_job: Callable[[], list[JobOutcome]]
    """Write out the spool, then run each job once, in the deployment's order."""


def demo_jobs(request: Request) -> DemoJobs:
    return lifespan_state(request, DEMO_STATE, DemoJobs)


def _back(request: Request) -> str:
    asked = request.query_params.get("back", "")
    return asked if _BACK.match(asked) else "/demo/"


def _report(outcomes: list[JobOutcome], seconds: float, site: SiteSettings, back: str) -> str:
    failed = sum(outcome.status != "ok" for outcome in outcomes)
    rows = "".join(
        f'        <tr><th scope="row">{escape(o.job)}</th>'
        f'<td class="{"ok" if o.status == "ok" else "failed"}">{escape(o.status)}</td>'
        f"<td>{o.seconds:.2f} s</td><td>{o.result.rows_in:,}</td><td>{o.result.rows_out:,}</td>"
        f"<td>{escape(o.error or o.result.detail)}</td></tr>\n"
        for o in outcomes
    )
    verdict = f"{failed} failed: see the server's log" if failed else "all succeeded"
    return f"""    <h1>The jobs ran</h1>
    <p class="lede" id="jobs-summary">{len(outcomes)} jobs ran in {seconds:.1f} s; {verdict}.
      Your signals, if your behaviour matched a rule, are now on your data page.</p>
    <p class="actions">
      <a class="button" id="see-my-data" href="/me?site={escape(site.id)}">What do you know about me?</a>
      <a href="{escape(back)}">Back to where you were</a>
    </p>
    <table class="jobs">
      <caption>What each job did, in the order they ran</caption>
      <thead>
        <tr><th scope="col">Job</th><th scope="col">Result</th><th scope="col">Took</th>
          <th scope="col">Rows in</th><th scope="col">Rows out</th><th scope="col">Detail</th></tr>
      </thead>
      <tbody>
{rows}      </tbody>
    </table>
"""


def _refusal(heading: str, text: str, back: str) -> str:
    return f"""    <h1>{escape(heading)}</h1>
    <p class="lede">{escape(text)}</p>
    <p><a href="{escape(back)}">Back to the shop</a></p>
"""


class RunJobsAction:
    """The endpoint, with its own limit and lock (one per app)."""

    def __init__(self, site: SiteSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.site = site
        self._limiter = RateLimiter(rate=1 / SECONDS_PER_RUN, burst=BURST, clock=clock)
        self._running = threading.Lock()

    def _answer(self, frame: Frame, title: str, main: str, status: int) -> HTMLResponse:
        page = render_page(title, main, frame)
        headers = shop_headers()
        if status == 429:
            headers["Retry-After"] = str(int(SECONDS_PER_RUN))
        return HTMLResponse(page, status_code=status, headers=headers)

    async def run(self, request: Request) -> HTMLResponse:
        back = _back(request)
        frame = Frame(self.site, "/demo/run-jobs", demo_controls=False, tracked=False)
        if not site_accepts(request, self.site, own_pages=True):
            text = (
                "The jobs run only from a page of this shop: this request came from "
                "another site, or its browser sent no Origin header. Press the button "
                "on one of the shop's pages."
            )
            return self._answer(frame, "Refused", _refusal("Refused", text, back), 403)
        if not self._limiter.take("demo", 1) or not self._running.acquire(blocking=False):
            text = (
                f"The jobs ran a moment ago or are running now. Wait {SECONDS_PER_RUN:.0f} "
                "seconds, then press the button again."
            )
            main = _refusal("Not so fast", text, back)
            return self._answer(frame, "Not so fast", main, 429)
        started = time.perf_counter()
        try:
            outcomes = await run_in_threadpool(demo_jobs(request).run_every_job)
        except StoreError as exc:
            text = f"The store did not answer ({exc}); try again once /readyz says ok."
            main = _refusal("The store is unavailable", text, back)
            return self._answer(frame, "Store unavailable", main, 503)
        finally:
            self._running.release()
        report = _report(outcomes, time.perf_counter() - started, self.site, back)
        return self._answer(frame, "The jobs ran", report, 200)
