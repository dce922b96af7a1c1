"""Session cookies, CSRF tokens, revocation and lockout, without a server."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from clearsignal.settings import AdminRole, AdminUser
from collector.admin.accounts import hash_password
from collector.admin.lockout import Attempt, Lockout
from collector.admin.sessions import Revocations, SessionCodec, load_session_key


def user(password: str = "first-password-1", role: AdminRole = AdminRole.SITE_OWNER) -> AdminUser:
    return AdminUser(
        username="dana", role=role, password_hash=hash_password(password, ln=10), sites=["demo"]
    )


@pytest.fixture
def codec(tmp_path: Path) -> SessionCodec:
    key = load_session_key(tmp_path / "admin" / "session.key")
    return SessionCodec(key, Revocations(tmp_path / "admin" / "revoked.json"), 3600)


def test_the_key_is_created_once_private(tmp_path: Path) -> None:
    path = tmp_path / "admin" / "session.key"
    key = load_session_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_session_key(path) == key
    assert len(key) == 32


def test_a_cookie_reads_back_until_it_expires_and_no_changed_byte_passes(
    codec: SessionCodec,
) -> None:
    cookie, session = codec.issue(user(), now=1000)
    assert codec.read(cookie, now=1000 + 3599) == session
    assert codec.read(cookie, now=1000 + 3600) is None
    payload, signature = cookie.split(".")
    for forged in (
        payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature,
        payload + "." + signature[::-1],
        payload,
        "",
        "x" * 2000,
    ):
        assert codec.read(forged, now=1000) is None
    other = SessionCodec(b"k" * 32, codec.revocations, 3600)
    assert other.read(cookie, now=1000) is None


def test_a_new_session_id_each_sign_in_and_csrf_tokens_bound_to_it(codec: SessionCodec) -> None:
    (_, first), (_, second) = codec.issue(user(), 1000), codec.issue(user(), 1000)
    assert first.session_id != second.session_id
    assert codec.csrf_token(first) != codec.csrf_token(second)
    assert codec.token_matches(codec.csrf_token(first), codec.csrf_token(first))
    assert not codec.token_matches(codec.csrf_token(first), None)
    assert codec.login_token("nonce-a") != codec.login_token("nonce-b")


def test_revocation_outlives_the_process_that_made_it(codec: SessionCodec, tmp_path: Path) -> None:
    cookie, session = codec.issue(user(), 1000)
    codec.revocations.revoke(session, now=1000)
    assert codec.read(cookie, 1001) is None
    restarted = SessionCodec(
        load_session_key(tmp_path / "admin" / "session.key"),
        Revocations(tmp_path / "admin" / "revoked.json"),
        3600,
    )
    assert restarted.read(cookie, 1001) is None
    later, _ = restarted.issue(user(), 1001)
    assert restarted.read(later, 1002) is not None


def test_a_session_ends_with_a_new_password_or_role(codec: SessionCodec) -> None:
    dana = user()
    _, session = codec.issue(dana, 1000)
    assert codec.still_valid_for(session, dana)
    assert not codec.still_valid_for(session, user("second-password-2"))
    assert not codec.still_valid_for(
        session, dana.model_copy(update={"role": AdminRole.PRIVACY_OFFICER})
    )
    assert not codec.still_valid_for(session, None)


def test_client_tags_are_stable_and_keep_no_address(codec: SessionCodec) -> None:
    tag = codec.client_tag("198.51.100.23")
    assert tag == codec.client_tag("198.51.100.23") != codec.client_tag("198.51.100.24")
    # 16 hex digits of a keyed digest: "198" may turn up in them by chance (3 in 1,000
    # keys), the address may not.
    assert re.fullmatch(r"[0-9a-f]{16}", tag)
    assert "198.51.100.23" not in tag


def test_lockout_after_max_failures_in_the_window_then_free_again() -> None:
    now = [0.0]
    lockout = Lockout(3, window=60, lock_for=300, clock=lambda: now[0])
    assert lockout.attempt(["user:a"]) == Attempt(allowed=True)
    now[0] = 61  # the first failure has left the window
    assert not lockout.attempt(["user:a"]).locks
    assert not lockout.attempt(["user:a"]).locks
    assert lockout.locked_for(["user:a"]) == 0
    third = lockout.attempt(["user:a", "client:x"])  # the third for user:a, the first for x
    assert third == Attempt(allowed=True, locks=True)
    assert lockout.locked_for(["user:b", "client:x"]) == 0
    assert lockout.locked_for(["user:b", "user:a"]) == 300
    assert lockout.attempt(["user:a", "client:y"]) == Attempt(allowed=False)
    assert lockout.locked_for(["client:y"]) == 0  # a refused attempt counts nowhere
    now[0] += 299
    assert lockout.locked_for(["user:a"]) == pytest.approx(1)
    now[0] += 1
    assert lockout.locked_for(["user:a"]) == 0
    lockout.attempt(["user:a"])
    lockout.succeed(["user:a"])
    assert not lockout.attempt(["user:a"]).locks
    assert not lockout.attempt(["user:a"]).locks


def test_attempts_are_counted_before_they_are_tried() -> None:
    lockout = Lockout(3, window=60, lock_for=300, clock=lambda: 0.0)
    # Five attempts at once, none answered yet: only three may be tried.
    reserved = [lockout.attempt(["user:a", "client:x"]) for _ in range(5)]
    assert [r.allowed for r in reserved] == [True, True, True, False, False]
    assert [r.locks for r in reserved] == [False, False, True, False, False]
    # The third was right: the account starts over, the client keeps two failures.
    lockout.succeed(["user:a", "client:x"])
    assert lockout.locked_for(["user:a", "client:x"]) == 0
    assert lockout.attempt(["user:b", "client:x"]).locks


def test_lockout_keeps_a_bounded_number_of_keys() -> None:
    lockout = Lockout(2, window=60, lock_for=60, clock=lambda: 0.0, capacity=10)
    for n in range(100):
        lockout.attempt([f"client:{n}"])
    assert len(lockout._failures) == 10
