"""Each receipt is reviewed for its own doubt, not for a neighbour's in the same event or run."""

from __future__ import annotations

import pytest
from tests.engine.scenes import Reach, Scene, plate_x
from tests.engine.test_alike_units_shared import JUICE, juice_store
from tests.engine.test_hard_cases import check, play

from walkout.engine.fusion import RunStep, run_posteriors


@pytest.mark.parametrize(("seed", "grams"), [(0, 900.0), (1, 915.0)])
def test_one_takers_doubt_in_a_run_is_not_the_others(seed: int, grams: float) -> None:
    """A lifts a light carton of juice (900-915 g: four cookie boxes weigh 960 g) as B's hand
    comes into the plate; B lifts a cookie box 1.3 s later, after A's hand has left, in the
    same run of activity. Who made which step is plain; only whether A took a carton or four
    boxes is not. A's receipt goes to review; B's, one box either way, does not."""
    scene = Scene(juice_store(), seed=seed, ramp_s=0.15, press_g=40.0)
    x = plate_x(JUICE)
    scene.shopper("ta", "acct-a", 2.0, [(x - 0.2, 5.0, 9.0)], [Reach(JUICE, 5.8, 7.0, -0.1)])
    scene.shopper("tb", "acct-b", 4.5, [(x + 0.2, 6.0, 10.0)], [Reach(JUICE, 6.9, 8.4, 0.1)])
    scene.pick(JUICE, 6.4, grams)
    scene.pick(JUICE, 7.7, 241.0)
    receipts = play(scene, 18.0)
    check(
        receipts,
        {"acct-a": {"juice": 1}, "acct-b": {"cookies": 1}},
        reviewed={"acct-a": True, "acct-b": False},
    )


def test_run_posteriors_give_each_account_its_own() -> None:
    """Two steps whose takers are plain; the first is a carton or four boxes, 0.8 / 0.2. Both
    receipts together are 0.8 sure, A's 0.8, B's (one box from the second step) all but 1."""
    a_juice, a_boxes = (("a", "juice"),), (("a", "cookies"),) * 4
    b_box, a_box = (("b", "cookies"),), (("a", "cookies"),)
    steps = [
        RunStep(6.4, ((a_juice, 0.8), (a_boxes, 0.2)), {"a": 1.0, "b": 0.01}),
        RunStep(7.7, ((b_box, 0.99), (a_box, 0.01)), {"a": 0.01, "b": 1.0}),
    ]
    joint, per = run_posteriors(steps, [a_juice, b_box], 0.2, 2.0)
    assert joint == pytest.approx(0.8, abs=0.02)
    assert per["a"] == pytest.approx(0.8, abs=0.02)
    assert per["b"] > 0.98
