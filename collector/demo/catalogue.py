"""What the demo shop sells: a few products, their prices and the delivery options.

Prices are whole cents in euros. Bulky products ship by freight, which costs much more
than a parcel: the shipping step shows that cost, as a real shop's checkout would, so a
visitor can meet the shipping-cost shock the signal rules look for.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PRODUCTS", "SHIPPING_OPTIONS", "Product", "ShippingOption", "euros", "product"]


@dataclass(frozen=True)
class Product:
    slug: str
    name: str
    price_cents: int
    summary: str
    details: tuple[str, ...]
    bulky: bool  # ships by freight


@dataclass(frozen=True)
class ShippingOption:
    id: str
    name: str
    days: str
    parcel_cents: int
    freight_cents: int

    def cost(self, item: Product) -> int:
        return self.freight_cents if item.bulky else self.parcel_cents


PRODUCTS: tuple[Product, ...] = (
    Product(
        slug="walnut-desk",
        name="Walnut desk",
        price_cents=48_000,
        summary="A solid walnut writing desk, 120 × 60 cm, with one shallow drawer.",
        details=(
            "Solid American walnut, oiled",
            "120 × 60 × 75 cm, 31 kg",
            "Delivered flat-packed; assembly takes about 20 minutes",
        ),
        bulky=True,
    ),
    Product(
        slug="oak-chair",
        name="Oak chair",
        price_cents=16_000,
        summary="A light oak chair with a woven paper-cord seat.",
        details=("Solid European oak", "Seat height 45 cm, 6 kg", "Delivered assembled"),
        bulky=True,
    ),
    Product(
        slug="linen-lamp",
        name="Linen lamp",
        price_cents=8_500,
        summary="A table lamp with a natural linen shade and a brass switch.",
        details=("Linen shade, brass base", "Height 42 cm", "E27 bulb, not included"),
        bulky=False,
    ),
    Product(
        slug="wool-throw",
        name="Wool throw",
        price_cents=6_500,
        summary="A soft lambswool throw, woven in a herringbone pattern.",
        details=("100 % lambswool", "130 × 180 cm", "Dry clean or hand wash cold"),
        bulky=False,
    ),
)

SHIPPING_OPTIONS: tuple[ShippingOption, ...] = (
    ShippingOption("standard", "Standard delivery", "3 to 5 working days", 690, 3_900),
    ShippingOption("express", "Express delivery", "next working day", 1_490, 7_900),
)


def product(slug: str | None) -> Product | None:
    return next((item for item in PRODUCTS if item.slug == slug), None)


def euros(cents: int) -> str:
    """``48000`` → ``"480.00 €"``."""
    return f"{cents // 100:,}.{cents % 100:02d} €"
