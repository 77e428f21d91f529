"""Who a new track id is: a shopper lost a moment ago beside it, or a nobody lost long ago."""

from __future__ import annotations

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
