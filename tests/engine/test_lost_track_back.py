"""Who a new track id is: a shopper lost a moment ago beside it, or a nobody lost long ago."""

from __future__ import annotations

import numpy as np
from tests.engine.scenes import small_store

from walkout.engine.config import EngineConfig
from walkout.engine.store import StoreIndex
from walkout.engine.tracking import PeopleTracker


def test_a_new_id_beside_a_shopper_lost_a_moment_ago_is_theirs_not_a_long_lost_nobodys() -> None:
    """An id with no scan behind it (nobody's) was seen for a second at the back of the store
    and lost 18 s ago. Shopper A's id is lost 0.7 s before a new id appears 0.8 m from where
    A was last seen. The nobody could have walked there in 18 s, as far as a fraction of how
    far they could be goes; but they could be anywhere by now, and A could only be here."""
    tracker = PeopleTracker(StoreIndex(small_store()), EngineConfig())
    for k in range(10):  # nobody's id, far from the gates
        tracker.on_track(round(1.0 + 0.1 * k, 3), "n1", (4.5, 4.5), (), None)
    tracker.on_entry(2.5, "in", "acct-1")
    for k in range(165):  # A walks in and up to the shelf, then stands
        t = round(3.0 + 0.1 * k, 3)
        tracker.on_track(t, "a1", (0.5 + min(0.01 * k, 1.0), min(0.3 + 0.03 * k, 2.4)), (), None)
    last = tracker.tracks["a1"].t[-1]
    tracker.on_track(round(last + 0.7, 3), "a2", (1.5, 3.2), (), None)
    assert tracker.people[tracker.tracks["a2"].person].account == "acct-1"


def test_a_new_id_at_the_entry_with_a_lost_shoppers_look_is_theirs_not_the_next_scans() -> None:
    """Shopper A walked in and lingers just inside the entry gate; stepping back towards it,
    A's id is lost, and a new id appears in the gate 0.8 m from where A was lost, with A's
    look. B was scanned meanwhile, so by place alone the new id is B coming through. By look
    it is A come back: B's scan waits for B, who comes through a second later. Taking the scan
    for it would give B's account to A's new id and leave B with none (on the hard-scale
    store, such a theft shifted a gate's whole queue of scans by one)."""
    tracker = PeopleTracker(StoreIndex(small_store()), EngineConfig())
    rng = np.random.default_rng(5)
    look_a = np.array([0.9, -0.4, 1.2, 0.1, -1.1, 0.5])
    look_b = np.array([-0.3, 0.8, -0.5, 1.0, 0.6, -0.9])

    def seen(look: np.ndarray) -> tuple[float, ...]:
        return tuple(np.round(look + rng.normal(0.0, 0.3, len(look)), 2))

    tracker.on_entry(0.5, "in", "acct-1")
    for k in range(30):  # A walks in and turns along the front, near the gate
        t = round(1.0 + 0.1 * k, 3)
        tracker.on_track(t, "a1", (0.5 + 0.013 * k, 0.3 + 0.025 * k), (), seen(look_a))
    tracker.on_entry(3.5, "in", "acct-2")
    tracker.on_track(4.8, "a2", (0.55, 0.3), (), tuple(look_a))  # lost 0.9 s, 0.8 m off
    for k in range(1, 20):
        t = round(4.8 + 0.1 * k, 3)
        tracker.on_track(t, "a2", (0.55 + 0.05 * k, 0.3 + 0.05 * k), (), seen(look_a))
        if k >= 10:
            tracker.on_track(t, "b1", (0.5, 0.2 + 0.05 * (k - 10)), (), seen(look_b))
    assert tracker.people[tracker.tracks["a2"].person].account == "acct-1"
    assert tracker.people[tracker.tracks["b1"].person].account == "acct-2"


def test_an_entrant_dressed_like_a_shopper_lost_across_the_floor_takes_their_own_scan() -> None:
    """The look beats a scan only for someone lost a moment ago close by. Shopper A is lost
    2 m inside the store; half a second later B, scanned meanwhile and dressed like A, comes
    through the gate. B is the entrant: A could hardly have walked back to the gate unseen, and
    look-alikes are common (taking B for A would leave B's scan to the next in the queue)."""
    tracker = PeopleTracker(StoreIndex(small_store()), EngineConfig())
    rng = np.random.default_rng(7)
    look_a = np.array([0.9, -0.4, 1.2, 0.1, -1.1, 0.5])

    def seen(look: np.ndarray) -> tuple[float, ...]:
        return tuple(np.round(look + rng.normal(0.0, 0.3, len(look)), 2))

    tracker.on_entry(0.5, "in", "acct-1")
    for k in range(30):  # A walks in, north-east, 2 m from the gate
        t = round(1.0 + 0.1 * k, 3)
        tracker.on_track(t, "a1", (0.5 + 0.035 * k, 0.3 + 0.06 * k), (), seen(look_a))
    tracker.on_entry(3.5, "in", "acct-2")
    for k in range(10):  # B, in A's clothes, 0.5 s after A's id was lost
        tracker.on_track(round(4.4 + 0.1 * k, 3), "b1", (0.5, 0.2 + 0.05 * k), (), tuple(look_a))
    assert tracker.people[tracker.tracks["b1"].person].account == "acct-2"
