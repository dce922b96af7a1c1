"""TC strings read by their grammar: what the IAB's own encoder writes is accepted and read
right; anything else is refused, saying which field is wrong."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from collector.visitor.tcf import MAX_TC_STRING, TcfStringError, decode_tc_string

REPO = Path(__file__).resolve().parents[3]
# An example published with a TCF v2 parser: CMP 21, version 7, English, purposes 1 3 9 10.
PUBLISHED = (
    "CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA"
    ".argAC0gAAAAAAAAAAAA"
)


@pytest.fixture(scope="module")
def encoded() -> dict[str, str]:
    node = shutil.which("node")
    assert node, "node is needed (make test installs it)"
    result = subprocess.run(
        [node, str(REPO / "tests" / "support" / "tc_strings.cjs"), str(REPO / "js_snippet")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    strings: dict[str, str] = json.loads(result.stdout)
    return strings


def test_strings_the_iab_encoder_writes_are_read_as_written(encoded: dict[str, str]) -> None:
    yes, no = decode_tc_string(encoded["yes"]), decode_tc_string(encoded["no"])
    assert (yes.cmp_id, yes.cmp_version, yes.policy_version) == (10, 2, 4)
    assert yes.purposes_consent == {1, 8}
    assert yes.vendors_consent == 2
    assert no.purposes_consent == {2}
    assert no.vendors_consent == 0
    assert decode_tc_string(encoded["publisher"]).purposes_consent == {1, 8}
    assert decode_tc_string(encoded["disclosed"]).vendors_consent == 1


def test_a_published_example_is_read_as_its_parser_reads_it() -> None:
    consent = decode_tc_string(PUBLISHED)
    assert (consent.cmp_id, consent.cmp_version, consent.consent_language) == (21, 7, "EN")
    assert consent.purposes_consent == {1, 3, 9, 10}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "1 to"),
        ("CPtestTCString.yes", "segment"),
        ("hello world", "base64url"),
        ("Q" * 40, "version"),  # version 16
        ("C" + "A" * 10, "ends inside"),
        ("x" * (MAX_TC_STRING + 1), "1 to"),
    ],
)
def test_anything_else_is_refused_saying_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(TcfStringError, match=says):
        decode_tc_string(text)


def test_free_text_cannot_ride_along_after_the_fields(encoded: dict[str, str]) -> None:
    core, *rest = encoded["yes"].split(".")
    with pytest.raises(TcfStringError, match="after its last field"):
        decode_tc_string(core + "SGVsbG8gdGhlcmU" + "." + ".".join(rest))
    with pytest.raises(TcfStringError, match="unknown or repeated"):
        decode_tc_string(encoded["yes"] + "." + rest[0])
