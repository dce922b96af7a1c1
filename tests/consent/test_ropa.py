"""The record of processing names the lawful basis a site declares for a server-event kind."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clearsignal.purposes import LawfulBasis
from clearsignal.settings import ServerKind, Settings, TouchpointSettings, demo_site
from consent.ropa import record_of_processing


def test_a_declared_basis_for_a_kind_is_a_row_of_the_record(tmp_path: object) -> None:
    bases = {
        ServerKind.SLA_BREACH: LawfulBasis.CONTRACT,
        ServerKind.ORDER: LawfulBasis.LEGAL_OBLIGATION,
    }
    site = demo_site().model_copy(update={"touchpoints": TouchpointSettings(lawful_bases=bases)})
    text = record_of_processing(Settings(sites=[site]))
    assert "| server events: order | legal obligation (Art. 6(1)(c)) |" in text
    assert "| server events: sla_breach | contract (Art. 6(1)(b)) |" in text
    assert "server events: complaint" not in text  # consent: covered by the analytics row
    plain = record_of_processing(Settings(sites=[demo_site()]))
    assert "server events:" not in plain
    assert "never free text" in plain


def test_consent_cannot_be_declared_as_another_basis() -> None:
    with pytest.raises(ValidationError, match="consent is every kind's basis already"):
        TouchpointSettings(lawful_bases={ServerKind.ORDER: LawfulBasis.CONSENT})
    with pytest.raises(ValidationError, match="at least 32 characters"):
        TouchpointSettings(link_secret="short")
