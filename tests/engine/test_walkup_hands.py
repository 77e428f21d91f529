"""Both hands seen at a shopper's sides as they walk up to a plate do not clear them of a run
their reaching hand, hidden, may have made."""

from __future__ import annotations

from tests.engine.scenes import Reach, Scene
from tests.engine.test_block_physics import gum_store
from tests.engine.test_hard_cases import plate_x, play


def test_hands_at_the_sides_while_walking_up_do_not_clear_a_hidden_reach() -> None:
    """As the null-run scene in test_hidden_null_run, but A's hidden reach begins only just
    before the run: A's hands were seen at A's sides in the moment before, walking up. Those
    frames are no alibi for the run itself, so both receipts still go to review."""
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
        [Reach(0, 5.3, 6.7, -0.1), Reach(0, 13.6, 15.0, -0.1, hidden="reaching")],
    )
    scene.shopper("tb", "acct-b", 8.0, [(x + 0.2, 11.0, 17.0)], [Reach(0, 14.1, 15.1, 0.1)])
    receipts = play(scene, 24.0)
    assert receipts["acct-a"].items == {"gum": 1}
    assert receipts["acct-a"].needs_review, receipts["acct-a"]
    assert receipts["acct-b"].needs_review, receipts["acct-b"]
