"""``clearsignal witness init | run``: a witness of someone else's consent log.

Run it anywhere but on the log's own host, with a state directory of its own::

    clearsignal witness init --state ~/witness --name auditor.example/w1
    clearsignal witness run --state ~/witness --log https://collector.shop.example \\
        --log-key 'shop.example/consent-log+1a2b3c4d+AQ...' --every 300

Exit status: 0 after cosigning; 1 when the witness refused (the log misbehaved; the
evidence directory is printed); 2 when the log could not be reached or answered nonsense.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from clearsignal.settings import Settings

__all__ = ["add_witness_parser"]


def _init(settings: Settings, args: argparse.Namespace) -> int:
    from consent.witness import Witness

    try:
        witness = Witness.create(Path(args.state), args.name)
    except (FileExistsError, ValueError) as exc:
        print(f"clearsignal witness: {exc}", file=sys.stderr)
        return 2
    print(witness.key.vkey)
    return 0


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from consent.errors import CheckpointError
    from consent.log_keys import LogVerifier
    from consent.witness import Witness, WitnessRefused
    from consent.witness_pull import LogEndpoint, LogUnreachable, witness_once

    witness = Witness(Path(args.state))
    log = LogEndpoint(args.log)
    verifier = LogVerifier(args.log_key)
    while True:
        try:
            round_ = witness_once(witness, log, verifier)
        except WitnessRefused as refused:
            where = f"; evidence kept in {refused.evidence}" if refused.evidence else ""
            print(f"witness REFUSED ({refused.status}): {refused.reason.strip()}{where}")
            return 1
        except CheckpointError as exc:
            print(f"witness REFUSED: the log's checkpoint does not verify: {exc}")
            return 1
        except (LogUnreachable, ValueError, KeyError) as exc:
            print(f"clearsignal witness: the log did not answer as a log: {exc}", file=sys.stderr)
            return 2
        grew = round_.tree_size - round_.previous_size
        handed = "handed to the log" if round_.submitted else "NOT taken by the log"
        print(
            f"cosigned {verifier.origin} at {round_.tree_size} entries (+{grew}); "
            f"cosignature {handed}",
            flush=True,
        )
        if args.every is None:
            return 0
        time.sleep(args.every)


def add_witness_parser(commands: Any) -> None:
    witness = commands.add_parser(
        "witness",
        help="witness a consent log: cosign its checkpoints, refuse and keep evidence of forks",
        description="A witness checks that each checkpoint of a consent log extends the last "
        "one it cosigned (a consistency proof) before cosigning it (C2SP tlog-cosignature). "
        "Run it on another host than the log, with its own state directory.",
    )
    actions = witness.add_subparsers(dest="action", required=True, metavar="ACTION")
    init = actions.add_parser(
        "init", help="create the witness's key and state; print its verifier key"
    )
    init.add_argument("--state", required=True, metavar="DIR")
    init.add_argument(
        "--name",
        required=True,
        help="the witness's name, a schema-less URL such as auditor.example/w1",
    )
    init.set_defaults(handler=_init)
    run = actions.add_parser("run", help="fetch the log's checkpoint, check it and cosign it")
    run.add_argument("--state", required=True, metavar="DIR")
    run.add_argument("--log", required=True, metavar="URL", help="the collector's base URL")
    run.add_argument(
        "--log-key", required=True, metavar="VKEY",
        help="the log's verifier key, obtained out of band (pinned on first use)",
    )  # fmt: skip
    run.add_argument(
        "--every", type=float, metavar="SECONDS", help="repeat until stopped or refused"
    )
    run.set_defaults(handler=_run)
