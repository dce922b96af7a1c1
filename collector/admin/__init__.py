"""/admin: the site dashboard, the support agents' inbox and the privacy officer's console,
behind sign-in and roles.

Modules: ``accounts`` (scrypt hashes, users from settings and the users file),
``sessions`` (signed cookies, CSRF tokens, revocation), ``lockout``, ``runtime`` (what the
server holds open), ``guard`` (the one check every route passes), ``routes`` (the route
table, mounted as a room), ``pages`` and ``charts`` (HTML and SVG),
``dashboard_page`` (aggregates, read by ``aggregator.reports.dashboard``), ``inbox``/``case_page`` (the cases of
consenting customers), ``console``/``console_pages``/``console_tools`` (the privacy
officer's pages), ``keys_page``, ``login``, ``demo_accounts`` (the accounts made in demo
mode). The admin action log is one floor down (``collector.action_log``), shared with the
cases API. Imports nothing of the other rooms.
"""

__all__ = [
    "accounts", "case_page", "charts", "console", "console_pages", "console_tools",
    "dashboard_page", "demo_accounts", "guard", "inbox", "keys_page", "lockout",
    "login", "pages", "routes", "runtime", "sessions",
]  # fmt: skip
