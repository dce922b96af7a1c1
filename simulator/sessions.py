"""What a simulated visitor does in a session, as the browser snippet would report it.

A session is an entry page, some browsing, the planned features (pricing, help, contact,
frustration, forms, quick backs) in random order and at most one checkout at the end.
Each page produces what the snippet sends: a pageview, funnel steps a second later,
scroll depth, clicks, rage and dead clicks, form start/submit/abandon (field names
only), and the engaged time when the page is left. Without consent only the kinds of
event the snippet sends for anonymous measurement are kept.

Ordinary pages are looked at for 20 s to 3 min; only planted quick backs are faster.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from random import Random

from simulator.plans import Feature, PlannedSession
from simulator.truth import SECOND

__all__ = ["ANONYMOUS_TYPES", "SimulatedEvent", "render_session"]

ANONYMOUS_TYPES = frozenset({"pageview", "outbound", "download", "step", "custom"})

HOME = "/demo/"
CATEGORIES = (
    "/demo/products",
    "/demo/products/category/shoes",
    "/demo/products/category/jackets",
    "/demo/products/category/bags",
    "/demo/products/category/accessories",
)
PRODUCTS = tuple(
    f"/demo/products/{slug}"
    for slug in (
        "trail-runner-2", "city-sneaker", "canvas-low", "leather-boot", "rain-shell",
        "down-parka", "fleece-zip", "linen-overshirt", "canvas-tote", "roll-top-backpack",
        "weekender-duffel", "sling-bag", "merino-beanie", "wool-socks-3pack", "leather-belt",
        "sunglasses-classic", "water-bottle", "travel-wallet", "yoga-mat", "running-cap",
    )
)  # fmt: skip
PRICING = "/demo/pricing"
HELP = ("/demo/faq", "/demo/help/shipping", "/demo/help/returns", "/demo/help/sizing")
CONTACT, COMPLAINT = "/demo/contact", "/demo/contact/complaint"
CART = "/demo/cart"
SHIPPING, PAYMENT, COMPLETE = (
    "/demo/checkout/shipping",
    "/demo/checkout/payment",
    "/demo/checkout/complete",
)
ORDERS = "/demo/account/orders"
FORMS = (
    ("/demo/account/register", "register", ("name", "email", "password", "postcode")),
    ("/demo/newsletter", "newsletter", ("email", "interests")),
)
ENTRY_REFERRERS = (
    "",
    "",
    "https://www.google.com/",
    "https://duckduckgo.com/",
    "https://www.bing.com/",
    "https://www.instagram.com/",
)
NEWSLETTER_QUERY = "?utm_source=newsletter&utm_medium=email"
CHECKOUT_PRIORITY = ("struggle", "one_back", "shock", "purchase", "browse_on")  # one a session


@dataclass(frozen=True, slots=True)
class SimulatedEvent:
    id: str
    type: str
    ts: int  # ms since the epoch
    path: str
    ref: str = ""
    query: str = ""
    name: str | None = None
    props: Mapping[str, str | int] = field(default_factory=dict)
    el: Mapping[str, str] = field(default_factory=dict)

    def wire(self, origin: str) -> dict[str, object]:
        """The event as the snippet sends it in ``POST /api/events``."""
        event: dict[str, object] = {
            "id": self.id,
            "type": self.type,
            "ts": self.ts,
            "url": origin + self.path + self.query,
        }
        if self.ref:
            event["ref"] = self.ref
        if self.name is not None:
            event["name"] = self.name
        if self.props:
            event["props"] = dict(self.props)
        if self.el:
            event["el"] = dict(self.el)
        return event


OnPage = Callable[["_Session", int, int], None]


def _button(label: str, selector: str) -> dict[str, str]:
    return {"tag": "button", "sel": selector, "label": label}


class _Session:
    def __init__(
        self, rng: Random, origin: str, start: int, identified: bool, out: list[SimulatedEvent]
    ) -> None:
        self.rng = rng
        self.origin = origin
        self.t = start
        self.identified = identified
        self.out = out
        self.seen: list[str] = []
        self.ref = rng.choice(ENTRY_REFERRERS)
        self.query = NEWSLETTER_QUERY if not self.ref and rng.random() < 0.1 else ""
        self.page_events: list[SimulatedEvent] = []
        self.path = HOME

    def emit(
        self,
        type_: str,
        ts: int,
        name: str | None = None,
        props: Mapping[str, str | int] | None = None,
        el: Mapping[str, str] | None = None,
    ) -> None:
        if not self.identified and type_ not in ANONYMOUS_TYPES:
            return
        self.page_events.append(
            SimulatedEvent(
                id=f"{self.rng.getrandbits(64):016x}",
                type=type_,
                ts=ts,
                path=self.path,
                ref=self.ref,
                query=self.query,
                name=name,
                props=props or {},
                el=el or {},
            )
        )

    def dwell(self) -> int:
        seconds = min(180.0, max(20.0, self.rng.lognormvariate(math.log(45), 0.6)))
        return int(seconds * SECOND)

    def page(
        self,
        path: str,
        dwell: int | None = None,
        step: str | None = None,
        on_page: OnPage | None = None,
    ) -> None:
        rng, t = self.rng, self.t
        dwell = self.dwell() if dwell is None else dwell
        self.path = path
        self.emit("pageview", t)
        if step is not None and dwell > 1500:
            self.emit("step", t + SECOND, name=step)
        if dwell > 5 * SECOND and rng.random() < 0.8:
            depth = rng.choice((25, 50, 75, 100))
            self.emit("scroll", t + int(dwell * rng.uniform(0.3, 0.9)), props={"depth": depth})
        if on_page is not None:
            on_page(self, t, dwell)
        elif dwell > 10 * SECOND:
            self.interact(t, dwell)
        engaged = int(dwell * rng.uniform(0.5, 0.95)) // SECOND * SECOND
        if engaged:
            self.emit("engagement", t + dwell, props={"ms": engaged})
        self.page_events.sort(key=lambda e: e.ts)
        self.out.extend(self.page_events)
        self.page_events = []
        self.seen.append(path)
        self.ref = self.origin + path
        self.query = ""
        self.t = t + dwell + rng.randint(150, 900)

    def interact(self, t: int, dwell: int) -> None:
        """Ordinary clicks: add to cart, a size guide, a link to the shop's social page."""
        rng = self.rng
        at = t + int(dwell * rng.uniform(0.3, 0.8))
        roll = rng.random()
        if self.path in PRODUCTS and roll < 0.35:
            self.emit("click", at, el=_button("Add to cart", "#buy>button"))
        elif self.path in PRODUCTS and roll < 0.38:
            guide = self.origin + "/demo/files/size-guide.pdf"
            self.emit("download", at, el={"tag": "a", "href": guide, "label": "Size guide"})
        elif roll < 0.4:
            social = "https://www.instagram.com/"
            self.emit("outbound", at, el={"tag": "a", "href": social, "label": "Instagram"})

    def browse_path(self, choices: tuple[str, ...] | None = None) -> str:
        """A shop page that is neither of the last two pages (no accidental A -> B -> A)."""
        pool = choices or (HOME, *CATEGORIES, *PRODUCTS, *PRODUCTS)
        recent = self.seen[-2:]
        return self.rng.choice([p for p in pool if p not in recent])

    def browse(self, pages: int) -> None:
        for _ in range(pages):
            self.page(self.browse_path())


