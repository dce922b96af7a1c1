"""The demo's seeded history: a simulated month of the demo shop, written once.

``make run`` calls ``clearsignal demo seed`` before serving: on a store with no
recorded seeding it simulates ``DEMO_VISITORS`` visitors over ``DEMO_DAYS`` days ending
now (``simulator.simulation``: consent first, then events through the real ingest
pipeline, straight into the store; a few seconds on the embedded engine), then runs
every job once, so the sessions, signals, summaries and validation report have
something to show. The seeding is recorded in ``job_runs`` as job ``demo.seed``; once
it succeeded, later calls find it and do nothing, so the history is not added again on
every start. (If a seeding stops half-way, its run is recorded as failed and the next
call seeds again, beside what the broken run wrote.)

Nothing is seeded unless demo mode is on (``settings.demo``) and a site ``demo`` is
configured. ``clearsignal simulate`` adds more simulated visitors at any time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aggregator.jobs.runner import Job, JobContext, JobOutcome, JobResult, JobRunner
from clearsignal.settings import Settings
from collector.demo.shop import DEMO_SITE
from collector.runtime import Services
from simulator.simulation import SimulationSummary, simulate

__all__ = ["DEMO_DAYS", "DEMO_SEED", "DEMO_VISITORS", "SEED_JOB", "DemoSeeding", "seed_demo"]

DEMO_VISITORS = 2_000
DEMO_DAYS = 30
DEMO_SEED = 1
SEED_JOB = "demo.seed"


@dataclass(frozen=True)
class DemoSeeding:
    """What ``seed_demo`` did: nothing (and why), or the simulation and the jobs after it."""

    seeded: bool
    reason: str
    summary: SimulationSummary | None = None
    jobs: list[JobOutcome] = field(default_factory=list)
    failed: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and all(o.status == "ok" for o in self.jobs)

    def lines(self) -> list[str]:
        lines = [self.reason]
        if self.summary is not None:
            lines.extend(self.summary.lines())
        lines.extend(
            f"{o.job}: {o.status} in {o.seconds:.2f} s"
            + (f" ({o.result.detail})" if o.result.detail else "")
            + (f": {o.error}" if o.error else "")
            for o in self.jobs
        )
        return lines


def seeded_at(services: Services) -> datetime | None:
    """When the demo history was seeded, or None if it never was (successfully)."""
    found = services.store.scalar(
        "SELECT max(finished_at) FROM job_runs WHERE job = {job:String} AND status = 'ok'",
        {"job": SEED_JOB},
    )
    return found if isinstance(found, datetime) and found.year > 1970 else None


def seed_demo(
    services: Services,
    settings: Settings,
    visitors: int = DEMO_VISITORS,
    days: int = DEMO_DAYS,
    seed: int = DEMO_SEED,
) -> DemoSeeding:
    """Seed the demo site's history once (see the module docstring)."""
    if not settings.demo or settings.site(DEMO_SITE) is None:
        return DemoSeeding(False, "Demo mode is off or there is no site 'demo': nothing to seed.")
    earlier = seeded_at(services)
    if earlier is not None:
        return DemoSeeding(
            False, f"The demo history was seeded on {earlier:%Y-%m-%d %H:%M} UTC; not again."
        )
    simulated: list[SimulationSummary] = []

    def run(_: JobContext) -> JobResult:
        summary = simulate(services.store, settings, visitors, days, seed, site=DEMO_SITE)
        simulated.append(summary)
        return JobResult(summary.visitors, summary.events, f"{summary.events} events")

    description = f"simulate {visitors} visitors of the demo shop over {days} days"
    outcome = JobRunner(services.store, [Job(SEED_JOB, description, 0, run)]).run(SEED_JOB)
    if outcome.status != "ok":
        return DemoSeeding(False, f"Seeding the demo history failed: {outcome.error}", failed=True)
    reason = f"Seeded the demo history: {visitors:,} visitors over {days} days."
    return DemoSeeding(True, reason, simulated[0], services.run_every_job())
