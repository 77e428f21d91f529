"""The steps cut out of one run of activity are judged together for review.

Two shoppers with their hands in one plate at the same time each lift a unit a moment apart:
which of them made which step the cameras cannot tell, but when the two steps are alike, either
way each receipt gets one unit, so neither receipt is in doubt. When the steps differ (one unit
against two), which receipt gets which is a coin toss, and both go to review.
"""

from __future__ import annotations

import pytest
from tests.engine.scenes import Reach, plate_x
from tests.engine.test_hard_cases import COLA, check, new_scene, play

from walkout.engine import Receipt
from walkout.engine.fusion import RunStep, run_confidence


def two_hands_in_one_plate(
    seed: int, units_a: list[float], units_b: list[float]
) -> dict[str, Receipt]:
    """A and B either side of the cola plate, both hands in it from 6.8 s to 9.6 s; A's units
    leave at 7.8 s, B's at 8.6 s (0.8 s apart: two steps of one run, both well inside both
    hands' stays)."""
    x = plate_x(COLA)
    scene = new_scene(seed=seed)
    scene.shopper("ta", "acct-a", 2.0, [(x - 0.2, 5.5, 10.5)], [Reach(COLA, 6.8, 9.6, -0.1)])
    scene.shopper("tb", "acct-b", 4.5, [(x + 0.2, 6.5, 11.0)], [Reach(COLA, 6.8, 9.6, 0.1)])
    scene.pick(COLA, 7.8, sum(units_a))
    scene.pick(COLA, 8.6, sum(units_b))
    return play(scene, 18.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alike_steps_of_one_run_leave_no_doubt(seed: int) -> None:
    """Each lifts one cola: whoever made which step, each receipt holds one cola."""
    receipts = two_hands_in_one_plate(seed, [366.8], [370.1])
    check(
        receipts,
        {"acct-a": {"cola": 1}, "acct-b": {"cola": 1}},
        reviewed={"acct-a": False, "acct-b": False},
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unlike_steps_of_one_run_are_reviewed(seed: int) -> None:
    """A lifts one cola, B two: which receipt holds two colas is a coin toss, so both are
    reviewed (the three colas are on them either way)."""
    receipts = two_hands_in_one_plate(seed, [366.8], [370.1, 367.4])
    assert sum(r.items.get("cola", 0) for r in receipts.values()) == 3
    assert receipts["acct-a"].needs_review
    assert receipts["acct-b"].needs_review


def step(t: float, *outcomes: tuple[tuple[tuple[str, str], ...], float]) -> RunStep:
    """A pick of one run: its time, its outcomes, both shoppers plainly reaching in."""
    return RunStep(t, tuple(outcomes), {"a": 1.0, "b": 1.0})


A, B = (("a", "cola"),), (("b", "cola"),)


def test_run_confidence_counts_every_way_to_the_same_receipts() -> None:
    """Two coin-toss steps of like units: one each is all but sure, though each step alone is
    a coin toss; the same steps with one of them holding two units are a coin toss."""
    alike = [step(8.0, (A, 0.5), (B, 0.5)), step(8.8, (A, 0.5), (B, 0.5))]
    assert run_confidence(alike, [A, B], 0.2, 2.0) > 0.9
    two = (("b", "cola"), ("b", "cola"))
    unlike = [step(8.0, (A, 0.5), (B, 0.5)), step(8.8, ((("a", "cola"),) * 2, 0.5), (two, 0.5))]
    assert run_confidence(unlike, [A, two], 0.2, 2.0) < 0.6


def test_run_confidence_keeps_a_step_that_is_sure_alone_sure() -> None:
    """Steps whose takers are plain stay plain when judged together, and a receipt they do
    not support (A took both) stays unlikely."""
    steps = [step(8.0, (A, 0.99), (B, 0.01)), step(8.8, (B, 0.99), (A, 0.01))]
    assert run_confidence(steps, [A, B], 0.2, 2.0) > 0.99
    assert run_confidence(steps, [A, A], 0.2, 2.0) < 0.01
