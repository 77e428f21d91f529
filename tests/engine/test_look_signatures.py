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


def test_a_leaver_whose_id_never_showed_a_look_is_told_by_the_look_at_the_exit() -> None:
    """Shopper C's id showed no look from the entry on (the camera had no clear view), so
    C's look was never learnt. Half a second before the exit the id shows a look that is
    plainly shopper A's, whose own id is dark across the store: ids changed people unseen,
    and it is A who leaves, not C."""
    tracker = PeopleTracker(StoreIndex(small_store()), EngineConfig())
    rng = np.random.default_rng(11)
    look_a = np.array([0.9, -0.4, 1.2, 0.1, -1.1, 0.5])
    walk_in(tracker, "t1", "acct-1", 1.0, look_a, rng)
    tracker.on_entry(8.5, "in", "acct-3")
    for k in range(90):  # A's id walks off and stands; C's id from the entry to the exit
        t = round(4.0 + 0.1 * k, 3)
        tracker.on_track(t, "t1", (0.5 + min(0.05 * k, 2.0), 2.62), (), None)
        if t >= 9.0:
            look = tuple(np.round(look_a + rng.normal(0.0, 0.3, 6), 2)) if t >= 12.5 else None
            tracker.on_track(t, "t3", (0.5 + 0.075 * (k - 50), 0.6 - 0.01 * (k - 50)), (), look)
    assert next(p for p in tracker.people.values() if p.track == "t3").account == "acct-3"
    leaving = tracker.on_exit(12.95, "out")
    assert leaving is not None
    assert leaving.account == "acct-1"


def test_a_look_like_someone_seen_elsewhere_as_themselves_does_not_take_the_exit() -> None:
    """The id crossing the exit shows a look that fits shopper O far better than its own
    holder H. But O's own id is seen across the store at that moment, still looking like O:
    O is there, and the look at the gate is a look-alike's. O is not the one leaving (closing
    O's receipt now would end a shopping trip that goes on); the exit stays with its id."""
    tracker = PeopleTracker(StoreIndex(small_store()), EngineConfig())
    rng = np.random.default_rng(13)
    look_h = np.array([0.9, -0.4, 1.2, 0.1, -1.1, 0.5])
    look_o = np.array([-0.3, 0.8, -0.5, 1.0, 0.6, -0.9])
    walk_in(tracker, "t1", "acct-1", 1.0, look_h, rng)
    walk_in(tracker, "t2", "acct-2", 5.0, look_o, rng)
    for k in range(40):  # O stands, seen as themselves; H's id walks to the exit
        t = round(8.0 + 0.1 * k, 3)
        o_seen = tuple(np.round(look_o + rng.normal(0.0, 0.3, 6), 2))
        tracker.on_track(t, "t2", (0.5 + min(0.05 * k, 2.0), 2.62), (), o_seen)
        at_gate = look_o if t >= 11.5 else look_h
        seen = tuple(np.round(at_gate + rng.normal(0.0, 0.3, 6), 2))
        tracker.on_track(t, "t1", (0.5 + 0.075 * k, 2.62 - 0.06 * k), (), seen)
    leaving = tracker.on_exit(11.95, "out")
    assert leaving is not None
    assert leaving.account == "acct-1"
    assert next(p for p in tracker.people.values() if p.account == "acct-2").inside


def test_a_leaver_on_an_id_nobody_was_given_is_told_by_the_look_at_the_exit() -> None:
    """A new id starts across the store where no lost shopper could be: the tracker gives it
    to nobody, and learns that nobody's look. Meanwhile shopper A's id stands at the shelf
    with no look shown (no clear view; ids may change people unseen). Then the nobody's id
    walks out showing A's look plainly, a look near enough to the nobody's own to pass for
    it, but far nearer A's. It is A who leaves: A's receipt is final now instead of waiting
    for A's id to leave or be given up on, and the nobody takes A's old id. A look learnt
    from an id nobody was given is no evidence that the body under it is that nobody."""
    tracker = PeopleTracker(StoreIndex(small_store()), EngineConfig())
    rng = np.random.default_rng(17)
    look_a = np.array([0.9, -0.4, 1.2, 0.1, -1.1, 0.5])
    look_x = look_a + 0.3
    walk_in(tracker, "t1", "acct-1", 1.0, look_a, rng)
    for k in range(45):
        t = round(4.0 + 0.1 * k, 3)
        tracker.on_track(t, "t1", (0.5, 2.62), (), None)  # A's id, no look shown
        walked = max(k - 25, 0)  # the new id stands, then walks to the exit as A
        seen = tuple(np.round((look_x if k < 25 else look_a) + rng.normal(0.0, 0.3, 6), 2))
        tracker.on_track(t, "tx", (3.3 + 0.01 * walked, 2.0 - 0.1 * walked), (), seen)
    holder = next(p for p in tracker.people.values() if p.track == "tx")
    assert holder.account is None
    leaving = tracker.on_exit(8.35, "out")
    assert leaving is not None
    assert leaving.account == "acct-1"
    assert leaving.account_done
    assert next(p for p in tracker.people.values() if p.track == "t1").account is None