def _form(name: str, fields: tuple[str, ...], submit: bool) -> OnPage:
    def fill(session: _Session, t: int, dwell: int) -> None:
        rng = session.rng
        session.emit(
            "form_start", t + rng.randint(3, 8) * SECOND, props={"form": name, "fields": fields[0]}
        )
        if submit:
            props = {"form": name, "fields": ",".join(fields)}
            session.emit("form_submit", t + dwell - rng.randint(500, 1500), props=props)
        else:
            touched = fields[: rng.randint(1, max(1, len(fields) - 1))]
            session.emit(
                "form_abandon", t + dwell, props={"form": name, "fields": ",".join(touched)}
            )

    return fill


def _clicks(kind: str, count: int) -> OnPage:
    def click(session: _Session, t: int, dwell: int) -> None:
        rng = session.rng
        at = t + rng.randint(2, 4) * SECOND
        for _ in range(count):
            target = rng.choice(
                (_button("Select size", "#sizes>button"), _button("Apply code", "#promo>button"))
            )
            if kind == "rage":
                clicks = [at + i * rng.randint(200, 320) for i in range(rng.choice((3, 3, 4)))]
                for moment in clicks:
                    session.emit("click", moment, el=target)
                session.emit("rage_click", clicks[2], el=target)
            else:
                session.emit("click", at, el=target)
                session.emit("dead_click", at + 2500, el=target)
            at += rng.randint(4, 7) * SECOND

    return click


