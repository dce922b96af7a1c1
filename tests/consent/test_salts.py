"""Daily measurement salts: shared by every process, destroyed when the privacy notice says,
48 hours after their day began, to the hour; no process keeps one in memory longer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aggregator.jobs.runner import Job, JobResult, JobRunner
from aggregator.jobs.scheduler import Scheduler
from aggregator.store.client import Store
from consent.salts import SALT_LIFETIME, DailySalts

DAY = date(2026, 12, 1)
MIDNIGHT = datetime(2026, 12, 1, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def stored_days(store: Store) -> list[date]:
    return [row[0] for row in store.rows("SELECT DISTINCT day FROM salts ORDER BY day")]


def test_a_salt_lives_exactly_48_hours_from_the_start_of_its_day(migrated_store: Store) -> None:
    clock = Clock(MIDNIGHT)
    salts = DailySalts(migrated_store, clock)
    salts.today()
    alive_until = None
    for hour in range(0, 73):
        clock.now = MIDNIGHT + timedelta(hours=hour)
        salts.destroy_expired()
        if DAY not in stored_days(migrated_store):
            alive_until = hour
            break
    assert alive_until == 48, f"the salt of {DAY} was destroyed at hour {alive_until}"
    assert timedelta(hours=48) == SALT_LIFETIME


def test_the_hour_before_its_end_the_salt_is_still_there(migrated_store: Store) -> None:
    clock = Clock(MIDNIGHT + timedelta(hours=47, minutes=59, seconds=59))
    salts = DailySalts(migrated_store, Clock(MIDNIGHT))
    salts.today()
    assert DailySalts(migrated_store, clock).destroy_expired() == []
    clock.now = MIDNIGHT + timedelta(hours=48)
    assert DailySalts(migrated_store, clock).destroy_expired() == [DAY]


def test_processes_agree_on_one_salt_per_day(migrated_store: Store) -> None:
    clock = Clock(MIDNIGHT + timedelta(hours=3))
    first, second = DailySalts(migrated_store, clock), DailySalts(migrated_store, clock)
    assert first.today() == second.today()
    first.prepare()
    assert second.for_day(DAY + timedelta(days=1)) == first.for_day(DAY + timedelta(days=1))


def test_a_process_forgets_a_salt_once_its_day_is_over(migrated_store: Store) -> None:
    clock = Clock(MIDNIGHT + timedelta(hours=23))
    salts = DailySalts(migrated_store, clock)
    salts.prepare()
    assert salts.cached(DAY) is not None
    clock.now = MIDNIGHT + timedelta(days=1, minutes=1)
    salts.prepare()  # the chore every collector runs every few minutes
    assert salts.cached(DAY) is None
    assert salts.cached(DAY + timedelta(days=1)) is not None


def test_the_salt_job_runs_at_the_top_of_every_hour(migrated_store: Store) -> None:
    def noop(_: object) -> JobResult:
        return JobResult()

    hourly = Job("salts.rotate", "rotate", 3600.0, noop, aligned=True)  # type: ignore[arg-type]
    scheduler = Scheduler(JobRunner(migrated_store, [hourly]))
    trigger = scheduler.trigger("salts.rotate")
    after = datetime(2026, 12, 3, 10, 17, 42, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, after) == datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
