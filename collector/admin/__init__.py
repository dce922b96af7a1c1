"""/admin: the site dashboard and the privacy officer's console, behind sign-in and roles.

Modules: ``accounts`` (scrypt hashes, users from settings and the users file),
``sessions`` (signed cookies, CSRF tokens, revocation), ``lockout``, ``audit_log`` (the
admin action log), ``runtime`` (what the server holds open), ``guard`` (the one check every
route passes), ``routes`` (the route table), ``pages`` and ``charts`` (HTML and SVG),
``dashboard``/``dashboard_page`` (aggregates), ``console``/``console_pages``/
``console_tools`` (the privacy officer's pages), ``login``.
"""

from collector.admin.routes import ADMIN_ROUTES, admin_routes
from collector.admin.runtime import AdminRuntime, open_admin

__all__ = ["ADMIN_ROUTES", "AdminRuntime", "admin_routes", "open_admin"]
