"""``clearsignal admin add-user | remove-user | list-users | hash-password``: /admin accounts.

Accounts added here go to ``<data_dir>/admin/users.json`` (mode 0600), beside those in the
settings (``admin.users``); a running server picks changes up at the next request. The
password is typed at a prompt (twice) or read from standard input with
``--password-stdin``; it is never an argument, so it stays out of shell history and the
process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from clearsignal.cli.sites import unknown_sites
from clearsignal.settings import AdminRole, AdminUser, Settings

__all__ = ["add_admin_parser"]


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        print("clearsignal: the two passwords differ; nothing was changed", file=sys.stderr)
        return None
    return first


def _add_user(settings: Settings, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from collector.admin.accounts import AccountsError, hash_password, save_file_user, users_file

    if any(user.username == args.username for user in settings.admin.users):
        print(
            f"clearsignal: {args.username!r} is defined in the settings (admin.users), which "
            "win over the users file; change it there",
            file=sys.stderr,
        )
        return 2
    if unknown_sites(settings, args.site):
        return 2
    password = _password(args)
    if password is None:
        return 2
    try:
        user = AdminUser(
            username=args.username,
            role=AdminRole(args.role),
            password_hash=hash_password(password, settings.admin.scrypt_ln),
            sites=args.site,
        )
        replaced = save_file_user(users_file(settings), user)
    except (AccountsError, ValidationError) as exc:
        print(f"clearsignal: {exc}", file=sys.stderr)
        return 2
    sites = ", ".join(user.sites) or "every site"
    print(
        f"{'updated' if replaced else 'added'} {user.username} ({user.role.value}; {sites}) "
        f"in {users_file(settings)}"
    )
    return 0


def _remove_user(settings: Settings, args: argparse.Namespace) -> int:
    from collector.admin.accounts import remove_file_user, users_file

    if remove_file_user(users_file(settings), args.username):
        print(f"removed {args.username}; their sessions end at their next request")
        return 0
    print(f"clearsignal: no {args.username!r} in {users_file(settings)}", file=sys.stderr)
    return 1


def _list_users(settings: Settings, args: argparse.Namespace) -> int:
    from collector.admin.accounts import read_file_users, users_file

    path = users_file(settings)
    rows = [(user, "settings") for user in settings.admin.users]
    configured = {user.username for user in settings.admin.users}
    rows += [(user, str(path)) for user in read_file_users(path) if user.username not in configured]
    for user, source in sorted(rows, key=lambda row: row[0].username):
        sites = ", ".join(user.sites) or "every site"
        print(f"{user.username:<20} {user.role.value:<16} {sites}  (from {source})")
    if not rows:
        print("no /admin accounts; add one with `clearsignal admin add-user NAME --role ROLE`")
    return 0


def _hash_password(settings: Settings, args: argparse.Namespace) -> int:
    from collector.admin.accounts import AccountsError, hash_password

    password = _password(args)
    if password is None:
        return 2
    try:
        print(hash_password(password, settings.admin.scrypt_ln))
    except AccountsError as exc:
        print(f"clearsignal: {exc}", file=sys.stderr)
        return 2
    return 0


def add_admin_parser(commands: Any) -> None:
    admin = commands.add_parser(
        "admin",
        help="manage /admin accounts (site owners and privacy officers)",
        description="Accounts for the site dashboard and the privacy officer's console.",
    )
    actions = admin.add_subparsers(dest="action", required=True, metavar="ACTION")
    stdin_help = "read the password from the first line of standard input instead of a prompt"

    add = actions.add_parser(
        "add-user",
        help="add an account, or set a new password, role and sites for one",
        description="Write an account to <data_dir>/admin/users.json with a scrypt hash of "
        "its password. A site_owner sees the aggregates of the sites named with --site; a "
        "privacy_officer sees the consent log of those sites, or of every site without --site.",
    )
    add.add_argument("username", help="lowercase letters, digits, '.', '_' and '-'")
    add.add_argument("--role", required=True, choices=[role.value for role in AdminRole])
    add.add_argument(
        "--site", action="append", default=[], metavar="SITE", help="a site id (repeatable)"
    )
    add.add_argument("--password-stdin", action="store_true", help=stdin_help)
    add.set_defaults(handler=_add_user)

    remove = actions.add_parser("remove-user", help="remove an account from the users file")
    remove.add_argument("username")
    remove.set_defaults(handler=_remove_user)

    listing = actions.add_parser("list-users", help="list every account and where it is defined")
    listing.set_defaults(handler=_list_users)

    hashing = actions.add_parser(
        "hash-password",
        help="print a password hash for admin.users in the settings file",
        description="Prints scrypt$ln=15,r=8,p=1$<salt>$<key>, the value of password_hash.",
    )
    hashing.add_argument("--password-stdin", action="store_true", help=stdin_help)
    hashing.set_defaults(handler=_hash_password)
