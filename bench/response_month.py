"""One simulated month of the response loop: cases opened day by day from the findings of
a simulated shop, a simulated team answering them, and the figures the dashboard shows.

On the embedded engine in a temporary data directory:

1. the simulator writes --visitors visitors over --days days (browser and the site's
   systems; linked customers who allow personalization have their reference sealed);
2. sessions and signals are computed; then, for each day of the period, the cases job
   runs with its clock at the end of that day, so cases open as their findings end;
3. a simulated team (seeded) answers each case it picks up: it picks up --answered of
   them, contacts the customer after a delay drawn around --contact-hours and resolves
   after another around --resolve-hours; the rest stay open or are dismissed;
4. it prints the cases opened, the share resolved within the site's target (24 h) with
   the median times, and per rule the later outcome of answered against unanswered
   customers with 95% intervals (an association), plus the time and peak RSS.

    .venv/bin/python bench/response_month.py [--visitors 3000] [--days 30]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.cases.desk import CaseDesk
from aggregator.cases.outcomes import case_outcomes
from aggregator.cases.response_times import response_report
from aggregator.cases.state import Action
from aggregator.jobs.cases import CasesJob
from aggregator.jobs.sessions import SessionsJob
from aggregator.jobs.signals import SignalsJob
from aggregator.jobs.validation import goal_condition
from aggregator.store.client import open_store
from aggregator.store.migrations import migrate
from clearsignal.settings import Settings, demo_site
from consent.pseudonyms import SiteKeys
from simulator.simulation import simulate


def team(desk: CaseDesk, rng: random.Random, args: argparse.Namespace, now: datetime) -> None:
    """Answer the cases opened since the last call, as a team would over the next days."""
    for case in desk.book.states(desk.site.id):
        if case.actions or not case.is_open:
            continue
        opened = case.record.opened_at
        if rng.random() >= args.answered:
            if rng.random() < 0.3:
                desk.book.act(
                    case,
                    Action.DISMISSED,
                    "admin:team",
                    now=opened + timedelta(hours=rng.uniform(1, 48)),
                )
            continue
        contact = opened + timedelta(hours=rng.lognormvariate(0, 0.8) * args.contact_hours)
        resolve = contact + timedelta(hours=rng.lognormvariate(0, 0.8) * args.resolve_hours)
        case = desk.book.act(case, Action.CLAIMED, "admin:team", now=opened + timedelta(minutes=5))
        if contact <= now + timedelta(days=1):
            case = desk.book.act(case, Action.CONTACTED, "admin:team", now=contact)
        if resolve <= now + timedelta(days=1):
            desk.book.act(case, Action.RESOLVED, "admin:team", now=resolve)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=3000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--answered", type=float, default=0.8)
    parser.add_argument("--contact-hours", type=float, default=6.0)
    parser.add_argument("--resolve-hours", type=float, default=8.0)
    args = parser.parse_args()
    started = time.perf_counter()
    directory = Path(tempfile.mkdtemp(prefix="clearsignal-response-"))
    site = demo_site().model_copy(update={"k_anonymity": 5})
    settings = Settings(data_dir=directory, sites=[site])
    store = open_store(settings.dsn, "clearsignal")
    migrate(store)
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    simulate(store, settings, args.visitors, args.days, args.seed, end=end)
    SessionsJob(store, settings, clock=lambda: end).run_once()
    SignalsJob(store, settings, clock=lambda: end).run_once()
    desk = CaseDesk(store, site, SiteKeys(settings.site_key_dir).key(site.id))
    rng = random.Random(args.seed)
    for day in range(args.days - 1, -1, -1):
        moment = end - timedelta(days=day)
        CasesJob(store, settings, clock=lambda moment=moment: moment).run_once()
        team(desk, rng, args, moment)
    states = desk.book.states(site.id)
    now = end + timedelta(days=2)  # every case opened in the month is due
    report = response_report(
        states, now, end - timedelta(days=args.days), 24, 0.9, site.k_anonymity
    )
    overall = report.overall
    print(f"simulated {args.visitors:,} visitors over {args.days} days (seed {args.seed}); "
          f"team answers {args.answered:.0%} of cases")  # fmt: skip
    print(f"cases opened: {len(states):,} ({overall.customers:,} customers)")
    share = overall.share
    print(f"resolved within 24 h: {overall.in_target:,} of {overall.due:,} due "
          f"({'no figure' if share is None else f'{share:.1%}'}; target 90%)")  # fmt: skip

    def hours(value: timedelta | None) -> str:
        return "no figure" if value is None else f"{value.total_seconds() / 3600:.1f} h"

    print(f"median first response: {hours(overall.median_first_response)}; "
          f"median resolution: {hours(overall.median_resolution)}")  # fmt: skip
    for rule in report.by_rule:
        if rule.suppressed:
            print(f"  {rule.label}: fewer than k customers, not shown")
        else:
            print(
                f"  {rule.label}: {rule.cases} cases, resolved in time {rule.in_target}/{rule.due}"
            )
    for found in case_outcomes(
        store, site, goal_condition(site), states, now, end - timedelta(days=args.days)
    ):
        if found.suppressed:
            print(f"outcome {found.rule_id}: a cell under k, not shown")
            continue
        answered, unanswered = found.rate(True), found.rate(False)

        def text(rate: tuple[float, float, float] | None, n: int) -> str:
            return (
                "no figure"
                if rate is None
                else f"{rate[0]:.1%} of {n} [{rate[1]:.1%}, {rate[2]:.1%}]"
            )

        diff = found.difference
        print(f"outcome {found.rule_id} ({found.outcome}): answered {text(answered, found.responded)}; "
              f"unanswered {text(unanswered, found.unanswered)}; difference "
              f"{'no figure' if diff is None else f'{diff * 100:+.1f} points'}")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"took {time.perf_counter() - started:.1f} s; peak RSS {peak:.0f} MiB")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
