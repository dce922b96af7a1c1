"""/me: a visitor's data explanation page and its API.

``api`` (``/api/me``: read, page, download, delete), ``export`` (everything held, GDPR
Art. 15 and 20), ``labels`` (plain-language event labels), ``about`` (what a site
collects and why), ``receipts`` (receipts checked against the log) and ``page`` (the
static page, its scripts and style sheet under ``static/``).
"""

__all__ = ["about", "api", "export", "labels", "page", "receipts"]