def _feature(session: _Session, feature: Feature) -> None:
    rng = session.rng
    kind = feature.kind
    if kind == "pricing":
        session.page(PRICING)
    elif kind == "help":
        for path in rng.sample(HELP, min(feature.count, len(HELP))):
            session.page(path)
    elif kind == "contact":
        fill = _form("contact", ("name", "email", "message"), True) if rng.random() < 0.5 else None
        session.page(CONTACT, max(session.dwell(), 40 * SECOND) if fill else None, on_page=fill)
        if feature.count > 1:
            session.page(COMPLAINT)
    elif kind in ("rage", "dead"):
        need = (8 + 8 * feature.count) * SECOND
        session.page(
            session.browse_path(PRODUCTS),
            max(session.dwell(), need),
            on_page=_clicks(kind, feature.count),
        )
    elif kind == "form":
        path, name, fields = rng.choice(FORMS)
        fill = _form(name, fields, feature.variant == "submit")
        session.page(path, max(session.dwell(), 30 * SECOND), on_page=fill)
    elif kind == "quick_back":
        listing = session.browse_path(CATEGORIES)
        session.page(listing)
        for product in rng.sample(PRODUCTS, feature.count):
            quick = feature.variant == "quick"
            session.page(
                product, rng.randint(1500, 4500) if quick else rng.randint(30, 40) * SECOND
            )
            session.page(listing)


def _checkout(session: _Session, variant: str) -> None:
    rng = session.rng
    session.page(CART, step="cart")
    if variant == "shock":
        session.page(SHIPPING, rng.randint(12, 45) * SECOND, step="shipping")
        return
    if variant == "browse_on":
        shipping_at = session.t
        session.page(SHIPPING, rng.randint(20, 60) * SECOND, step="shipping")
        session.page(CART)
        while session.t - shipping_at < 330 * SECOND:
            session.page(session.browse_path())
        return
    address = _form("address", ("name", "street", "postcode", "city"), True)
    session.page(SHIPPING, rng.randint(40, 120) * SECOND, step="shipping", on_page=address)
    if variant == "struggle":  # the payment fails twice; back to shipping, back to the cart
        session.page(PAYMENT, rng.randint(30, 60) * SECOND, step="payment",
                     on_page=_clicks("rage", 1))  # fmt: skip
        session.page(SHIPPING, step="shipping")
        session.page(PAYMENT, rng.randint(30, 60) * SECOND, step="payment",
                     on_page=_clicks("dead", 1))  # fmt: skip
        session.page(CART, step="cart")
        session.page(SHIPPING, step="shipping")
    elif variant == "one_back":  # back to the cart once, then straight through
        session.page(CART, step="cart")
        session.page(SHIPPING, step="shipping")
    card = _form("payment", ("card_holder", "card_number", "expiry"), True)
    session.page(PAYMENT, rng.randint(30, 90) * SECOND, step="payment", on_page=card)
    session.page(COMPLETE, step="purchase")
    if rng.random() < 0.3:
        session.page(ORDERS)


def _extras(rng: Random) -> list[Feature]:
    """Ordinary things any session may contain besides its planned features."""
    extras = []
    for chance, feature in (
        (0.06, Feature("pricing")),
        (0.05, Feature("help")),
        (0.015, Feature("contact")),
        (0.07, Feature("checkout", variant="purchase")),
        (0.02, Feature("checkout", variant="browse_on")),
        (0.01, Feature("rage")),
        (0.03, Feature("dead")),
        (0.02, Feature("form", variant="submit")),
    ):
        if rng.random() < chance:
            extras.append(feature)
    return extras


def render_session(
    rng: Random, origin: str, planned: PlannedSession, identified: bool, out: list[SimulatedEvent]
) -> None:
    """Append one session's events, in time order, to ``out``."""
    session = _Session(rng, origin, planned.start, identified, out)
    features = [*planned.features, *_extras(rng)]
    checkouts = {f.variant for f in features if f.kind == "checkout"}
    blocks: list[Feature | int] = [f for f in features if f.kind != "checkout"]
    blocks.extend(1 for _ in range(rng.randint(0, 4)))  # a page of browsing each
    rng.shuffle(blocks)
    session.page(rng.choice((HOME, HOME, *CATEGORIES, *PRODUCTS)))
    for block in blocks:
        if isinstance(block, Feature):
            _feature(session, block)
        else:
            session.browse(block)
    variant = next((v for v in CHECKOUT_PRIORITY if v in checkouts), None)
    if variant is not None:
        _checkout(session, variant)
