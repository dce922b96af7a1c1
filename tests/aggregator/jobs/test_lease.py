"""The job lease: one holder at a time, handed over on release or expiry, decided by the
store when several claim at once; a runner without it stands by."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aggregator.jobs.lease import JobLease
from aggregator.jobs.runner import Job, JobResult, JobRunner
from aggregator.store.client import Store

TTL = timedelta(seconds=30)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_one_holder_at_a_time_and_the_next_term_after_a_release(migrated_store: Store) -> None:
    first, second = JobLease(migrated_store), JobLease(migrated_store)
    assert first.acquire()
    assert first.term == 1
    assert not second.acquire()
    assert second.term is None
    assert first.acquire()  # kept
    first.release()
    assert second.acquire()
    assert second.term == 2
    assert not first.acquire()
    state = second.current()
    assert state is not None
    assert state.holder == second.holder


def test_an_expired_term_is_taken_over_and_its_old_holder_knows(migrated_store: Store) -> None:
    clock = Clock()
    stalled, standby = (JobLease(migrated_store, ttl=TTL, clock=clock) for _ in range(2))
    assert stalled.acquire()
    clock.now += TTL - timedelta(seconds=1)
    assert not standby.acquire()
    clock.now += timedelta(seconds=2)
    assert standby.acquire()
    assert standby.term == 2
    assert not stalled.acquire()
    assert stalled.term is None


def test_of_many_claiming_one_term_at_once_exactly_one_holds_it(migrated_store: Store) -> None:
    leases = [JobLease(migrated_store) for _ in range(6)]
    start = threading.Barrier(len(leases))
    held: list[bool] = [False] * len(leases)

    def claim(i: int) -> None:
        start.wait()
        held[i] = leases[i].acquire()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(leases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(held) == 1, held
    winner = leases[held.index(True)]
    state = winner.current()
    assert state is not None
    assert state.holder == winner.holder


def test_a_runner_whose_lease_is_held_elsewhere_stands_by_and_records_nothing(
    migrated_store: Store,
) -> None:
    ran: list[str] = []
    job = Job("x.y", "a job", 60, lambda _: ran.append("x.y") or JobResult())  # type: ignore[func-returns-value]
    holder = JobLease(migrated_store)
    assert holder.acquire()
    outcome = JobRunner(migrated_store, [job], JobLease(migrated_store)).run("x.y")
    assert outcome.status == "standby"
    assert holder.holder in outcome.error
    assert ran == []
    assert migrated_store.scalar("SELECT count() FROM job_runs") == 0
    holder.release()
    assert JobRunner(migrated_store, [job], JobLease(migrated_store)).run("x.y").status == "ok"
    assert ran == ["x.y"]


def test_a_holder_runs_its_jobs_without_asking_the_store_while_its_term_has_time_to_run(
    migrated_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On main every job run read the lease (two queries), every few seconds on a quiet
    server; no other process can claim a term before it expires."""
    clock = Clock()
    clock.now = clock.now.replace(microsecond=0)  # as the store keeps it, to the millisecond
    lease = JobLease(migrated_store, ttl=TTL, clock=clock)
    job = Job("x.y", "a job", 60, lambda _: JobResult())
    runner = JobRunner(migrated_store, [job], lease)
    assert runner.run("x.y").status == "ok"  # claims the term
    asked: list[str] = []
    rows = migrated_store.rows

    def counted(sql: str, *more: Any) -> Any:
        asked.append(sql)
        return rows(sql, *more)

    monkeypatch.setattr(migrated_store, "rows", counted)
    clock.now += TTL / 2  # more than a third of the term left
    assert runner.run("x.y").status == "ok"
    assert not [sql for sql in asked if "job_leases" in sql]
    clock.now += TTL / 4  # under a third left: it asks, and renews
    assert runner.run("x.y").status == "ok"
    assert [sql for sql in asked if "job_leases" in sql]
    assert lease.current() is not None
    assert lease.current().expires_at == clock.now + TTL  # type: ignore[union-attr]
    other = JobLease(migrated_store, ttl=TTL, clock=clock)
    assert not other.acquire()  # the renewed term is still this runner's
