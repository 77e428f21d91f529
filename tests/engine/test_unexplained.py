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


def test_a_put_back_nobody_near_holds_returns_the_unit_a_pick_gave_to_another() -> None:
    """B takes a cola with a hand the cameras miss while A, beside B, has a hand seen in the
    cola plate (a camera's wrong guess of its height): the pick goes to A. A walks off across the
    store, out of reach, and stays inside; B puts the cola back. Nothing B holds is a cola, but A's
    cola came from this plate and B was weighed as its taker too: the cola came back by the
    hand that took it, so it leaves A's cart and neither receipt holds it (before, the put-back
    fitted nothing B held and A kept the cola). The pick and the put-back disagree about who
    took it, so A's receipt goes to review."""
    scene = new_scene()
    x = plate_x(COLA)
    scene.pick(COLA, 6.0, 366.4)
    scene.put(COLA, 14.0, 366.4)
    scene.entry(1.0, "acct-a")
    a_path = [(2.0, 0.5, 0.3), (4.5, x + 0.3, 2.4), (7.5, x + 0.3, 2.4), (9.5, 3.0, 1.0)]
    a_path += [(17.0, 3.0, 1.0), (19.0, 3.5, 0.2), (19.8, 3.5, -0.5)]
    scene.person("ta", a_path, [Reach(COLA, 5.3, 6.7)], both_hands=True)
    scene.exit(19.0)
    scene.shopper(
        "tb",
        "acct-b",
        2.5,
        [(x - 0.2, 4.5, 15.5)],
        [Reach(COLA, 5.3, 6.7, hidden="reaching"), Reach(COLA, 13.3, 14.7)],
    )
    receipts = play(scene, 26.0)
    check(receipts, {"acct-a": {}, "acct-b": {}}, reviewed={"acct-a": True})


def test_a_put_back_by_someone_who_was_not_near_the_pick_leaves_the_takers_cart() -> None:
    """A takes a cola alone and walks off across the store; later B, who was nowhere near the
    pick, sets 366 g down on the cola plate. B holds no cola, and could not have taken A's: A
    keeps the cola, and the change nobody's cart explains sends B's receipt to review."""
    scene = new_scene()
    x = plate_x(COLA)
    scene.pick(COLA, 6.0, 366.4)
    scene.put(COLA, 14.0, 366.4)
    scene.entry(1.0, "acct-a")
    a_path = [(2.0, 0.5, 0.3), (4.5, x, 2.4), (7.5, x, 2.4), (9.5, 3.0, 1.0)]
    a_path += [(17.0, 3.0, 1.0), (19.0, 3.5, 0.2), (19.8, 3.5, -0.5)]
    scene.person("ta", a_path, [Reach(COLA, 5.3, 6.7)], both_hands=True)
    scene.exit(19.0)
    scene.shopper("tb", "acct-b", 9.0, [(x, 12.0, 15.5)], [Reach(COLA, 13.3, 14.7)])
    receipts = play(scene, 26.0)
    check(receipts, {"acct-a": {"cola": 1}, "acct-b": {}}, reviewed={"acct-b": True})
