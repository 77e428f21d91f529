"""People who left are forgotten (memory stays bounded), but not while a kept track names them."""

from __future__ import annotations

from tests.engine.scenes import ENTRY_XY, STAND_Y, plate_x, small_store

from walkout.engine.config import EngineConfig
from walkout.engine.store import StoreIndex
from walkout.engine.tracking import HISTORY_S, PeopleTracker


def walk(tracker: PeopleTracker, tid: str, t0: float, t1: float, pos: tuple[float, float]) -> None:
    together(tracker, {tid: pos}, t0, t1)


def together(
    tracker: PeopleTracker, where: dict[str, tuple[float, float]], t0: float, t1: float
) -> None:
    """Track frames at 10 Hz from ``t0`` to ``t1``, each id standing where ``where`` says."""
    t = t0
    while t <= t1 + 1e-9:
        for tid, pos in where.items():
            tracker.on_track(round(t, 3), tid, pos, ())
        t += 0.1


def test_a_person_named_by_another_tracks_history_is_kept_until_that_track_goes() -> None:
    tracker = PeopleTracker(StoreIndex(small_store()), EngineConfig())
    tracker.on_entry(1.0, "in", "acct-a")
    walk(tracker, "ta", 1.1, 1.5, ENTRY_XY)
    walk(tracker, "ta", 1.6, 2.5, (2.5, 0.5))
    tracker.on_entry(2.5, "in", "acct-b")
    together(tracker, {"ta": (2.5, 0.5), "tb": ENTRY_XY}, 2.6, 2.6)
    a = tracker.people[tracker.tracks["ta"].person]
    b = tracker.people[tracker.tracks["tb"].person]
    together(tracker, {"ta": (3.5, 0.3), "tb": (plate_x(1), STAND_Y)}, 2.7, 6.0)
    assert tracker.on_exit(6.0, "out") is not None
    assert not a.inside
    walk(tracker, "tb", 6.1, 6.0 + HISTORY_S - 2.0, (plate_x(1), STAND_Y))  # b shops on
    # a look sweep gave tb to a for a second, then back to b (so on hard-scale-s1-m10: a
    # stale person among the sweep's look-alikes)
    tracker.tracks["tb"].segments += [(HISTORY_S - 1.0, a.pid), (HISTORY_S, b.pid)]
    walk(tracker, "tb", 6.0 + HISTORY_S - 1.9, 6.0 + HISTORY_S + 2.0, (plate_x(1), STAND_Y))
    tracker.prune(6.0 + HISTORY_S + 2.0)
    assert "ta" not in tracker.tracks  # a's own track is forgotten...
    assert a.pid in tracker.people  # ...but not a, whom tb's kept history still names
    # so who was near plate 1 while tb was a's can still be asked
    near = tracker.proximity([1], HISTORY_S - 0.9, HISTORY_S - 0.1)
    assert "acct-a" in {p.account for p in near}
    # once tb is forgotten too, so is a
    tracker.prune(6.0 + 3 * HISTORY_S)
    assert a.pid not in tracker.people
