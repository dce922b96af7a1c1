"""The team's response figures against a hand count, and their k-anonymity: no group of
fewer than k customers, none derivable by subtracting shown parts from the whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.cases.response_times import response_report
from aggregator.cases.state import Action, CaseAction, CaseRecord, CaseState

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = MONDAY + timedelta(days=20)


def case(
    n: int,
    rule: str,
    opened: datetime,
    steps: list[tuple[Action, timedelta]],
    customer: str | None = None,
) -> CaseState:
    record = CaseRecord(
        "demo", f"v{n}", f"{n:032x}", customer or f"c{n}", rule, 1, opened, opened, 1.0,
        opened, opened + timedelta(days=180),
    )  # fmt: skip
    actions = [
        CaseAction(record.case_id, f"{i:04d}", opened + after, "admin:ana", action)
        for i, (action, after) in enumerate(steps)
    ]
    return CaseState.fold(record, actions)


H = timedelta(hours=1)
C, R, D = Action.CONTACTED, Action.RESOLVED, Action.DISMISSED


def test_the_figures_match_a_hand_count() -> None:
    week2 = MONDAY + timedelta(days=7)
    cases = [
        case(1, "churn_risk", MONDAY, [(C, 1 * H), (R, 5 * H)]),  # in target
        case(2, "churn_risk", MONDAY, [(C, 3 * H), (R, 30 * H)]),  # resolved late
        case(3, "churn_risk", MONDAY, [(D, 2 * H)]),  # dismissed: due, not in target
        case(4, "escalation", MONDAY, []),  # never answered, long past target
        case(5, "escalation", week2, [(R, 20 * H)]),  # in target, no contact first
        case(6, "escalation", week2, [(C, 10 * H)]),  # contacted, still open, past target
        case(7, "escalation", NOW - 2 * H, [(C, 1 * H)]),  # within its target: not due yet
    ]
    report = response_report(cases, NOW, MONDAY, 24, 0.9, k=3)

    overall = report.overall
    assert (overall.customers, overall.cases, overall.due, overall.in_target) == (7, 7, 6, 2)
    assert overall.share == 2 / 6
    # first responses: 1, 3, 20, 10, 1 hours (the dismissal is no response) -> median 3 h
    assert overall.median_first_response == 3 * H
    # resolutions: 5, 30, 20 hours -> median 20 h
    assert overall.median_resolution == 20 * H
    by_rule = {f.label: f for f in report.by_rule}
    assert (by_rule["churn_risk"].due, by_rule["churn_risk"].in_target) == (3, 1)
    assert (by_rule["escalation"].due, by_rule["escalation"].in_target) == (3, 1)
    weeks = {f.label: (f.cases, f.due, f.in_target, f.suppressed) for f in report.by_week}
    # the second week's 2 customers and the third's 1 are each under k: hidden
    assert weeks == {
        "2026-11-02": (4, 4, 1, False),
        "2026-11-09": (0, 0, 0, True),
        "2026-11-16": (0, 0, 0, True),
    }


def test_a_small_week_is_hidden_and_not_derivable_from_the_whole() -> None:
    cases = [
        *(case(i, "churn_risk", MONDAY, [(R, H)]) for i in range(5)),
        *(case(10 + i, "churn_risk", MONDAY + timedelta(days=7), [(R, H)]) for i in range(4)),
        case(20, "churn_risk", MONDAY + timedelta(days=14), []),  # one customer alone
    ]
    report = response_report(cases, NOW, MONDAY, 24, 0.9, k=3)

    assert report.overall.customers == 10
    shown = {f.label: f.suppressed for f in report.by_week}
    # the lone week is under k; hiding it alone would leave it as all minus the others,
    # so the smallest other week (4 customers) goes too: 1 + 4 >= k
    assert shown == {"2026-11-02": False, "2026-11-09": True, "2026-11-16": True}
    hidden = [f for f in report.by_week if f.suppressed]
    assert all((f.cases, f.due, f.in_target, f.share) == (0, 0, 0, None) for f in hidden)


def test_fewer_than_k_customers_show_nothing_and_one_customer_counts_once() -> None:
    same = [case(i, "escalation", MONDAY, [(R, H)], customer="c-same") for i in range(5)]
    report = response_report(same, NOW, MONDAY, 24, 0.9, k=3)
    assert report.overall.suppressed
    assert report.overall.share is None
    assert (report.by_rule, report.by_week) == ([], [])
