"""E-mail through a real SMTP server on loopback: plain, STARTTLS with the relay's own
certificate and a login, and the refusals (no STARTTLS offered, a wrong password, a
certificate nobody trusts)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from aggregator.reports.mail import MailError, send_mail
from clearsignal.settings import MailSettings
from tests.support.smtp_server import SmtpServer


def test_a_plain_relay_on_the_same_host_gets_the_message(tmp_path: Path) -> None:
    with SmtpServer(tmp_path) as smtp:
        settings = MailSettings(
            host="127.0.0.1", port=smtp.port, security="none", sender="cs@shop.test"
        )
        send_mail(
            settings, ["team@shop.test", "lead@shop.test"], "Weekly digest", "Visitors: 1,204"
        )
    (mail,) = smtp.messages
    assert (mail["From"], mail["To"], mail["Subject"]) == (
        "cs@shop.test",
        "team@shop.test, lead@shop.test",
        "Weekly digest",
    )
    assert mail.get_payload().strip() == "Visitors: 1,204"
    assert smtp.inbox.envelopes == [("cs@shop.test", ["team@shop.test", "lead@shop.test"])]


def test_starttls_with_the_relays_own_authority_and_a_login(tmp_path: Path) -> None:
    with SmtpServer(tmp_path, tls=True, login=("clearsignal", "relay-password")) as smtp:
        settings = MailSettings(
            host="127.0.0.1", port=smtp.port, security="starttls", ca_file=smtp.ca_file,
            username="clearsignal", password=SecretStr("relay-password"),
        )  # fmt: skip
        send_mail(settings, ["team@shop.test"], "Alert", "Churn risk rose")
        assert [m["Subject"] for m in smtp.messages] == ["Alert"]

        wrong = settings.model_copy(update={"password": SecretStr("guess"), "timeout_seconds": 2})
        with pytest.raises(MailError, match=f"127.0.0.1:{smtp.port}"):
            send_mail(wrong, ["team@shop.test"], "Alert", "x")
        untrusted = settings.model_copy(update={"ca_file": None})
        with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED"):
            send_mail(untrusted, ["team@shop.test"], "Alert", "x")
    assert len(smtp.messages) == 1


def test_starttls_is_required_when_asked_for_and_credentials_never_go_in_the_clear(
    tmp_path: Path,
) -> None:
    with SmtpServer(tmp_path) as plain:
        settings = MailSettings(host="127.0.0.1", port=plain.port, security="starttls")
        with pytest.raises(MailError, match="STARTTLS"):
            send_mail(settings, ["team@shop.test"], "Alert", "x")
        clear = MailSettings(
            host="127.0.0.1", port=plain.port, security="none", username="u",
            password=SecretStr("p"),
        )  # fmt: skip
        with pytest.raises(MailError, match="only over TLS"):
            send_mail(clear, ["team@shop.test"], "Alert", "x")
    assert plain.messages == []
