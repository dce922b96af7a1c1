"""The visitor room: what a site's visitors (and anyone checking the log) call.

``consent_api`` and ``consent_wire`` (decisions, receipts, delete requests),
``transparency_api`` (checkpoints, proofs, the public key), ``signals_api`` (a visitor's
own signals, for help on the page), ``auth`` (the browser id in a header),
``snippet_files`` (the served snippet) and ``me`` (the data explanation page and its
API). Imports nothing of the other rooms.
"""

__all__ = [
    "auth", "consent_api", "consent_wire", "me", "signals_api", "snippet_files",
    "transparency_api",
]  # fmt: skip
