"""``clearsignal demo seed`` as ``make run`` runs it: after ``migrate``, in its own process,
on the embedded engine under a fresh data directory; again on the next start."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import clearsignal


def test_make_runs_seeding_happens_on_the_first_start_only(tmp_path: Path) -> None:
    env = {"CLEARSIGNAL_DATA_DIR": str(tmp_path / "data")}
    assert clearsignal("migrate", cwd=tmp_path, env=env).returncode == 0

    first = clearsignal("demo", "seed", "--visitors", "30", "--days", "2", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Seeded the demo history: 30 visitors over 2 days.")
    assert "Simulated 30 visitors of site 'demo' over 2 days" in first.stdout
    for job in ("consent.sequence", "sessions.compute", "signals.compute", "summaries.compute"):
        assert f"{job}: ok in" in first.stdout

    again = clearsignal("demo", "seed", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("The demo history was seeded on ")
    assert again.stdout.strip().endswith("not again.")


def test_without_demo_mode_nothing_is_seeded(tmp_path: Path) -> None:
    env = {"CLEARSIGNAL_DATA_DIR": str(tmp_path / "data"), "CLEARSIGNAL_DEMO": "false"}
    result = clearsignal("demo", "seed", cwd=tmp_path, env=env)
    assert (result.returncode, result.stdout) == (
        0,
        "Demo mode is off (setting `demo`): nothing to seed.\n",
    )
    assert not (tmp_path / "data").exists()  # not even the store was opened
