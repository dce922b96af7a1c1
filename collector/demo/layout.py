"""The frame every demo shop page shares: head, navigation, consent banner and footer.

A page is plain HTML with no inline script or style: the snippet (``/cs.js``), its
``cs-signals.js`` add-on and the shop's own ``/demo/shop.js`` (the consent banner and
the "What do you know about me?" link) are files from the collector's origin, so the
pages run under the same strict Content Security Policy as /me. Pages ClearSignal
shows about itself (the jobs report) use the frame without the snippet and the banner.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from clearsignal.settings import SiteSettings
from collector.headers import page_headers

__all__ = ["SHOP_NAME", "Frame", "render_page", "shop_headers"]

SHOP_NAME = "Linden & Reed"
_SHOP_NAME_HTML = escape(SHOP_NAME)
_NAVIGATION = (
    ("/demo/", "Home"),
    ("/demo/products", "Products"),
    ("/demo/pricing", "Pricing"),
    ("/demo/faq", "FAQ"),
    ("/demo/contact", "Contact"),
    ("/demo/cart", "Cart"),
)


def shop_headers(cache_control: str = "no-store") -> dict[str, str]:
    """The headers of every demo page and file: /me's strict policy. The referrer stays
    within the origin, so that the shop's own forms carry an Origin header."""
    return page_headers(cache_control, referrer_policy="same-origin")


@dataclass(frozen=True)
class Frame:
    """What a page puts around its main content."""

    site: SiteSettings
    path: str  # the page's own path (and query), to mark its navigation link, come back to it
    demo_controls: bool = True  # the "Run jobs now" button
    tracked: bool = True  # the snippet and the consent banner


def _head(title: str, frame: Frame) -> str:
    scripts = ""
    if frame.tracked:
        # data-allow-localhost: the demo is served from 127.0.0.1 by `make run`.
        scripts = (
            f'  <script defer src="/cs.js" data-site="{escape(frame.site.id)}" '
            f'data-notice="{escape(frame.site.notice.version)}" data-allow-localhost></script>\n'
            '  <script defer src="/cs-signals.js"></script>\n'
            '  <script defer src="/demo/shop.js"></script>\n'
        )
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n'
        '  <meta charset="utf-8">\n'
        '  <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"  <title>{escape(title)} — {_SHOP_NAME_HTML} (ClearSignal demo)</title>\n"
        '  <link rel="stylesheet" href="/demo/shop.css">\n'
        '  <link rel="icon" href="/demo/icon.svg" type="image/svg+xml">\n'
        f"{scripts}</head>\n"
    )


def _banner(frame: Frame) -> str:
    notice = frame.site.notice
    return f"""<section id="consent-banner" class="banner" aria-labelledby="banner-title"
    data-notice-version="{escape(notice.version)}" hidden>
    <p id="banner-title" class="banner-title">May we learn from how you use this shop?</p>
    <p>We always count visits anonymously. With your consent we also link your visits to
      a random id kept in this browser, to notice where you hesitate or get stuck
      (analytics), and may use that to offer help while you browse (personalization).
      <a href="/demo/privacy">Read the privacy notice (version {escape(notice.version)})</a>.</p>
    <p class="buttons">
      <button type="button" id="accept-analytics">Accept analytics</button>
      <button type="button" id="accept-all">Accept analytics and personalization</button>
      <button type="button" id="decline">Decline</button>
    </p>
  </section>
  <p id="consent-status" class="status" role="status" aria-live="polite"></p>
"""


def _header(frame: Frame) -> str:
    current, here = ' aria-current="page"', frame.path.split("?")[0]
    links = "\n".join(
        f'        <li><a href="{href}"{current if href == here else ""}>{label}</a></li>'
        for href, label in _NAVIGATION
    )
    return f"""<header class="site">
    <a class="brand" href="/demo/">{_SHOP_NAME_HTML}</a>
    <nav aria-label="Shop">
      <ul>
{links}
      </ul>
    </nav>
  </header>
"""


def _footer(frame: Frame) -> str:
    controls = ""
    if frame.demo_controls:
        back = escape(urlencode({"back": frame.path}))
        controls = f"""
    <section class="demo-controls" aria-labelledby="demo-controls-title">
      <h2 id="demo-controls-title">Demo controls</h2>
      <p>ClearSignal's jobs turn events into sessions, signals and summaries every few
        minutes. Here you can run them now, then open "What do you know about me?".</p>
      <form method="post" action="/demo/run-jobs?{back}">
        <button type="submit" id="run-jobs">Run jobs now</button>
      </form>
    </section>"""
    return f"""<footer class="site">
    <p class="your-data">
      <a id="your-data" href="/me?site={escape(frame.site.id)}">What do you know about me?</a>
      <a href="/demo/privacy">Privacy notice</a>
      <button type="button" id="privacy-choices" hidden>Privacy choices</button>
    </p>
    <p class="demo-note">{_SHOP_NAME_HTML} is ClearSignal's demo shop: nothing is sold, charged or
      sent anywhere; what you type into its forms never leaves your browser.</p>{controls}
  </footer>
"""


def render_page(title: str, main: str, frame: Frame) -> str:
    """A whole page: ``main`` is the HTML inside ``<main>``, starting with its ``<h1>``."""
    banner = _banner(frame) if frame.tracked else ""
    return (
        _head(title, frame)
        + "<body>\n"
        + '  <a class="skip" href="#main">Skip to content</a>\n  '
        + banner
        + "  "
        + _header(frame)
        + '  <main id="main" tabindex="-1">\n'
        + main
        + "  </main>\n  "
        + _footer(frame)
        + "</body>\n</html>\n"
    )
