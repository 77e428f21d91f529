"""Changes no product explains: whoever reached in is not to be trusted blindly."""

from __future__ import annotations

from tests.engine.scenes import Reach, Scene
from tests.engine.test_block_physics import gum_store
from tests.engine.test_hard_cases import CHIPS, COLA, check, new_scene, plate_x, play


def test_a_change_no_product_explains_sends_the_reachers_receipt_to_review() -> None:
    """A reaches into the chips plate and 1,000 g leaves it (no count of 160 g chips, nor any
    unit known to lie there). The engine cannot say what A took: A's receipt, empty as far
    as it knows, must go to review, not out as an empty receipt."""
    scene = new_scene()
    scene.pick(CHIPS, 6.0, 1000.0)
    scene.shopper("ta", "acct-a", 2.0, [(plate_x(CHIPS), 4.5, 7.5)], [Reach(CHIPS, 5.3, 6.7)])
    receipts = play(scene, 14.0)
    check(receipts, {"acct-a": {}}, reviewed={"acct-a": True})


def test_a_weight_set_down_and_lifted_again_leaves_no_doubt() -> None:
    """A rests something of 60 g (a phone, a glove) on the cola plate for 3 s and lifts it
    again, then takes a chips. No product is 60 g, but the plate came back where it was:
    nothing changed hands, and A's receipt is sure."""
    scene = new_scene()
    scene.load.setdefault(COLA, []).extend([(6.0, 60.0), (9.0, -60.0)])
    scene.touches.extend([(COLA, 5.4, 6.6), (COLA, 8.4, 9.6)])
    scene.pick(CHIPS, 13.0, 160.4)
    scene.shopper(
        "ta",
        "acct-a",
        2.0,
        [(plate_x(COLA), 4.5, 10.5), (plate_x(CHIPS), 11.5, 14.0)],
        [Reach(COLA, 5.3, 6.7), Reach(COLA, 8.3, 9.7), Reach(CHIPS, 12.3, 13.7)],
    )
    receipts = play(scene, 22.0)
    check(receipts, {"acct-a": {"chips": 1}}, reviewed={"acct-a": False})


def test_a_light_unit_passing_between_two_hands_in_one_run_sends_both_to_review() -> None:
    """A took a 30 g gum; later, with B's hand in the gum plate beside A's, A puts it back and
    B lifts one 0.6 s later. The run ends where it began, and 30 g steps are lighter than a
    pressing hand's bump, so the two steps cannot be cut apart: it looks like a touch. Either
    receipt may be a gum out, so both go to review."""
    scene = Scene(gum_store(), ramp_s=0.15, press_g=40.0)
    x = plate_x(0)
    scene.pick(0, 6.0, 30.2)
    scene.put(0, 14.0, 30.2)
    scene.pick(0, 14.6, 29.8)
    scene.shopper(
        "ta",
        "acct-a",
        2.0,
        [(x - 0.2, 4.5, 16.0)],
        [Reach(0, 5.3, 6.7, -0.1), Reach(0, 13.5, 14.5, -0.1)],
    )
    scene.shopper("tb", "acct-b", 8.0, [(x + 0.2, 11.0, 17.0)], [Reach(0, 14.1, 15.1, 0.1)])
    receipts = play(scene, 24.0)
    assert receipts["acct-a"].needs_review, receipts["acct-a"]
    assert receipts["acct-b"].needs_review, receipts["acct-b"]
