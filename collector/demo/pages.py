"""The demo shop's pages, as the HTML inside ``<main>`` (``collector.demo.layout`` adds
the frame).

The paths match the default page patterns of the settings, so the signal rules see
what a person does here: ``/demo/pricing`` (pricing), ``/demo/faq`` (help),
``/demo/contact`` (contact), ``/demo/checkout/...`` (checkout, with
``/demo/checkout/shipping`` the shipping step and ``/demo/checkout/complete`` the
purchase). The cart, shipping, payment and confirmation pages mark their funnel step
with ``data-cs-step`` on a section, which the snippet reports once the page is shown.

The cart holds one product, named in the query string (``?item=walnut-desk``), so the
shop keeps no state; the delivery option travels the same way (``&shipping=express``).
The forms' fields have no ``name``: the browser submits nothing typed into them, and
the snippet reports field names from their ids.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from clearsignal.settings import SiteSettings
from collector.demo.catalogue import (
    PRODUCTS,
    SHIPPING_OPTIONS,
    Product,
    ShippingOption,
    euros,
)

__all__ = [
    "cart_page",
    "complete_page",
    "contact_page",
    "contact_thanks_page",
    "faq_page",
    "home_page",
    "not_found_page",
    "payment_page",
    "pricing_page",
    "privacy_page",
    "product_page",
    "products_page",
    "shipping_page",
]


def _query(item: Product, shipping: ShippingOption | None = None) -> str:
    asked = {"item": item.slug} | ({"shipping": shipping.id} if shipping else {})
    return "?" + escape(urlencode(asked))


def _card(item: Product, level: int) -> str:
    return f"""      <li class="card">
        <span class="swatch swatch-{item.slug}" aria-hidden="true"></span>
        <h{level}><a href="/demo/products/{item.slug}">{escape(item.name)}</a></h{level}>
        <p>{escape(item.summary)}</p>
        <p class="price">{euros(item.price_cents)}</p>
      </li>
"""


def home_page() -> str:
    cards = "".join(_card(item, 3) for item in PRODUCTS[:3])
    return f"""    <h1>Good things for a quiet room</h1>
    <p class="lede">Desks, chairs, lamps and throws, made to last. This is ClearSignal's
      demo shop: click around as you would in any shop, then see what the shop learned
      from it — and only what you allowed.</p>
    <section class="try" aria-labelledby="try-title">
      <h2 id="try-title">Try the demo</h2>
      <ol>
        <li>Make a choice in the privacy banner. "Accept analytics and personalization"
          lets you see everything ClearSignal can do.</li>
        <li>Browse: compare <a href="/demo/pricing">prices</a>, read the
          <a href="/demo/faq">FAQ</a>, put something in the cart and go on to shipping.</li>
        <li>Press "Run jobs now" at the bottom of any page.</li>
        <li>Open "What do you know about me?": your events, your signals and why they
          were noticed, your consent receipt, and buttons to download or delete it all.</li>
      </ol>
    </section>
    <section aria-labelledby="featured-title">
      <h2 id="featured-title">Featured</h2>
      <ul class="cards">
{cards}      </ul>
      <p><a href="/demo/products">All products</a></p>
    </section>
