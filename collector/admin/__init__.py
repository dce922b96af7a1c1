"""/admin: the site dashboard and the privacy officer's console, behind sign-in and roles.

Modules: ``accounts`` (scrypt hashes, users from settings and the users file),
``sessions`` (signed cookies, CSRF tokens, revocation), ``lockout``, ``audit_log`` (the
admin action log), ``runtime`` (what the server holds open), ``guard`` (the one check every
route passes), ``routes`` (the route table, mounted as a room), ``pages`` and ``charts``
(HTML and SVG), ``dashboard``/``dashboard_page`` (aggregates), ``console``/
``console_pages``/``console_tools`` (the privacy officer's pages), ``login``,
``demo_accounts`` (the accounts made in demo mode). Imports nothing of the other rooms.
"""

__all__ = [
    "accounts", "audit_log", "charts", "console", "console_pages", "console_tools",
    "dashboard", "dashboard_page", "demo_accounts", "guard", "lockout", "login", "pages",
    "routes", "runtime", "sessions",
]  # fmt: skip
