"""``clearsignal import server-events FILE --site SITE``: a backfill from a CRM or help-desk
export (NDJSON, or CSV with a header naming the fields), with a progress bar.

Each record is checked as ``POST /api/server-events`` checks it (no key: every kind may be
imported) and joined to a consenting linked visitor as the server-event writer joins it,
so an import stores nothing the endpoint would not. Chunks are inserted with a
deduplication token naming the file's digest and the chunk, and the rows collapse by
event id: importing the same file again stores nothing twice. Prints what was imported,
what was dropped by reason, and the first errors by line.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from clearsignal.cli.sites import known_site
from clearsignal.cli.store import open_migrated_store
from clearsignal.settings import Settings

__all__ = ["add_import_parser"]

SHOWN_ERRORS = 20


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            sha.update(block)
    return sha.hexdigest()[:16]


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from collector.ingest.server_events.files import read_chunks
    from collector.ingest.server_events.writer import insert_server_rows, rows_of_operator
    from consent.customer_links import CustomerLinks
    from consent.pseudonyms import SiteKeys

    path: Path = args.file
    site = known_site(settings, args.site)
    if site is None:
        return 2
    if not path.is_file():
        print(f"clearsignal: no file {path}", file=sys.stderr)
        return 2
    store = open_migrated_store(settings)
    if store is None:
        return 1
    digest = _digest(path)
    site_key = SiteKeys(settings.site_key_dir).key(site.id)
    links = CustomerLinks(store)
    imported, dropped = 0, Counter[str]()
    errors: list[dict[str, Any]] = []
    try:
        with tqdm(total=path.stat().st_size, unit="B", unit_scale=True, file=sys.stderr) as bar:
            for number, chunk in enumerate(read_chunks(path)):
                rows, kept, refused = rows_of_operator(
                    settings, links, site, site_key, chunk.events, "import"
                )
                if kept:
                    insert_server_rows(store, kept, f"import:{digest}:{number}")
                imported += len(kept)
                dropped.update({reason.value: n for reason, n in rows.dropped.items()})
                dropped.update({reason.value: n for (_, reason), n in refused.items()})
                dropped["invalid"] += len(chunk.errors)
                errors += (chunk.errors + rows.errors)[: SHOWN_ERRORS - len(errors)]
                bar.update(chunk.bytes_read)
    finally:
        store.close()
    summary = ", ".join(f"{reason} {n}" for reason, n in sorted(dropped.items()) if n)
    print(f"imported {imported} server events into site {site.id}; dropped: {summary or 'none'}")
    for error in errors:
        detail = error.get("detail") or "; ".join(
            f"{field['field']}: {field['error']}" for field in error.get("fields", [])
        )
        print(f"  line {error['index']}: {error.get('error', 'invalid')}: {detail}")
    return 0


def add_import_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "import",
        help="backfill server events from an NDJSON or CSV export",
        description="Import data from the site's own systems.",
    )
    what = command.add_subparsers(dest="what", required=True, metavar="WHAT")
    server = what.add_parser(
        "server-events",
        help="orders, subscriptions, contacts, complaints, SLA breaches, handovers, scores",
        description="Import server events from FILE: NDJSON (one event a line) or, with a "
        ".csv name, CSV with a header naming the fields. Events count only for customers "
        "linked to a visitor with an analytics grant, unless the site declares another "
        "lawful basis for their kind (docs/api.md).",
    )
    server.add_argument("file", type=Path, metavar="FILE")
    server.add_argument("--site", required=True, help="the site the events belong to")
    server.set_defaults(handler=_import)
