"""The demo shop that ``make run`` shows a newcomer, served by the collector itself.

Routes (``demo_shop_routes(settings)``; none unless ``settings.demo`` is on and a site
``demo`` is configured):

* ``GET /`` and ``GET /demo``: redirect to ``/demo/``;
* the shop, for site ``demo``: ``/demo/`` (home), ``/demo/products``,
  ``/demo/products/{slug}``, ``/demo/pricing``, ``/demo/faq``, ``/demo/cart``,
  ``/demo/checkout/shipping``, ``/demo/checkout/payment``, ``/demo/checkout/complete``
  (``POST`` there is the payment form, answered with 303 to the page), ``/demo/contact``
  (``POST``: 303 to ``/demo/contact/thanks``), ``/demo/privacy`` (the site's notice text
  and version, as consent is recorded under them);
* ``GET /demo/shop.css``, ``GET /demo/icon.svg`` and ``GET /demo/shop.js`` (the consent
  banner, and the "What do you know about me?" link from ``clearsignal.explainUrl()``);
* ``POST /demo/run-jobs``: ``collector.demo.run_jobs``.

Every page and file is served with /me's strict Content Security Policy: nothing is
inlined, nothing comes from another origin. The shop keeps no state and reads no form
body: a cart is one product in the query string.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from clearsignal.settings import Settings, SiteSettings
from collector.demo import pages as demo_pages
from collector.demo.catalogue import SHIPPING_OPTIONS, ShippingOption, product
from collector.demo.layout import Frame, render_page, shop_headers
from collector.demo.run_jobs import RunJobsAction
from collector.rooms import Room

__all__ = ["DEMO_SITE", "demo_shop_routes"]

DEMO_SITE = "demo"
DEMO_PATH = "/demo"
STATIC_DIR = Path(__file__).resolve().with_name("static")
_FILES = {
    "/demo/shop.css": ("demo-shop.css", "text/css; charset=utf-8"),
    "/demo/shop.js": ("demo-shop.js", "text/javascript; charset=utf-8"),
    "/demo/icon.svg": ("demo-icon.svg", "image/svg+xml"),
}

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


@cache
def _content(name: str) -> bytes:
    return (STATIC_DIR / name).read_bytes()


def _shipping(request: Request) -> ShippingOption:
    asked = request.query_params.get("shipping")
    return next((o for o in SHIPPING_OPTIONS if o.id == asked), SHIPPING_OPTIONS[0])


class DemoShop:
    """The shop's endpoints, for one site."""

    def __init__(self, site: SiteSettings) -> None:
        self.site = site

    def _page(self, request: Request, title: str, main: str, status: int = 200) -> Response:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        page = render_page(title, main, Frame(self.site, here))
        return HTMLResponse(page, status_code=status, headers=shop_headers())

    def fixed_page(self, title: str, main: Callable[[], str]) -> Endpoint:
        async def serve(request: Request) -> Response:
            return self._page(request, title, main())

        return serve

    async def product(self, request: Request) -> Response:
        item = product(request.path_params["slug"])
        if item is None:
            return self._page(request, "Not found", demo_pages.not_found_page(), 404)
        return self._page(request, item.name, demo_pages.product_page(item))

    async def privacy(self, request: Request) -> Response:
        return self._page(request, "Privacy notice", demo_pages.privacy_page(self.site))

    async def cart(self, request: Request) -> Response:
        item = product(request.query_params.get("item"))
        return self._page(request, "Your cart", demo_pages.cart_page(item))

    async def shipping(self, request: Request) -> Response:
        item = product(request.query_params.get("item"))
        if item is None:
            return RedirectResponse("/demo/cart", status_code=303)
        main = demo_pages.shipping_page(item, _shipping(request))
        return self._page(request, "Shipping", main)

    async def payment(self, request: Request) -> Response:
        item = product(request.query_params.get("item"))
        if item is None:
            return RedirectResponse("/demo/cart", status_code=303)
        return self._page(request, "Payment", demo_pages.payment_page(item, _shipping(request)))

    async def complete(self, request: Request) -> Response:
        item = product(request.query_params.get("item"))
        main = demo_pages.complete_page(item, _shipping(request))
        return self._page(request, "Order confirmed", main)

    async def pay(self, request: Request) -> Response:
        # The payment form submits nothing but its address's query: on to the confirmation.
        return RedirectResponse(f"/demo/checkout/complete?{request.url.query}", status_code=303)

    async def send_message(self, request: Request) -> Response:
        return RedirectResponse("/demo/contact/thanks", status_code=303)


def _file(name: str, media_type: str) -> Endpoint:
    async def serve(request: Request) -> Response:
        return Response(_content(name), media_type=media_type, headers=shop_headers("no-cache"))

    return serve


async def _to_shop(request: Request) -> Response:
    return RedirectResponse("/demo/", status_code=302)


def demo_shop_routes(settings: Settings) -> list[BaseRoute]:
    """The shop's routes, or none when demo mode is off or there is no demo site."""
    site = settings.site(DEMO_SITE)
    if not settings.demo or site is None:
        return []
    shop = DemoShop(site)
    fixed = {
        "/": ("Home", demo_pages.home_page),
        "/products": ("Products", demo_pages.products_page),
        "/pricing": ("Prices", demo_pages.pricing_page),
        "/faq": ("FAQ", demo_pages.faq_page),
        "/contact": ("Contact us", demo_pages.contact_page),
        "/contact/thanks": ("Message sent", demo_pages.contact_thanks_page),
    }
    inside = [
        *(
            Route(path, shop.fixed_page(title, main), methods=["GET"])
            for path, (title, main) in fixed.items()
        ),
        Route("/products/{slug}", shop.product, methods=["GET"]),
        Route("/privacy", shop.privacy, methods=["GET"]),
        Route("/cart", shop.cart, methods=["GET"]),
        Route("/checkout/shipping", shop.shipping, methods=["GET"]),
        Route("/checkout/payment", shop.payment, methods=["GET"]),
        Route("/checkout/complete", shop.complete, methods=["GET"]),
        Route("/checkout/complete", shop.pay, methods=["POST"]),
        Route("/contact", shop.send_message, methods=["POST"]),
        *(
            Route(path.removeprefix(DEMO_PATH), _file(*served), methods=["GET"])
            for path, served in _FILES.items()
        ),
        Route("/run-jobs", RunJobsAction(site).run, methods=["POST"]),
    ]
    return [Route("/", _to_shop, methods=["GET"]), Room(DEMO_PATH, inside, entrance=_to_shop)]
