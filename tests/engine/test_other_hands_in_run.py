"""An account whose hand was in the plate during a merged run may own part of it."""

from __future__ import annotations

import pytest
from tests.engine.scenes import Reach
from tests.engine.test_hard_cases import CHIPS, new_scene, plate_x, play


@pytest.mark.parametrize(("seed", "gap_s"), [(0, 0.2), (1, 0.25)])
def test_a_put_back_merged_into_anothers_pick_reviews_the_put_backs_receipt(
    seed: int, gap_s: float
) -> None:
    """A took a chips. Later B lifts two chips, and A's hand, coming in just after, puts the
    chips back 0.2-0.25 s later: too soon for the two steps to be cut apart, so the plate reads
    one chips taken, when B's hand alone was in the plate. B gets it, unsure (A's hand was in
    the run). A's receipt still holds the chips A put back: A's hand in the run is a doubt on
    A's receipt too, so it goes to review, not out as sure."""
    scene = new_scene(seed=seed)
    x = plate_x(CHIPS)
    scene.pick(CHIPS, 5.0, 160.4)
    scene.pick(CHIPS, 10.0, 321.0)
    scene.put(CHIPS, 10.0 + gap_s, 160.4)
    scene.shopper(
        "ta",
        "acct-a",
        2.0,
        [(x - 0.2, 4.0, 12.0)],
        [Reach(CHIPS, 4.3, 5.7, -0.1), Reach(CHIPS, 10.05, 11.2, -0.1)],
    )
    scene.shopper("tb", "acct-b", 4.5, [(x + 0.2, 8.0, 12.5)], [Reach(CHIPS, 9.3, 10.7, 0.1)])
    receipts = play(scene, 20.0)
    assert receipts["acct-b"].needs_review
    assert receipts["acct-a"].needs_review, receipts["acct-a"]