"""


def products_page() -> str:
    cards = "".join(_card(item, 2) for item in PRODUCTS)
    return f"""    <h1>Products</h1>
    <ul class="cards">
{cards}    </ul>
"""


def product_page(item: Product) -> str:
    details = "".join(f"        <li>{escape(line)}</li>\n" for line in item.details)
    return f"""    <h1>{escape(item.name)}</h1>
    <div class="product">
      <span class="swatch swatch-large swatch-{item.slug}" aria-hidden="true"></span>
      <div>
        <p class="lede">{escape(item.summary)}</p>
        <p class="price">{euros(item.price_cents)}</p>
        <p><a class="button" href="/demo/cart{_query(item)}">Add to cart</a></p>
        <p class="hint">Delivery costs are shown at checkout.</p>
      </div>
    </div>
    <h2>Details</h2>
    <ul>
{details}    </ul>
"""


def pricing_page() -> str:
    rows = "".join(
        f'        <tr><th scope="row"><a href="/demo/products/{item.slug}">'
        f"{escape(item.name)}</a></th><td>{euros(item.price_cents)}</td>"
        f"<td>{'freight' if item.bulky else 'parcel'}</td></tr>\n"
        for item in PRODUCTS
    )
    return f"""    <h1>Prices</h1>
    <p class="lede">Every price includes VAT. Delivery is calculated at checkout.</p>
    <table>
      <caption>Our prices</caption>
      <thead>
        <tr><th scope="col">Product</th><th scope="col">Price</th><th scope="col">Ships as</th></tr>
      </thead>
      <tbody>
{rows}      </tbody>
    </table>
    <h2>What the price includes</h2>
    <ul>
      <li>Two years of warranty on every product</li>
      <li>Free returns within 30 days</li>
      <li>Spare parts for ten years</li>
    </ul>
"""


_FAQ = (
    (
        "How much is delivery?",
        "It depends on the size of what you order: parcels from 6.90 €, furniture by "
        "freight from 39.00 €. You see the exact cost at the shipping step, before you pay.",
    ),
    (
        "How long does delivery take?",
        "Three to five working days, or the next working day with express delivery.",
    ),
    ("Can I return something?", "Yes, within 30 days, for free. Keep the packaging if you can."),
    (
        "What does this shop learn about me?",
        "Anonymous counts always; more only if you allow it in the privacy banner. The "
        '"What do you know about me?" link at the bottom of every page shows all of it.',
    ),
    ("Is this a real shop?", "No. It is ClearSignal's demo: nothing is sold or charged."),
)


def faq_page() -> str:
    answers = "".join(
        f"    <h2>{escape(question)}</h2>\n    <p>{escape(answer)}</p>\n"
        for question, answer in _FAQ
    )
    return f"""    <h1>Frequently asked questions</h1>
{answers}"""


def _summary(item: Product, shipping: ShippingOption | None) -> str:
    total = item.price_cents + (shipping.cost(item) if shipping else 0)
    delivery = (
        f'        <tr><th scope="row">{escape(shipping.name)}</th>'
        f'<td class="shipping-cost">{euros(shipping.cost(item))}</td></tr>\n'
        if shipping
        else ""
    )
    return f"""      <table class="summary">
        <caption>Your order</caption>
        <tbody>
        <tr><th scope="row">{escape(item.name)}, quantity 1</th><td>{euros(item.price_cents)}</td></tr>
{delivery}        <tr class="total"><th scope="row">Total</th><td>{euros(total)}</td></tr>
        </tbody>
      </table>
"""


def cart_page(item: Product | None) -> str:
    if item is None:
        return """    <h1>Your cart</h1>
    <p>Your cart is empty. <a href="/demo/products">Find something you like</a>.</p>
"""
    return f"""    <h1>Your cart</h1>
    <section data-cs-step="cart" aria-label="Cart contents">
{_summary(item, None)}      <p class="actions">
        <a class="button" href="/demo/checkout/shipping{_query(item)}">Continue to shipping</a>
        <a href="/demo/products">Keep shopping</a>
      </p>
    </section>
"""


def shipping_page(item: Product, chosen: ShippingOption) -> str:
    options = "".join(
        f'          <p class="choice"><input type="radio" id="shipping-{option.id}" '
        f'name="shipping" value="{option.id}"{" checked" if option == chosen else ""}>\n'
        f'          <label for="shipping-{option.id}">{escape(option.name)}, '
        f"{escape(option.days)}: {euros(option.cost(item))}</label></p>\n"
        for option in SHIPPING_OPTIONS
    )
    return f"""    <h1>Shipping</h1>
    <section data-cs-step="shipping" aria-label="Delivery">
      <p class="lede">Delivery of your {escape(item.name.lower())} costs
        <strong class="shipping-cost">{euros(chosen.cost(item))}</strong>
        ({escape(chosen.name.lower())}).</p>
{_summary(item, chosen)}      <form method="get" action="/demo/checkout/payment">
        <input type="hidden" name="item" value="{item.slug}">
        <fieldset>
          <legend>Delivery option</legend>
{options}        </fieldset>
        <p><button type="submit">Continue to payment</button></p>
      </form>
    </section>
