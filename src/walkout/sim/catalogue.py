"""Product templates a generated store is stocked from, so names, weights and prices look real.

Several brands of one item make natural near-equal weights between products, as in a real store.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from walkout.recording.models import Product


@dataclass(frozen=True, slots=True)
class Template:
    """An item a product can be: its weight and price ranges and whether ID is checked."""

    item: str
    weight_g: tuple[float, float]
    price: tuple[float, float]
    age_restricted: bool = False
    wide: bool = False


ITEMS: tuple[Template, ...] = (
    Template("Cola 355ml can", (362, 372), (0.99, 1.49)),
    Template("Sparkling water 500ml", (520, 540), (0.89, 1.39)),
    Template("Orange juice 1L", (1050, 1100), (2.49, 3.99)),
    Template("Milk 1L", (1030, 1060), (1.19, 1.89)),
    Template("Greek yogurt 150g", (160, 175), (0.99, 1.59)),
    Template("Potato chips 150g", (160, 180), (1.79, 2.99)),
    Template("Chocolate bar 100g", (104, 110), (1.29, 2.49)),
    Template("Chewing gum", (30, 38), (0.99, 1.49)),
    Template("Granola bar", (40, 52), (0.79, 1.29)),
    Template("Instant noodles", (85, 120), (0.59, 1.29)),
    Template("Pasta 500g", (505, 520), (1.19, 2.29)),
    Template("Rice 1kg", (1010, 1030), (1.99, 3.49)),
    Template("Tomato sauce jar", (600, 700), (1.99, 3.29)),
    Template("Peanut butter 340g", (420, 460), (2.49, 3.99)),
    Template("Coffee beans 250g", (260, 280), (5.99, 9.99)),
    Template("Tea 20 bags", (50, 70), (1.99, 3.99)),
    Template("Shampoo 400ml", (430, 470), (3.49, 6.99)),
    Template("Toothpaste 75ml", (110, 130), (1.99, 3.49)),
    Template("Dish soap 500ml", (540, 580), (1.49, 2.99)),
    Template("Canned tuna", (180, 200), (1.29, 2.49)),
    Template("Canned beans 400g", (460, 480), (0.89, 1.49)),
    Template("Cereal 375g", (420, 450), (2.99, 4.49)),
    Template("Cookies 200g", (215, 230), (1.99, 3.29)),
    Template("Olive oil 750ml", (1350, 1450), (6.99, 11.99)),
    Template("Energy drink 250ml", (270, 285), (1.49, 2.49)),
    Template("Hand sanitizer 100ml", (120, 135), (1.99, 2.99)),
    Template("Crackers 250g", (250, 275), (1.79, 2.79)),
    Template("Honey 500g", (680, 720), (4.49, 6.99)),
    Template("Mints tin", (45, 55), (1.49, 2.49)),
    Template("Lager beer 330ml bottle", (530, 560), (1.49, 2.49), age_restricted=True),
    Template("IPA 440ml can", (460, 480), (2.49, 3.99), age_restricted=True),
    Template("Red wine 750ml", (1200, 1350), (7.99, 19.99), age_restricted=True),
    Template("White wine 750ml", (1200, 1300), (7.99, 16.99), age_restricted=True),
    Template("Hard cider 500ml", (540, 570), (2.29, 3.49), age_restricted=True),
    Template("Family cereal 750g", (820, 860), (4.99, 6.99), wide=True),
    Template("Paper towels 4 rolls", (600, 700), (4.49, 6.49), wide=True),
    Template("Party chips 400g", (420, 450), (3.99, 5.49), wide=True),
    Template("Toilet paper 4 rolls", (450, 520), (3.49, 5.49), wide=True),
)

BRANDS: tuple[str, ...] = (
    "Acme", "Northfield", "Bluebird", "Sunny", "Harbor", "Maple", "Orchard", "Summit",
    "Riverside", "Golden", "Prairie", "Coastal", "Evergreen", "Meadow", "Pioneer", "Willow",
)  # fmt: skip

MAX_WEIGHT_G = 1500.0


def pick_template(rng: np.random.Generator, *, age: bool, wide: bool) -> Template:
    """A template of the wanted kind (wide ones for straddlers, beer and wine for age)."""
    pool = [t for t in ITEMS if t.age_restricted == age and (t.wide == wide or age)]
    return pool[int(rng.integers(len(pool)))]


def make_product(
    rng: np.random.Generator, template: Template, sku: str, sd_frac: tuple[float, float]
) -> Product:
    """A product drawn from a template: a brand, a weight in range, a spread and a price."""
    lo, hi = template.weight_g
    weight = round(float(rng.uniform(lo, min(hi, MAX_WEIGHT_G))), 1)
    return product_like(rng, template, sku, weight, sd_frac)


def product_like(
    rng: np.random.Generator,
    template: Template,
    sku: str,
    weight_g: float,
    sd_frac: tuple[float, float],
) -> Product:
    """A product of a template with a given listed weight (used for near-equal neighbours)."""
    brand = BRANDS[int(rng.integers(len(BRANDS)))]
    sd = round(weight_g * float(rng.uniform(*sd_frac)), 1)
    price = Decimal(f"{rng.uniform(*template.price):.2f}")
    return Product(
        sku=sku,
        name=f"{brand} {template.item}",
        price=price,
        weight_g=weight_g,
        weight_sd_g=max(sd, 0.1),
        age_restricted=template.age_restricted,
    )


def new_sku(rng: np.random.Generator, taken: set[str]) -> str:
    """A fresh 12-digit code (UPC-like) not used yet in this store."""
    while True:
        sku = "0" + "".join(str(int(d)) for d in rng.integers(0, 10, size=11))
        if sku not in taken:
            taken.add(sku)
            return sku
