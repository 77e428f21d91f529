"""Units of one product shared out among several people: who took how many is one way."""

from __future__ import annotations

import pytest
from tests.engine.scenes import Reach, Scene, plate_x, small_store
from tests.engine.test_hard_cases import check, play

from walkout.recording.models import Product, StoreLayout

JUICE = 0  # the plate of juice_store() holding juice and cookies


def juice_store() -> StoreLayout:
    """small_store() with 1,000 g juice cartons and 240 g cookie boxes on plate 0: four
    boxes of cookies weigh about what a light carton of juice does (cartons run 25 g apart)."""
    base = small_store()
    products = [
        *base.products,
        Product(sku="juice", name="Juice 1L", price="2.64", weight_g=1000.0, weight_sd_g=25.0),
        Product(sku="cookies", name="Cookies", price="2.00", weight_g=240.0, weight_sd_g=4.0),
    ]
    plates = [base.plates[0].model_copy(update={"skus": ["juice", "cookies"]}), *base.plates[1:]]
    return base.model_copy(update={"products": products, "plates": plates})


@pytest.mark.parametrize("grams", [1002.0, 1010.0])
def test_a_partner_standing_by_does_not_make_many_units_likelier(grams: float) -> None:
    """A party of two at the juice plate: one reaches in (hand seen) and lifts a carton of
    juice; the other stands beside with hands the cameras do not see. Four cookie boxes (960 g)
    are likelier with two people who may share them out, but each split (two each, three and
    one, ...) is one way, not one per order of the alike boxes (six ways for two each, as if
    each box were another product). One carton, and the receipt is sure (0.75-0.86 before)."""
    scene = Scene(juice_store(), ramp_s=0.15, press_g=40.0)
    x = plate_x(JUICE)
    scene.shopper("p1", "acct-party", 2.0, [(x - 0.2, 5.5, 9.5)], [Reach(JUICE, 6.8, 8.2, -0.1)])
    scene.shopper("p2", "acct-party", 4.5, [(x + 0.2, 6.5, 11.0)], hands_visible=False)
    scene.pick(JUICE, 7.5, grams)
    receipts = play(scene, 18.0)
    check(receipts, {"acct-party": {"juice": 1}}, reviewed={"acct-party": False})
