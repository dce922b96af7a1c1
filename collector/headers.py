"""The one set of security headers every page and file the collector serves carries.

Pages are plain HTML with nothing inline and nothing from elsewhere, so their Content
Security Policy allows only this origin: scripts and ``fetch`` where the page has them
(/me, the demo shop), none at all where it has none (/admin). Every answer also says:
no MIME sniffing, no framing, no cross-origin window or resource sharing. The referrer
policy is ``no-referrer`` except on the demo shop, whose own forms need an ``Origin``.
The snippet's files are the exception that proves the rule: any site may load them
(``snippet_file_headers``).
"""

from __future__ import annotations

__all__ = [
    "PAGE_POLICY",
    "SCRIPTLESS_POLICY",
    "page_headers",
    "snippet_file_headers",
]

_COMMON_POLICY = "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " + _COMMON_POLICY
)
"""Pages with scripts and requests of their own (/me, the demo shop)."""
SCRIPTLESS_POLICY = "default-src 'none'; style-src 'self'; " + _COMMON_POLICY
"""Pages with no script at all (/admin)."""


def page_headers(
    cache_control: str, policy: str = PAGE_POLICY, referrer_policy: str = "no-referrer"
) -> dict[str, str]:
    """The headers of a page (or a file of its own) served by the collector."""
    return {
        "Content-Security-Policy": policy,
        "Cache-Control": cache_control,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": referrer_policy,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }


def snippet_file_headers(cache_control: str) -> dict[str, str]:
    """The snippet's files: loadable by every site, with Subresource Integrity."""
    return {
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
        "Cache-Control": cache_control,
    }
