"""A light unit passing between two hands in one run, when one of the hands is hidden."""

from __future__ import annotations

from tests.engine.scenes import Reach, Scene
from tests.engine.test_block_physics import gum_store
from tests.engine.test_hard_cases import plate_x, play

from walkout.engine import Receipt


def gum_passed_between_hands(hidden_reach_from: float) -> dict[str, Receipt]:
    """A took a 30 g gum; later A puts it back with a reaching hand the cameras miss from
    ``hidden_reach_from`` all through the run (the other hand is seen at A's side), standing
    at the plate, and B, whose hand is plainly in the plate, lifts one 0.6 s later. The run
    ends where it began (30 g steps are lighter than a pressing hand's bump), so it looks like
    a touch."""
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
        [Reach(0, 5.3, 6.7, -0.1), Reach(0, hidden_reach_from, 15.0, -0.1, hidden="reaching")],
    )
    scene.shopper("tb", "acct-b", 8.0, [(x + 0.2, 11.0, 17.0)], [Reach(0, 14.1, 15.1, 0.1)])
    return play(scene, 24.0)


def test_a_light_unit_put_back_by_a_hidden_hand_and_lifted_by_another_reviews_both() -> None:
    """A's hidden hand may still have set the gum down: either receipt may be a gum out, so
    both go to review."""
    receipts = gum_passed_between_hands(12.5)
    assert receipts["acct-a"].items == {"gum": 1}
    assert receipts["acct-a"].needs_review, receipts["acct-a"]
    assert receipts["acct-b"].needs_review, receipts["acct-b"]


def test_hands_at_the_sides_while_walking_up_do_not_clear_a_hidden_reach() -> None:
    """The same, but A's hidden reach begins only 0.4 s before the run: in the moment before,
    A's hands were seen at A's sides, walking up. Those frames are no alibi for the run
    itself, so both receipts still go to review."""
    receipts = gum_passed_between_hands(13.6)
    assert receipts["acct-a"].items == {"gum": 1}
    assert receipts["acct-a"].needs_review, receipts["acct-a"]
    assert receipts["acct-b"].needs_review, receipts["acct-b"]
