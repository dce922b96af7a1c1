"""``clearsignal admin`` and the demo accounts of ``clearsignal serve``: accounts in the users
file with scrypt hashes only, passwords never taken from the command line."""

from __future__ import annotations

import io
import logging
import os
import re
import stat
import sys
from pathlib import Path

import pytest

from clearsignal.cli.main import build_parser, main
from clearsignal.settings import Settings
from collector.admin.accounts import AdminAccounts, read_file_users, verify_password
from collector.admin.demo_accounts import announce_demo_accounts

PASSWORD = "a long enough password"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("CLEARSIGNAL_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLEARSIGNAL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def run(monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["admin", *args])


def test_adds_lists_updates_and_removes_accounts(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ("add-user", "alice", "--role", "site_owner", "--site", "demo", "--password-stdin")
    assert run(monkeypatch, *add, stdin=PASSWORD + "\n") == 0
    path = data_dir / "admin" / "users.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert PASSWORD not in path.read_text()
    (alice,) = read_file_users(path)
    assert (alice.role.value, alice.sites) == ("site_owner", ["demo"])
    assert verify_password(PASSWORD, alice.password_hash)
    assert not verify_password(PASSWORD + "!", alice.password_hash)
    assert "added alice (site_owner; demo)" in capsys.readouterr().out

    answers = iter(["another long password", "another long password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert run(monkeypatch, "add-user", "alice", "--role", "privacy_officer") == 0
    (alice,) = read_file_users(path)
    assert alice.role.value == "privacy_officer"
    assert alice.sites == []
    assert "updated alice (privacy_officer; every site)" in capsys.readouterr().out

    assert run(monkeypatch, "list-users") == 0
    assert re.search(r"alice\s+privacy_officer\s+every site", capsys.readouterr().out)
    assert run(monkeypatch, "remove-user", "alice") == 0
    assert read_file_users(path) == []
    assert run(monkeypatch, "remove-user", "alice") == 1


def test_refuses_short_passwords_unknown_sites_and_owners_without_sites(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = ("add-user", "bob", "--role", "site_owner", "--password-stdin")
    assert run(monkeypatch, *owner, "--site", "demo", stdin="short\n") == 2
    assert "a password needs 12 to 1024 characters" in capsys.readouterr().err
    assert run(monkeypatch, *owner, "--site", "nowhere", stdin=PASSWORD) == 2
    assert "unknown site 'nowhere'; the sites are: demo" in capsys.readouterr().err
    assert run(monkeypatch, *owner, stdin=PASSWORD) == 2
    assert "a site_owner account must name its sites" in capsys.readouterr().err
    assert not (data_dir / "admin" / "users.json").exists()


def test_the_password_is_never_an_argument() -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["admin", "add-user", "eve", "--role", "site_owner", "--password", "x"])


def test_hash_password_prints_a_value_for_the_settings_file(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "hash-password", "--password-stdin", stdin=PASSWORD) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("scrypt$ln=17,r=8,p=1$")
    assert verify_password(PASSWORD, printed)


def test_demo_mode_creates_three_accounts_once_and_logs_their_passwords(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with caplog.at_level(logging.WARNING, logger="clearsignal.admin"):
        announce_demo_accounts(settings)
        announce_demo_accounts(settings)
    passwords = dict(re.findall(r"account for /admin: (\w+), password (\S+) ", caplog.text))
    assert set(passwords) == {"owner", "officer", "agent"}
    accounts = AdminAccounts(settings)
    for username, role in (
        ("owner", "site_owner"),
        ("officer", "privacy_officer"),
        ("agent", "support_agent"),
    ):
        signed_in = accounts.authenticate(username, passwords[username])
        assert signed_in is not None
        assert signed_in.user.role.value == role
    assert all(
        p not in (tmp_path / "data" / "admin" / "users.json").read_text()
        for p in passwords.values()
    )
    caplog.clear()
    announce_demo_accounts(Settings(data_dir=tmp_path / "other", demo=False))
    assert caplog.text == ""
    assert not (tmp_path / "other").exists()
