"""Look signatures: what a person's first frames are taken to be."""

from __future__ import annotations

import numpy as np
from tests.engine.scenes import small_store

from walkout.engine.config import EngineConfig
from walkout.engine.store import StoreIndex
from walkout.engine.tracking import PeopleTracker


def walk_in(
    tracker: PeopleTracker,
    track: str,
    account: str,
    t0: float,
    look: np.ndarray,
    rng: np.random.Generator,
    light_step_at: float | None = None,
) -> None:
    """One shopper scanned in and walking north alone for 3 s, a look with every frame;
    from ``light_step_at`` on the light is dimmer and every value of their look shifts."""
    tracker.on_entry(t0 - 1.0, "in", account)
    for k in range(30):
        t = round(t0 + 0.1 * k, 3)
        seen = look + rng.normal(0.0, 0.3, len(look))
        if light_step_at is not None and t >= light_step_at:
            seen = seen - 1.2
        tracker.on_track(t, track, (0.5, 0.3 + 0.08 * k), (), tuple(np.round(seen, 2)))


def test_a_change_of_light_with_nobody_near_is_not_taken_for_a_swap() -> None:
    """A look that jumps halfway through a shopper's first frames, with nobody within reach
    of a swap, is the light (a lamp, another camera's view), not another person: the
    signature keeps all 20 frames. A jump where someone else is near is a swap (see
    test_ids_swapped_while_looks_are_learnt_are_put_right_by_looks)."""
    tracker = PeopleTracker(StoreIndex(small_store()), EngineConfig())
    rng = np.random.default_rng(3)
    walk_in(tracker, "t1", "acct-1", 1.0, np.array([0.9, -0.4, 1.2, 0.1, -1.1, 0.5]), rng)
    walk_in(
        tracker,
        "t2",
        "acct-2",
        10.0,
        np.array([-0.3, 0.8, -0.5, 1.0, 0.6, -0.9]),
        rng,
        light_step_at=11.0,
    )
    second = next(p for p in tracker.people.values() if p.account == "acct-2")
    assert second.signature is not None
    assert second.signature_frames == 20
