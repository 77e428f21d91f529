"""How settled changes of neighbouring plates are told apart: one unit, or a unit beside a plate
that merely moved (ringing, leaning, a shift). Each scene is built with
:mod:`tests.engine.scenes`; what a correct engine must give is known exactly."""

from __future__ import annotations

from tests.engine.scenes import Reach, Scene, small_store
from tests.engine.test_hard_cases import BEER, CHIPS, COLA, check, new_scene, plate_x, play

from walkout.recording.models import Product, StoreLayout


def test_a_neighbour_left_heavier_is_no_part_of_the_unit_lifted() -> None:
    """A lifts a beer (511 g) while the cola plate beside it is left 34 g heavier for 3 s (a
    neighbour pressed on, as on a ringing shelf), then puts the beer down on the chips plate.

    One unit lifted cannot make a neighbour heavier: the two plates are no single event, the
    beer weighs 511 g (not 477 g), and the put-back restores exactly it."""
    scene = new_scene()
    scene.pick(BEER, 6.0, 511.0)
    scene.load.setdefault(COLA, []).extend([(6.1, 34.0), (9.2, -34.0)])
    scene.put(CHIPS, 12.0, 511.0)
    scene.shopper(
        "ta",
        "acct-a",
        2.0,
        [(plate_x(BEER), 4.5, 7.5), (plate_x(CHIPS), 10.5, 13.5)],
        [Reach(BEER, 5.3, 6.7), Reach(CHIPS, 11.3, 12.7)],
    )
    receipts = play(scene, 20.0)
    check(receipts, {"acct-a": {}}, reviewed={"acct-a": False})


def gum_store() -> StoreLayout:
    """:func:`small_store` with a 30 g gum on plate 0 instead of the cola."""
    store = small_store()
    gum = Product(sku="gum", name="Gum", price="0.99", weight_g=30.0, weight_sd_g=0.5)
    plates = [store.plates[0].model_copy(update={"skus": ["gum"]}), *store.plates[1:]]
    return store.model_copy(update={"products": [*store.products, gum], "plates": plates})


def test_a_neighbour_pressed_on_and_let_go_is_no_pick() -> None:
    """A lifts a beer while the gum plate beside it is pressed 28 g heavier; it holds there
    for 3 s, then springs back (-28 g) with nobody reaching in. The spring-back is the plate
    returning to where it was, not a 30 g gum taken."""
    scene = Scene(gum_store(), ramp_s=0.15, press_g=40.0)
    scene.pick(BEER, 6.0, 511.0)
    scene.load.setdefault(0, []).extend([(6.1, 28.0), (9.2, -28.0)])
    scene.shopper("ta", "acct-a", 2.0, [(plate_x(BEER), 4.5, 10.5)], [Reach(BEER, 5.3, 6.7)])
    receipts = play(scene, 18.0)
    check(receipts, {"acct-a": {"beer": 1}}, reviewed={"acct-a": False})


def test_a_unit_weighed_with_a_neighbours_shift_still_matches_its_put_back() -> None:
    """A lifts a light beer (475 g: units run a few percent off the listed 510 g) while the
    cola plate beside it is left 22 g lighter by the touch. Summed, the two read 497 g, which
    fits a beer better than 475 g does, so they are taken for one unit leaning across; but
    whether the 22 g were the beer's is unknown, so the unit's weight is no surer than that,
    and when A puts the beer back (+475 g) it is the beer in A's cart that came back."""
    scene = new_scene()
    scene.pick(BEER, 6.0, 475.0)
    scene.load.setdefault(COLA, []).append((6.1, -22.0))
    scene.put(BEER, 11.0, 475.0)
    scene.shopper(
        "ta",
        "acct-a",
        2.0,
        [(plate_x(BEER), 4.5, 12.5)],
        [Reach(BEER, 5.3, 6.7), Reach(BEER, 10.3, 11.7)],
    )
    receipts = play(scene, 20.0)
    check(receipts, {"acct-a": {}}, reviewed={"acct-a": False})
