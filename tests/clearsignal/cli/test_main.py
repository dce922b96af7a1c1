"""The command line, run as a user runs it: a separate process."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import clearsignal


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = clearsignal("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("serve", "migrate", "jobs", "audit"):
        assert command in result.stdout


def test_migrate_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    first = clearsignal("migrate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Applied ")
    second = clearsignal("migrate", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("Schema is up to date")
    assert (tmp_path / "data" / "clickhouse").is_dir()


def test_a_broken_settings_file_fails_with_one_paragraph_naming_the_field(tmp_path: Path) -> None:
    (tmp_path / "clearsignal.toml").write_text(
        '[[sites]]\nid = "Shop!"\nallowed_origins = ["https://shop.example"]\n'
        '[sites.notice]\nuri = "https://shop.example/privacy"\nversion = "1"\ntext = "t"\n'
    )
    result = clearsignal("migrate", cwd=tmp_path)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "\n" not in message
    assert "field 'sites.0.id'" in message
    assert "clearsignal.toml" in message
    assert "should match pattern" in message
    assert not (tmp_path / "data").exists()
