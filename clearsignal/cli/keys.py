"""``clearsignal keys create | list | revoke``: the API keys a site's backends send server
events with (``POST /api/server-events``).

A key is shown once, when it is made; only a digest of it is stored. Each key is for one
site and the kinds it names (all kinds by default).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from clearsignal.cli.sites import unknown_sites
from clearsignal.cli.store import open_migrated_store
from clearsignal.clock import wire_time
from clearsignal.settings import ApiScope, ServerKind, Settings

if TYPE_CHECKING:
    from collector.api_keys import ApiKeys

__all__ = ["add_keys_parser"]


@contextmanager
def _keys(settings: Settings) -> Iterator[ApiKeys | None]:
    from collector.api_keys import ApiKeys

    store = open_migrated_store(settings)
    if store is None:
        yield None
        return
    try:
        yield ApiKeys(store)
    finally:
        store.close()


def _create(settings: Settings, args: argparse.Namespace) -> int:
    if unknown_sites(settings, [args.site]):
        return 2
    every_kind = [kind.value for kind in ServerKind]
    # A reporting tool's key reads figures: it sends nothing unless kinds are named.
    kinds = args.kind or ([] if ApiScope.STATS.value in (args.scope or ()) else every_kind)
    with _keys(settings) as keys:
        if keys is None:
            return 1
        issued = keys.create(args.site, args.name, kinds, "cli", args.scope or ())
    scopes = f"; scopes: {', '.join(sorted(args.scope))}" if args.scope else ""
    print(
        f"key {issued.key.key_id} for site {args.site}, kinds: {', '.join(sorted(kinds))}{scopes}"
    )
    print("Store it now: it is not shown again.", file=sys.stderr)
    print(issued.token)
    return 0


def _list(settings: Settings, args: argparse.Namespace) -> int:
    with _keys(settings) as keys:
        if keys is None:
            return 1
        listed = keys.listed(args.site)
    for key in listed:
        state = f"revoked {wire_time(key.revoked_at)}" if key.revoked_at else "active"
        print(
            f"{key.site}\t{key.key_id}\t{key.name or '-'}\t"
            f"{','.join(sorted(key.kinds | key.scopes))}\t"
            f"created {wire_time(key.created_at)} by {key.created_by}\t{state}"
        )
    if not listed:
        print("no keys", file=sys.stderr)
    return 0


def _revoke(settings: Settings, args: argparse.Namespace) -> int:
    with _keys(settings) as keys:
        if keys is None:
            return 1
        revoked = keys.revoke(args.site, args.key_id)
    if revoked is None:
        print(f"clearsignal: site {args.site!r} has no key {args.key_id!r}", file=sys.stderr)
        return 1
    assert revoked.revoked_at is not None
    print(f"key {revoked.key_id} of site {revoked.site} revoked {wire_time(revoked.revoked_at)}")
    return 0


def add_keys_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser(
        "keys",
        help="API keys for the site's backends (POST /api/server-events)",
        description="Make, list and revoke the API keys a site's backends send server "
        "events with. A key is shown once; only its digest is stored.",
    )
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="make a key and print it (once)")
    create.add_argument("site", help="the site the key is for")
    create.add_argument("--name", default="", help="what the key is for, e.g. 'help desk'")
    create.add_argument(
        "--kind",
        action="append",
        choices=[kind.value for kind in ServerKind],
        help="a kind the key may send (repeat; default: every kind, none with --scope stats)",
    )
    create.add_argument(
        "--scope",
        action="append",
        choices=[scope.value for scope in ApiScope],
        help="'cases': the key may also read the site's cases and record what its team did; "
        "'stats': it may read the site's analytics (the Stats API)",
    )
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="list keys (never their secrets)")
    listing.add_argument("--site", help="only this site's keys")
    listing.set_defaults(handler=_list)
    revoke = actions.add_parser("revoke", help="revoke a key at once, in every process")
    revoke.add_argument("site")
    revoke.add_argument("key_id", help="the 12 hex characters after cs_sk_")
    revoke.set_defaults(handler=_revoke)
