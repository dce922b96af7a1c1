"""Errors raised by the consent package.

Every error the package raises on purpose derives from one base class, so a
caller can catch them together::

    ConsentError
     ├── CheckpointError    a signed checkpoint or verifier key is malformed,
     │                      or its signature does not verify
     ├── ErasureError       rows of an erased visitor are still stored after the delete
     ├── LogIntegrityError  the stored log is incomplete or does not match itself
     │    └── LogFencedError  another sequencer appended at that index first
     ├── NoticeVersionError a decision names a notice version the site does not show
     ├── ReceiptError       a receipt is malformed or does not verify
     ├── SigningKeyError    the log's signing key file is unsafe or unreadable
     ├── SiteKeyError       a site's pseudonymisation key file is unsafe or damaged
     └── UnknownSiteError   a decision names a site that is not configured

Invalid arguments to pure functions (a negative leaf index, a hash of the
wrong length) raise ``ValueError`` instead: they are bugs in the caller, not
conditions to handle.
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "ConsentError",
    "ErasureError",
    "LogFencedError",
    "LogIntegrityError",
    "NoticeVersionError",
    "ReceiptError",
    "SigningKeyError",
    "SiteKeyError",
    "UnknownSiteError",
]


class ConsentError(Exception):
    """Base class of the errors raised by ``consent``."""


class CheckpointError(ConsentError):
    """A signed checkpoint or verifier key is malformed, or its signature does not verify."""


class SigningKeyError(ConsentError):
    """The log's signing key file cannot be used safely."""


class SiteKeyError(ConsentError):
    """A site's pseudonymisation key file is unsafe or damaged."""


class UnknownSiteError(ConsentError):
    """A decision names a site that is not configured."""


class LogIntegrityError(ConsentError):
    """The stored transparency log is incomplete or does not match itself."""


class LogFencedError(LogIntegrityError):
    """Another sequencer appended at the index this one was about to fill."""


class NoticeVersionError(ConsentError):
    """A decision names a notice version the site does not show (any more)."""

    def __init__(self, message: str, current_version: str) -> None:
        super().__init__(message)
        self.current_version = current_version


class ReceiptError(ConsentError):
    """A consent receipt is malformed, or it does not verify."""


class ErasureError(ConsentError):
    """Rows of an erased visitor are still stored after the delete."""
