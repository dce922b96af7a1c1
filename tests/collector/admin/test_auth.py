"""/admin sign-in, sessions, CSRF and lockout through the real app and store (both
backends): what a browser without a session, with a forged form or with a guessed password
gets, and that each of these is logged."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from clearsignal.settings import AdminRole, AdminSettings, AdminUser, JobSettings, Settings
from collector.admin.accounts import (
    hash_parameters,
    hash_password,
    read_file_users,
    save_file_user,
    users_file,
    verify_password,
)
from collector.admin.lockout import Lockout
from collector.app import create_app
from tests.support.admin_accounts import (
    OFFICER,
    OWNER,
    admin_runtime,
    admin_settings,
    csrf_token,
    logged_actions,
    sign_in,
)


def admin_app_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"admin": admin_settings(), "jobs": JobSettings(in_process=False)}
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(admin_app_settings(settings))) as test_client:
        yield test_client


def test_a_page_without_a_session_sends_to_sign_in_and_a_form_is_refused(
    client: TestClient,
) -> None:
    page = client.get("/admin/console?kind=erasure", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/admin/login?next=%2Fadmin%2Fconsole%3Fkind%3Derasure"
    posted = client.post("/admin/console/verify", data={"csrf": "x"})
    assert posted.status_code == 401
    assert "Sign in again" in posted.text
    assert client.get("/admin/login").status_code == 200


def test_signs_in_with_a_strict_http_only_cookie_and_out_for_good(client: TestClient) -> None:
    answer = sign_in(client, OWNER)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("cs_admin="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite", "max-age"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert "path=/admin" in cookie.lower()
    assert "secure" not in attributes  # plain http: a Secure cookie would never come back
    session = client.cookies["cs_admin"]
    home = client.get("/admin", follow_redirects=False)
    assert home.headers["location"] == "/admin/dashboard"
    dashboard = client.get("/admin/dashboard")
    assert dashboard.status_code == 200
    out = client.post(
        "/admin/logout", data={"csrf": csrf_token(dashboard.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    client.cookies.set("cs_admin", session, path="/admin")  # the old cookie, replayed
    assert client.get("/admin/dashboard", follow_redirects=False).status_code == 303
    assert [a.action for a in logged_actions(client)] == ["login", "view_dashboard", "logout"]


def test_over_https_the_cookie_is_secure(settings: Settings) -> None:
    app = create_app(admin_app_settings(settings))
    with TestClient(app, base_url="https://testserver") as client:
        answer = sign_in(client, OFFICER)
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("cs_admin="))
        assert "secure" in cookie.lower()
        assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/console"


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(client: TestClient) -> None:
    wrong = sign_in(client, OWNER, "not-the-password")
    unknown = client.post(
        "/admin/login",
        data={"csrf": csrf_token(client.get("/admin/login").text), "username": "nobody",
              "password": "not-the-password"},
    )  # fmt: skip
    assert wrong.status_code == unknown.status_code == 401
    assert "The username or password is wrong." in wrong.text
    assert "The username or password is wrong." in unknown.text
    assert "cs_admin=" not in " ".join(wrong.headers.get_list("set-cookie"))
    assert [(a.action, a.username, a.outcome) for a in logged_actions(client)] == [
        ("login_failed", OWNER, "refused"),
        ("login_failed", "nobody", "refused"),
    ]
    assert all(len(a.client) == 16 and "." not in a.client for a in logged_actions(client))


def test_repeated_failures_lock_the_account_even_for_the_right_password(
    client: TestClient,
) -> None:
    now = [1000.0]
    admin_runtime(client).lockout = Lockout(5, window=900, lock_for=900, clock=lambda: now[0])
    for _ in range(5):
        assert sign_in(client, OWNER, "guess-guess-guess").status_code == 401
    locked = sign_in(client, OWNER)
    assert locked.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes." in locked.text
    assert sign_in(client, OFFICER).status_code == 429  # the same client, locked too
    actions = [a.action for a in logged_actions(client)]
    assert actions.count("lockout") == 1
    assert actions[-2:] == ["login_failed", "login_failed"]
    now[0] += 901
    assert sign_in(client, OWNER).status_code == 303


def test_forms_without_the_sessions_csrf_token_are_refused(
    client: TestClient, settings: Settings
) -> None:
    with TestClient(create_app(admin_app_settings(settings))) as other:
        sign_in(other, OFFICER)
        foreign = csrf_token(other.get("/admin/console/verify").text)
    sign_in(client, OFFICER)
    own = csrf_token(client.get("/admin/console/verify").text)
    for form in ({"note": "x"}, {"csrf": ""}, {"csrf": foreign}, {"csrf": own[:-2] + "AA"}):
        answer = client.post("/admin/console/verify", data=form)
        assert answer.status_code == 403, form
        assert "This form was not issued for your session." in answer.text
    as_json = client.post("/admin/console/verify", json={"csrf": own})
    assert as_json.status_code == 415
    crowded = client.post("/admin/console/verify", data={f"f{n}": "x" for n in range(60)})
    assert crowded.status_code == 400
    assert client.post("/admin/console/verify", data={"csrf": own}).status_code == 200
    refused = [a for a in logged_actions(client) if a.action == "refused_csrf"]
    assert len(refused) == 4
    assert all(a.username == OFFICER and a.outcome == "refused" for a in refused)


def test_sign_in_is_refused_without_the_forms_own_cookie(client: TestClient) -> None:
    token = csrf_token(client.get("/admin/login").text)
    client.cookies.clear()
    answer = client.post(
        "/admin/login", data={"csrf": token, "username": OWNER, "password": "owner-password-0001"}
    )
    assert answer.status_code == 403
    assert "cs_admin=" not in " ".join(answer.headers.get_list("set-cookie"))


@pytest.mark.parametrize(
    "wanted", ["https://evil.example/admin", "//evil.example/admin", "/me", "/admin\\@evil"]
)
def test_after_sign_in_goes_only_to_admin_pages(client: TestClient, wanted: str) -> None:
    form = client.get("/admin/login", params={"next": wanted})
    answer = client.post(
        "/admin/login",
        data={"csrf": csrf_token(form.text), "username": OWNER,
              "password": "owner-password-0001", "next": wanted},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.headers["location"] == "/admin"


def test_a_new_password_or_a_removed_account_ends_its_sessions(settings: Settings) -> None:
    configured = settings.model_copy(update={"jobs": JobSettings(in_process=False)})
    path = users_file(configured)

    def write(password: str) -> None:
        user = AdminUser(
            username="carol", role=AdminRole.SITE_OWNER,
            password_hash=hash_password(password, ln=10), sites=["demo"],
        )  # fmt: skip
        save_file_user(path, user)

    write("first-password-1")
    with TestClient(create_app(configured)) as client:
        form = client.get("/admin/login")
        client.post(
            "/admin/login",
            data={"csrf": csrf_token(form.text), "username": "carol", "password": "first-password-1"},
        )  # fmt: skip
        assert client.get("/admin/dashboard").status_code == 200
        write("second-password-2")
        assert client.get("/admin/dashboard", follow_redirects=False).status_code == 303


def test_every_admin_answer_is_not_stored_and_allows_no_script(client: TestClient) -> None:
    sign_in(client, OWNER)
    for path in ("/admin/login", "/admin/dashboard", "/admin/console"):
        headers = client.get(path).headers
        assert headers["cache-control"] == "no-store"
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "script-src" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"


def test_attempts_arriving_at_once_are_tried_at_most_max_failures_times(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = admin_runtime(client).accounts
    tried: list[str] = []
    real = accounts.authenticate

    def slow(username: str, password: str) -> Any:
        tried.append(username)
        time.sleep(0.2)  # every attempt is under way before the first one fails
        return real(username, password)

    monkeypatch.setattr(accounts, "authenticate", slow)
    form = client.get("/admin/login")
    data = {"csrf": csrf_token(form.text), "username": OWNER, "password": "guess-guess-guess"}
    with ThreadPoolExecutor(12) as pool:
        answers = list(
            pool.map(
                lambda _: (
                    client.post("/admin/login", data=data, follow_redirects=False).status_code
                ),
                range(12),
            )
        )
    assert len(tried) == admin_settings().max_failures == 5
    assert sorted(answers) == [401] * 5 + [429] * 7
    assert sign_in(client, OWNER).status_code == 429  # locked, even with the right password


def test_an_old_hash_is_replaced_at_its_next_sign_in(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"admin": AdminSettings(scrypt_ln=11), "jobs": JobSettings(in_process=False)}
    )
    path = users_file(configured)
    old = hash_password("carol-password-1", ln=10)
    save_file_user(
        path,
        AdminUser(username="carol", role=AdminRole.SITE_OWNER, password_hash=old, sites=["demo"]),
    )
    with TestClient(create_app(configured)) as client:
        form = client.get("/admin/login")
        signed_in = client.post(
            "/admin/login",
            data={"csrf": csrf_token(form.text), "username": "carol", "password": "carol-password-1"},
            follow_redirects=False,
        )  # fmt: skip
        assert signed_in.status_code == 303
        [carol] = read_file_users(path)
        assert carol.password_hash.startswith("scrypt$ln=11,r=8,p=1$")
        assert verify_password("carol-password-1", carol.password_hash)
        # The session was issued for the new hash: it goes on working.
        assert client.get("/admin/dashboard").status_code == 200


def test_new_accounts_hash_with_owasps_scrypt_parameters() -> None:
    assert AdminSettings().scrypt_ln == 17
    assert hash_parameters(hash_password("a-password-of-12", 17)) == (17, 8, 1)