"""


def payment_page(item: Product, chosen: ShippingOption) -> str:
    return f"""    <h1>Payment</h1>
    <section data-cs-step="payment" aria-label="Payment">
{_summary(item, chosen)}      <form id="payment" method="post" action="/demo/checkout/complete{_query(item, chosen)}">
        <p class="hint">This is a demo: nothing is charged, and nothing you type here
          leaves your browser.</p>
        <p><label for="card-name">Name on card</label>
          <input type="text" id="card-name" autocomplete="off"></p>
        <p><label for="card-number">Card number</label>
          <input type="text" id="card-number" inputmode="numeric" autocomplete="off"></p>
        <p><button type="submit">Pay {euros(item.price_cents + chosen.cost(item))}</button></p>
      </form>
    </section>
"""


def complete_page(item: Product | None, chosen: ShippingOption) -> str:
    summary = _summary(item, chosen) if item else ""
    return f"""    <h1>Thank you: your order is confirmed</h1>
    <section data-cs-step="purchase" aria-label="Order confirmation">
      <p class="lede">In a real shop your order would be on its way. Here nothing was
        ordered and nothing was charged.</p>
{summary}      <p><a href="/demo/products">Back to the shop</a></p>
    </section>
"""


def contact_page() -> str:
    return """    <h1>Contact us</h1>
    <p class="lede">Questions about an order, delivery or a return? Write to us.</p>
    <form id="contact" method="post" action="/demo/contact">
      <p class="hint">This demo keeps no messages: nothing you type here leaves your
        browser. With your analytics consent ClearSignal notes which fields you filled
        in, by name, never what you wrote.</p>
      <p><label for="name">Your name</label>
        <input type="text" id="name" autocomplete="name"></p>
      <p><label for="email">E-mail</label>
        <input type="email" id="email" autocomplete="email"></p>
      <p><label for="topic">Topic</label>
        <select id="topic">
          <option>An order</option>
          <option>Delivery</option>
          <option>A return</option>
          <option>Something else</option>
        </select></p>
      <p><label for="message">Message</label>
        <textarea id="message" rows="5"></textarea></p>
      <p><button type="submit">Send message</button></p>
    </form>
"""


def contact_thanks_page() -> str:
    return """    <h1>Thank you for your message</h1>
    <p class="lede">A real shop would answer within a day. This demo keeps no messages.</p>
    <p><a href="/demo/">Back to the shop</a></p>
"""


def privacy_page(site: SiteSettings) -> str:
    notice = site.notice
    purposes = "".join(
        f"      <li><strong>{escape(purpose.id.value.capitalize())}</strong> "
        f"({escape(purpose.lawful_basis.value.replace('_', ' '))}): "
        f"{escape(purpose.description)}</li>\n"
        for purpose in site.purposes
    )
    return f"""    <h1>Privacy notice</h1>
    <p class="lede">Version {escape(notice.version)} (language: {escape(notice.language)}).
      Your consent is recorded under this version and the SHA-256 hash of exactly this
      text.</p>
    <blockquote class="notice" id="notice-text">
      <p>{escape(notice.text)}</p>
    </blockquote>
    <h2>What is processed, and on what basis</h2>
    <ul>
{purposes}    </ul>
    <h2>Your data</h2>
    <p><a href="/me?site={escape(site.id)}">See everything this shop holds about you</a>:
      download it, change or withdraw your consent, or delete it.</p>
"""


def not_found_page() -> str:
    return """    <h1>Not found</h1>
    <p>There is no such page in this shop. <a href="/demo/products">See all products</a>.</p>
"""