def newcomer_beside(swap_t: float, until: float) -> PeopleTracker:
    """A came in half a second ago (5.5 s) and stands just past the gate; B steps in 0.2 m from
    A at 6.0 s, and from ``swap_t`` on the camera system shows A's body under B's new id and
    B's under A's. That close, motion cannot tell. Frames are played until ``until``."""
    tracker = PeopleTracker(StoreIndex(small_store()), EngineConfig())
    rng = np.random.default_rng(5)
    look_a = np.array([0.9, -0.4, 1.2, 0.1, -1.1, 0.5])
    look_b = np.array([-0.3, 0.8, -0.5, 1.0, 0.6, -0.9])
    # C, in and gone north earlier, so that the spread of one person's look is known
    walk_in(tracker, "tc", "acct-c", 0.0, np.array([0.2, 0.1, -1.2, -0.6, 0.4, 1.1]), rng)
    tracker.on_entry(5.0, "in", "acct-a")
    tracker.on_entry(5.6, "in", "acct-b")

    def frame(t: float, track: str, pos: tuple[float, float], look: np.ndarray) -> None:
        jitter = rng.normal(0.0, 0.02, 2)
        seen = tuple(np.round(look + rng.normal(0.0, 0.3, len(look)), 2))
        tracker.on_track(t, track, (pos[0] + jitter[0], pos[1] + jitter[1]), (), seen)

    for k in range(30):
        t = round(5.5 + 0.1 * k, 3)
        if t > until:
            break
        a_at = (0.5 + 0.1 * min(k, 1), 0.3 + 0.2 * min(k, 1))  # a step in, then A stands
        b_at = (0.5, 0.3)
        if t < 6.0:
            frame(t, "ta", a_at, look_a)
        elif t < swap_t:
            frame(t, "ta", a_at, look_a)
            frame(t, "tb", b_at, look_b)
        else:
            frame(t, "tb", a_at, look_a)
            frame(t, "ta", b_at, look_b)
    return tracker


def accounts_by_track(
    tracker: PeopleTracker, ids: tuple[str, ...] = ("ta", "tb")
) -> dict[str, str | None]:
    """Whose account each of the ids is given to."""
    return {p.track: p.account for p in tracker.people.values() if p.track in ids}


def test_ids_swapped_a_frame_after_a_newcomers_birth_are_told_by_the_look_the_old_id_had() -> None:
    """The ids swap one frame after B's birth. A's signature is not learnt yet (five frames),
    but the look A's id carried just before the meeting tells the meeting judge whose body
    each id shows after it: at its verdict, a second after the meeting, each id is its
    person's again, instead of staying swapped until the signatures are learnt."""
    tracker = newcomer_beside(swap_t=6.1, until=7.4)
    assert accounts_by_track(tracker) == {"tb": "acct-a", "ta": "acct-b"}
    a = next(p for p in tracker.people.values() if p.account == "acct-a")
    assert a.signature is None  # the look learnt from A's first frames would not have told


def test_ids_swapped_at_a_newcomers_first_frame_are_given_back_in_the_next_tick() -> None:
    """The ids swap at B's very first frame: B's new id is born where A stands, showing A's
    look, and A's id jumps to B. The look A's id carried until then tells it as soon as that
    camera tick is over: each id is its person's again a tenth of a second later, not at the
    meeting judge's verdict a second later."""
    tracker = newcomer_beside(swap_t=6.0, until=6.1)
    assert accounts_by_track(tracker) == {"tb": "acct-a", "ta": "acct-b"}


def test_three_ids_that_changed_people_at_a_newcomers_first_frame_are_all_given_back() -> None:
    """A and B stand by the entry gate, 0.35 m apart; C steps in beside them, and at C's very
    first frame the camera system moves all three ids round: C's new id is born on A, A's id
    jumps to B and B's to C. Matching every id beside the birth to the look it carried until
    then (not one pair at a time, which would leave two of them on the wrong body) gives
    each id back to its person as soon as that camera tick is over."""
    tracker = PeopleTracker(StoreIndex(small_store()), EngineConfig())
    rng = np.random.default_rng(9)
    looks = {
        "a": np.array([0.9, -0.4, 1.2, 0.1, -1.1, 0.5]),
        "b": np.array([-0.3, 0.8, -0.5, 1.0, 0.6, -0.9]),
        "c": np.array([1.1, 0.9, 0.3, -1.2, 0.2, -0.4]),
    }
    walk_in(tracker, "tz", "acct-z", 0.0, np.array([0.2, 0.1, -1.2, -0.6, 0.4, 1.1]), rng)
    tracker.on_entry(4.0, "in", "acct-a")
    tracker.on_entry(4.6, "in", "acct-b")
    tracker.on_entry(5.6, "in", "acct-c")
    stand = {"a": (0.7, 0.6), "b": (0.35, 0.55), "c": (0.5, 0.3)}
    for k in range(17):
        t = round(4.5 + 0.1 * k, 3)
        shown = {"a": "ta"}  # which id shows whose body this tick
        if t >= 5.1:
            shown["b"] = "tb"
        if t >= 6.0:
            shown = {"a": "tc", "b": "ta", "c": "tb"}
        for who, track in shown.items():
            at = stand[who] if t > 4.5 + (who == "b") * 0.6 else (0.5, 0.3)
            seen = tuple(np.round(looks[who] + rng.normal(0.0, 0.3, 6), 2))
            tracker.on_track(t, track, at, (), seen)
    assert accounts_by_track(tracker, ("ta", "tb", "tc")) == {
        "tc": "acct-a",
        "ta": "acct-b",
        "tb": "acct-c",
    }
