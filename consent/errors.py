"""Errors raised by the consent package.

Every error the package raises on purpose derives from one base class, so a
caller can catch them together::

    ConsentError
     ├── CheckpointError    a signed checkpoint or verifier key is malformed,
     │                      or its signature does not verify
     ├── SigningKeyError    the log's signing key file is unsafe or unreadable
     ├── SiteKeyError       a site's pseudonymisation key file is unsafe or damaged
     └── UnknownSiteError   a decision names a site that is not configured

Invalid arguments to pure functions (a negative leaf index, a hash of the
wrong length) raise ``ValueError`` instead: they are bugs in the caller, not
conditions to handle.
"""

from __future__ import annotations

__all__ = ["CheckpointError", "ConsentError", "SigningKeyError", "SiteKeyError", "UnknownSiteError"]


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
