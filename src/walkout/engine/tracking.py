"""Who is who: from opaque camera track ids to the people inside and the accounts they belong to.

Track ids are not people. A person is admitted by an entry scan (the first new track at that
gate afterwards), may lose their track and come back under a new id (matched to the person whose
track fell silent nearby), and may have their id swapped with another's when two people cross
(judged once they separate, by which assignment keeps both walking as they were, and, when the
camera system sends an appearance descriptor with each frame (the optional ``look``), by whose
look each id now carries). The mapping from
track id to person is therefore kept as time segments, and the history of each id is kept for a
short horizon so that a weight event can ask who had a hand near a plate at a given time.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

from walkout.engine.config import EngineConfig
from walkout.engine.store import StoreIndex

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MIN_FIT_SAMPLES = 5
"""Samples a track needs on each side of a meeting before its motion is trusted to judge."""

SWAP_MARGIN = 12.0
"""How much better (squared standard errors) a swap must explain the motion than keeping
ids: swaps are rare, and wrongly swapping two shoppers costs two receipts."""

DOUBT_GAIN = 2.0
"""Keeping ids although another order explains the motion better by more than this (squared
standard errors, but short of ``SWAP_MARGIN``) is noted as a doubt. Orders about as good as
keeping are no doubt: people standing or walking side by side fit either way. Measured on the
simulated busy and hard stores, seeds 1-16 (524 meetings judged, 23 true swaps): 21 swaps
cost more than 12 to keep, 2 looked like none (keeping fit better by 8 or more), and none of
the 41 kept meetings whose best alternative was within -12..+4 of keeping was a swap."""

MAX_KNOT = 6
"""Most track ids judged together (6! orders); a bigger crowd keeps its ids as they are."""

ARM_REACH_M = 2.5
"""Hands are not looked at for people who never stood within this of where one reaches
(generous: 1.5 m cost two busy receipts)."""

NEAR_BODY_M = 3.0
"""People who never stood within this of where one reaches are no candidates for an event."""

JUMP_SLACK_M = 1.0
"""How far a track may jump between samples beyond walking speed (an id swap: the swap zone
and some noise), for bounds on where it could have been."""

TRIM_SLACK_S = 5.0
"""Samples older than the horizon are dropped this much at a time."""

REACH_LOOK_S = 3.5
"""How far either side of a step a hand's stay in the plate is traced (longer than a reach)."""

REACH_GAP_S = 0.45
"""Frames of a hand in the plate this close together are one stay (a hand hidden a moment)."""

REACH_MIN_S = 0.4
"""A stay shorter than this is too short to say where in it the step fell."""

REACH_EDGE = 0.2
"""A unit is lifted or set down well inside a hand's stay in the plate, not as it comes in or
goes out: a step within this share of the stay's start or end is less likely that hand's."""

REACH_OUTSIDE = 0.05
"""What is left of a hand's evidence for a step made after its stay ended or before it began."""

LOOK_SIGNATURE_FRAMES = 20
"""Frames of a person's first track (from the entry gate, where who is who is sure) averaged
into their look signature."""

LOST_SPREAD_WEIGHT = 0.25
"""How much a lost person's score for a new track grows with the log of how far they could
have walked unseen: a person lost for long, who could be anywhere, must not win a new track
over one lost a moment ago beside it (on hard-scale-s1-m10 a nobody lost for 24 s took a new
track 6 m off from a shopper lost 0.7 s before, 0.8 m off)."""

LOOK_REJECT = 4.0
"""A new track whose look is farther than this many times the expected (chi-square per
value) from a lost person's signature is not that person."""

LOOK_SAME = 3.0
"""A new track's first look within this (chi-square per value; about 1 for the right person,
14 or more for anyone else on the simulated hard-scale store) of a lost person's signature is
plainly theirs: near an entry gate it is that person come back, not the next entrant, whose
look nobody knows yet (on hard-scale-s2-m10, 11 of 389 scans went to insiders' new ids).
Only for someone lost a moment ago close by (``LOOK_SAME_LOST_S``, ``LOOK_SAME_NEAR_M``):
look-alikes are common, and an entrant taken for one shifts their gate's queue of scans."""

LOOK_SAME_LOST_S = 2.0
"""At most this long lost, for a look to beat a scan (re-born ids there were lost 0.5-1.2 s)."""

LOOK_SAME_NEAR_M = 1.5
"""At most this far from where they were lost, for a look to beat a scan (0.6-1.0 m there)."""

LOOK_SWEEP_S = 1.0
"""How often (store time) every person's current look is checked against their signature."""

ENCOUNTER_NEAR_M = 3.0
"""A meeting of people farther than this from a plate (arm's reach plus every tolerance of
where a body stands) cannot change who made its change: it need not wait for the verdict."""

LOOK_WINDOW_S = 2.0
"""Frames of this last stretch of a track make its current look."""

LOOK_BAD = 6.0
"""A current look farther than this (chi-square per value; about 1 for the right person) from a
person's signature says their track id now follows someone else."""

EXIT_LOOK_S = 0.5
"""At the exit gate the look of the last moment counts: ids swap in the queue."""

BLEND_CHI2 = 6.0
"""A signature's first frames cut in two parts this far apart (chi-square per value, in the
best cut of the 20) are two people's."""

TWIN_CHI2 = 3.0
"""Two signatures closer than this (chi-square per value) are one person's look: different
people's signatures are 14 or more apart in 99 % of pairs on the simulated hard-scale store."""

LOOK_MARGIN = 6.0
"""How much better (chi-square per value, summed) a reassignment of ids must fit the looks."""

GONE_S = 30.0
"""A person inside whom no track has followed for this long has left unseen: an exit was
given to someone else, or their track ended at the gate. Their party's receipt is then made
(for review) rather than held until the store closes."""

LATE_SCAN_S = 2.0
"""A scan the engine takes late (a live feed takes gate messages out of time order, up to the
spec's 2 s) may claim an account-less track that started in its gate up to this long after it:
the entrant was followed before their scan came in."""

BIRTH_TICK_S = 0.05
"""Frames of two ids this close in time are of one camera tick."""

BIRTH_SWAP_MARGIN = 3.0
"""How much better (chi-square per value, summed) a reassignment of ids at a birth must fit
the looks the old ids carried until then than keeping them."""

MIN_BEFORE_LOOK_FRAMES = 3
"""Frames of an id's look before a meeting that stand in for an unlearnt signature."""

HISTORY_S = 30.0
"""How long the positions of a track are kept: longer than any event waits to be decided."""


@dataclass(slots=True)
class TrackHistory:
    """Recent samples of one track id."""

    t: list[float] = field(default_factory=list)  # sample times, in time order
    pos: list[tuple[float, float]] = field(default_factory=list)
    hands: list[tuple[tuple[float, float, float], ...]] = field(default_factory=list)
    looks: list[tuple[float, ...] | None] = field(default_factory=list)
    segments: list[tuple[float, int]] = field(default_factory=list)  # (from t, person id)
    # numpy copies of the first ``_mirrored`` samples' positions and hand points (with the
    # sample each point belongs to), for the proximity scan: kept in step lazily by ``arrays``
    _pos_np: FloatArray = field(default_factory=lambda: np.empty((0, 2)))
    _hands_np: FloatArray = field(default_factory=lambda: np.empty((0, 3)))
    _hand_sample: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    _mirrored: int = 0

    def append(
        self,
        t: float,
        pos: tuple[float, float],
        hands: tuple[tuple[float, float, float], ...],
        look: tuple[float, ...] | None = None,
    ) -> None:
        self.t.append(t)
        self.pos.append(pos)
        self.hands.append(hands)
        self.looks.append(look)
        if self.t[0] < t - HISTORY_S - TRIM_SLACK_S:
            # trimmed in batches, so that keeping lists (searchable by time) stays cheap
            cut = bisect.bisect_left(self.t, t - HISTORY_S)
            del self.t[:cut], self.pos[:cut], self.hands[:cut], self.looks[:cut]
            if self._mirrored >= cut:
                kept = self._hand_sample >= cut
                self._pos_np = self._pos_np[cut:]
                self._hands_np = self._hands_np[kept]
                self._hand_sample = self._hand_sample[kept] - cut
                self._mirrored -= cut
            else:
                self._forget_arrays()

    def insert(
        self,
        t: float,
        pos: tuple[float, float],
        hands: tuple[tuple[float, float, float], ...],
        look: tuple[float, ...] | None = None,
    ) -> None:
        """A sample that came late: put in its place in time."""
        i = bisect.bisect_right(self.t, t)
        self.t.insert(i, t)
        self.pos.insert(i, pos)
        self.hands.insert(i, hands)
        self.looks.insert(i, look)
        if i < self._mirrored:
            self._forget_arrays()

    def _forget_arrays(self) -> None:
        self._pos_np = np.empty((0, 2))
        self._hands_np = np.empty((0, 3))
        self._hand_sample = np.empty(0, dtype=np.int64)
        self._mirrored = 0

    def arrays(self) -> tuple[FloatArray, FloatArray, IntArray]:
        """Every sample's position (n, 2), every hand point (h, 3) and the index of the sample
        each point belongs to (ascending), as arrays.

        The proximity scan reads the same tracks dozens of times a second in a busy store;
        converting their lists on each read cost more than the scan itself.
        """
        n = len(self.t)
        if self._mirrored < n:
            new = range(self._mirrored, n)
            pos = np.array(self.pos[self._mirrored :], dtype=float).reshape(-1, 2)
            points = [p for i in new for p in self.hands[i]]
            owner = [i for i in new for _ in self.hands[i]]
            self._pos_np = np.concatenate([self._pos_np, pos])
            if points:
                self._hands_np = np.concatenate(
                    [self._hands_np, np.array(points, dtype=float).reshape(-1, 3)]
                )
                self._hand_sample = np.concatenate(
                    [self._hand_sample, np.array(owner, dtype=np.int64)]
                )
            self._mirrored = n
        return self._pos_np, self._hands_np, self._hand_sample

    def hand_rows(self, a: int, b: int) -> tuple[int, int]:
        """Row range of ``arrays()``'s hand points that belong to samples ``a:b``."""
        _, _, sample = self.arrays()
        lo, hi = np.searchsorted(sample, (a, b))
        return int(lo), int(hi)

    def mean_look(self, lo: float, hi: float) -> tuple[FloatArray, int] | None:
        """Mean look of the frames in [lo, hi] that carry one, and how many there were."""
        a, b = self.span(lo, hi)
        seen = [v for v in self.looks[a:b] if v is not None]
        if not seen:
            return None
        return np.mean(np.array(seen), axis=0), len(seen)

    def span(self, lo: float, hi: float) -> tuple[int, int]:
        """Index range of the samples with ``lo <= t <= hi``."""
        return bisect.bisect_left(self.t, lo), bisect.bisect_right(self.t, hi)

    def person_at(self, t: float) -> int:
        pid = self.segments[0][1]
        for start, who in self.segments:
            if start <= t:
                pid = who
        return pid

    def persons_at(self, a: int, b: int) -> IntArray:
        """``person_at`` of samples ``a:b`` at once (the proximity scan asks it of thousands)."""
        out = np.full(b - a, self.segments[0][1], dtype=np.int64)
        if len(self.segments) > 1:
            ts = np.asarray(self.t[a:b])
            for start, who in self.segments:
                out[ts >= start] = who
        return out

    @property
    def person(self) -> int:
        return self.segments[-1][1]

    def position_at(self, t: float) -> tuple[float, float]:
        """Position at the sample nearest in time to ``t`` (the earlier of two as near)."""
        after = bisect.bisect_left(self.t, t)
        if after == len(self.t) or (
            after > 0 and abs(self.t[after - 1] - t) <= abs(self.t[after] - t)
        ):
            return self.pos[after - 1]
        return self.pos[after]


@dataclass(slots=True)
class Person:
    """One human inside the store."""

    pid: int
    account: str | None
    entered_t: float
    track: str
    inside: bool = True
    exit_t: float | None = None
    last_t: float = 0.0
    last_pos: tuple[float, float] = (0.0, 0.0)
    # (t, look) of the frames their signature is (being) learnt from
    look_frames: list[tuple[float, tuple[float, ...]]] = field(default_factory=list)
    signature: FloatArray | None = None  # mean look of their first frames
    signature_frames: int = 0  # how many frames it is the mean of


@dataclass(frozen=True, slots=True)
class Doubt:
    """A stretch of time (from ``t``, until ``until`` or for good) in which the tracker is
    unsure which of some accounts is which person."""

    t: float
    accounts: frozenset[str]
    note: str
    until: float = math.inf


@dataclass(frozen=True, slots=True)
class Proximity:
    """How near one person was to a set of plates during an event."""

    pid: int
    account: str | None
    hand_m: float  # nearest seen hand to the plates; inf when no hand was seen
    body_m: float  # nearest body position to where one stands to reach the plates
    hands_seen: bool
    likelihood: float
    beyond_reach: bool = False  # the likelihood is the fading claim of one nobody saw in reach


@dataclass(slots=True)
class _Encounter:
    """Two track ids that came within the swap zone at ``t_in``, awaiting a verdict."""

    a: str
    b: str
    t_in: float
    judged: bool = False


@dataclass(frozen=True, slots=True)
class Exit:
    """A person left the store; ``account_done`` when they were the last of their party inside."""

    pid: int
    account: str | None
    t: float
    account_done: bool


GRID_M = 1.0
"""Cell size of the grid of people's last positions (larger than any meeting distance)."""


def _cell(pos: tuple[float, float]) -> tuple[int, int]:
    return (math.floor(pos[0] / GRID_M), math.floor(pos[1] / GRID_M))


def _dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _clusters(encounters: list[_Encounter], window: float) -> list[list[_Encounter]]:
    """Group meetings that share a track id and begin within ``window`` of each other."""
    groups: list[tuple[set[str], list[_Encounter]]] = []
    for enc in sorted(encounters, key=lambda e: (e.t_in, e.a, e.b)):
        home = None
        for ids, group in groups:
            # a knot spans at most two windows, so a crowd cannot keep one open for ever
            if (
                (enc.a in ids or enc.b in ids)
                and enc.t_in - group[-1].t_in <= window
                and enc.t_in - group[0].t_in <= 2 * window
            ):
                home = (ids, group)
                break
        if home is None:
            groups.append(({enc.a, enc.b}, [enc]))
        else:
            home[0].update((enc.a, enc.b))
            home[1].append(enc)
    return [group for _, group in groups]


def _line_fit(
    hist: TrackHistory, lo: float, hi: float, at: float
) -> tuple[FloatArray, FloatArray] | None:
    """Position at ``at`` and velocity of a straight-line fit to the samples in [lo, hi]."""
    a, b = hist.span(lo, hi)
    pts = list(zip(hist.t[a:b], hist.pos[a:b], strict=True))
    if len(pts) < MIN_FIT_SAMPLES:
        return None
    ts = np.array([t for t, _ in pts]) - at
    xy = np.array([p for _, p in pts])
    design = np.stack([np.ones_like(ts), ts], axis=1)
    coef, *_ = np.linalg.lstsq(design, xy, rcond=None)
    return coef[0], coef[1]


class PeopleTracker:
    """Keeps people, their accounts and their recent track history."""

    def __init__(self, store: StoreIndex, config: EngineConfig) -> None:
        self.store = store
        self.config = config
        self.people: dict[int, Person] = {}
        self.tracks: dict[str, TrackHistory] = {}
        self._next_pid = 1
        self._pending_scans: dict[str, deque[tuple[float, str]]] = {
            g: deque() for g in store.entry_gates
        }
        self.unbound_scans: list[tuple[float, str, str]] = []  # (t, gate, account), nobody came
        self._encounters: dict[tuple[str, str], _Encounter] = {}
        self.inside_by_account: dict[str, set[int]] = {}
        self.unmatched_exits = 0
        self.late_frames_dropped = 0  # late first frames of a new id (see on_late_track)
        self.doubts: deque[Doubt] = deque(maxlen=1000)
        self._earliest_waiting = math.inf  # first meeting not yet judged
        # When the next cluster of waiting meetings comes due; -inf: a meeting was opened
        # since the clusters were last formed, so form them again.
        self._next_cluster_due = -math.inf
        self._grid: dict[tuple[int, int], set[int]] = {}  # cell -> people last seen there
        # frame-to-frame spread of looks, pooled over the signatures learnt so far
        self._look_sq = 0.0
        self._look_dof = 0
        self._next_sweep_t = -math.inf
        self._births: deque[tuple[float, str]] = deque()  # (t, id) of ids born in the last tick

    # -- messages ---------------------------------------------------------------------------

    def on_entry(self, t: float, gate: str, account: str) -> None:
        """A scan: the next person through ``gate`` belongs to ``account``."""
        if gate not in self._pending_scans:
            log.warning("entry scan at unknown gate %r ignored", gate)
            return
        # A track that started in this gate just before its scan (the gate's clock a little
        # behind the cameras') is claimed now. Only in the gate itself: a track starting
        # farther in just before a scan is more often a shopper's lost track coming back, and
        # claiming it leaves the real entrant without a scan. A scan taken late (a live feed
        # takes gate messages out of order) also claims a track that started after it.
        candidates = [
            person
            for person in self.people.values()
            if person.account is None
            and person.inside
            and -LATE_SCAN_S <= t - person.entered_t <= 1.0
            and self._came_through(person, gate)
        ]
        if not candidates:
            self._pending_scans[gate].append((t, account))
        elif all(p.entered_t <= t for p in candidates):
            self._assign_account(candidates[0], account)
        else:
            # Taken late: its shopper is the one who came through nearest its time, but in a
            # queue the order may be off, so the others who came through then share a doubt.
            person = min(candidates, key=lambda p: (abs(p.entered_t - t), p.pid))
            self._assign_account(person, account)
            others = [
                p
                for p in self.people.values()
                if p is not person
                and p.account is not None
                and p.inside
                and abs(p.entered_t - t) <= LATE_SCAN_S
                and self._came_through(p, gate)
            ]
            if others:
                note = (
                    f"the scan of {account} at {gate} (t={t:.1f}) came in after its shopper: "
                    f"who of {', '.join(sorted(str(p.account) for p in [person, *others]))} "
                    "is who is a guess"
                )
                self._doubt(t, [person, *others], note)

    def _came_through(self, person: Person, gate: str) -> bool:
        """Did the person's first track start inside ``gate``?"""
        start = self._first_pos(person)
        at = None if start is None else self._entry_gate_at(start)
        return at is not None and at[0] == gate and at[1] <= self.store.entry_gates[gate].width

    def on_late_track(
        self,
        t: float,
        track_id: str,
        pos: tuple[float, float],
        hands: tuple[tuple[float, float, float], ...],
        look: tuple[float, ...] | None = None,
    ) -> None:
        """A frame that came after later ones of the store were handled (a live feed's late
        line): put into its track's history, where hands, looks and paths are read, without
        replaying who-is-who. A new id's first frame cannot be placed so and is dropped."""
        history = self.tracks.get(track_id)
        if history is None:
            self.late_frames_dropped += 1
            return
        history.insert(t, pos, hands, look)

    def on_track(
        self,
        t: float,
        track_id: str,
        pos: tuple[float, float],
        hands: tuple[tuple[float, float, float], ...],
        look: tuple[float, ...] | None = None,
    ) -> None:
        history = self.tracks.get(track_id)
        born = history is None
        if history is None:
            history = TrackHistory()
            history.segments.append((t, self._identify_new_track(t, track_id, pos, look)))
            self.tracks[track_id] = history
        history.append(t, pos, hands, look)
        if self._look_dof and (born or self._births):
            self._watch_births(t, track_id, born)
        person = self.people[history.person]
        if person.track == track_id:
            person.last_t = t
            self._place(person, pos)
            if look is not None and person.signature is None:
                self._learn_look(person, t, look)
        self._watch_encounters(t, track_id, pos)
        if t >= self._next_sweep_t and self._look_dof:
            self._next_sweep_t = t + LOOK_SWEEP_S
            self._look_sweep(t)

    # -- looks ------------------------------------------------------------------------------

    def _watch_births(self, t: float, track_id: str, born: bool) -> None:
        """Note a new id's birth; once its camera tick is over (a frame of a later tick comes),
        see whether ids changed people at it (``_reassign_at_birth``)."""
        while self._births and self._births[0][0] < t - BIRTH_TICK_S:
            _, new = self._births.popleft()
            if new in self.tracks:
                self._reassign_at_birth(new)
        if born:
            self._births.append((t, track_id))

    def _reassign_at_birth(self, new: str) -> None:
        """Did the camera system, in a new id's very first frame, give it to someone an old id
        followed, and that old id to someone else (the newcomer, or a third person beside)?

        As a shopper steps in beside others (the entry queue) the camera system often does:
        the new id is born where another stands, and ids jump between the bodies there. The
        meeting judge cannot tell it (nothing before the birth shows the new id's motion), but
        the look each old id carried until then tells whose body each id shows in that tick,
        from one frame (about 1 per value for the right person, 8 or more for another on the
        simulated hard-scale store). The ids are then given back at once, matched by look
        (scipy's assignment) among the people beside the birth, if that fits clearly better;
        whoever the new id was taken for (a scan's entrant, a lost shopper back), whose look
        is not known yet, takes the id left over.
        """
        h_new = self.tracks[new]
        t0, first = h_new.t[0], h_new.looks[0]
        if len(h_new.segments) > 1 or first is None:
            return
        came = self.people[h_new.segments[0][1]]
        ids: list[str] = [new]
        people: list[Person] = [came]
        ticks: list[tuple[float, FloatArray]] = [(t0, np.array(first))]
        before: list[tuple[FloatArray, int] | None] = [None]
        for q in self._near(h_new.pos[0]):
            h_old = self.tracks.get(q.track)
            if q is came or not q.inside or h_old is None or q.track in ids:
                continue
            i = bisect.bisect_left(h_old.t, t0 - BIRTH_TICK_S)
            if i == 0 or i >= len(h_old.t) or h_old.t[i] > t0 + BIRTH_TICK_S:
                continue  # no frame of this tick, or born in it
            if h_old.segments[-1][0] > h_old.t[i - 1] or h_old.looks[i] is None:
                continue  # the id changed people in this very tick already
            if _dist(h_new.pos[0], h_old.pos[i - 1]) > self.config.swap_zone_m:
                continue
            was = h_old.mean_look(
                max(t0 - LOOK_WINDOW_S / 2, h_old.segments[-1][0]), h_old.t[i - 1]
            )
            if was is None or was[1] < MIN_BEFORE_LOOK_FRAMES:
                continue
            ids.append(q.track)
            people.append(q)
            ticks.append((h_old.t[i], np.array(h_old.looks[i])))
            before.append(was)
        if len(ids) < 2:
            return
        dims = len(first)
        cost = np.zeros((len(ids), len(ids)))
        for r, was in enumerate(before):
            if was is None:
                continue  # the newcomer: any look may be theirs
            for j, (_, look) in enumerate(ticks):
                chi2 = self._looks_apart(was, (look, 1))
                if chi2 is None:
                    return
                cost[r, j] = chi2 / dims
        rows, cols = linear_sum_assignment(cost)
        moved = [(r, j) for r, j in zip(rows, cols, strict=True) if r != j]
        if not moved or np.trace(cost) - cost[rows, cols].sum() < BIRTH_SWAP_MARGIN:
            return
        if any(before[r] is not None and cost[r, j] > LOOK_REJECT for r, j in moved):
            return
        for r, j in moved:
            person, tid, t_tick = people[r], ids[j], ticks[j][0]
            if j == 0:
                h_new.segments[0] = (t0, person.pid)  # never the newcomer's: theirs from birth
                self._hand_over(person, tid, None)
            else:
                self._hand_over(person, tid, t_tick)
            if person.look_frames and person.look_frames[-1][0] >= min(t0, t_tick):
                self._unlearn_look(person, min(t0, t_tick))
        log.info(
            "tracks %s changed people at %s's birth, t=%.2f (by the looks they carried)",
            ", ".join(sorted(ids[j] for _, j in moved)), new, t0,
        )  # fmt: skip

    def _leaver_by_look(self, t: float, nearest: Person) -> Person:
        """Who the track nearest the exit gate really is: in a queue at the gate ids swap
        often, moments before anyone could judge it. If someone else inside fits that track's
        look clearly better than its holder, they are the one leaving, and the two trade ids."""
        seen = self._current_look(nearest, t, EXIT_LOOK_S, min_frames=3)
        if seen is None:
            return nearest
        dims = len(seen[0])
        own = self._look_chi2(nearest, *seen)
        if own is None or nearest.account is None:
            # the holder's look was never learnt (their id changed people while it was), or
            # the holder is nobody's (an id no scan or lost shopper explained, whose look was
            # learnt from this very body): only someone who is plainly this look can be the
            # one leaving instead
            own = (TWIN_CHI2 + LOOK_MARGIN) * dims
        # anyone inside may be the one: their own id may have been lost or taken elsewhere
        fits = [
            (chi2, q.pid, q)
            for q in self.people.values()
            if q.inside and q is not nearest and (chi2 := self._look_chi2(q, *seen)) is not None
        ]
        if not fits:
            return nearest
        chi2, _, other = min(fits)
        if (chi2 - own) / dims >= -LOOK_MARGIN:
            return nearest
        fit = self._own_fit(other, t)
        if fit is not None and fit <= LOOK_BAD:
            return nearest  # their own id still looks like them, elsewhere: a look-alike
        mine, theirs = nearest.track, other.track
        for person, tid in ((other, mine), (nearest, theirs)):
            hist = self.tracks.get(tid)
            if hist is None or not hist.t:  # their id is long gone: the holder is now lost
                person.track = tid
            else:
                self._hand_over(person, tid, self._look_change_t(tid, t))
        note = f"tracks {mine}, {theirs} changed people by their looks at the exit, t={t:.1f}"
        log.info(note)
        self._doubt(t - 2 * LOOK_WINDOW_S, [nearest, other], note, until=t)
        return other

    def _hand_over(self, person: Person, tid: str, since: float | None) -> None:
        """From ``since`` on (None: as before), track ``tid`` follows ``person``: it is their
        current id, and its last sighting is theirs."""
        hist = self.tracks[tid]
        if since is not None:
            hist.segments.append((since, person.pid))
            if person.look_frames and person.look_frames[-1][0] >= since:
                self._unlearn_look(person, since)
        person.track = tid
        person.last_t = hist.t[-1]
        self._place(person, hist.pos[-1])

    def _look_change_t(self, tid: str, t: float) -> float:
        """When an id that looks reveal at ``t`` to follow someone else changed people: taken
        as the start of the look window, but never before the id's last change (segments stay
        in time order)."""
        return max(t - LOOK_WINDOW_S, self.tracks[tid].segments[-1][0] + 1e-3)

    def _current_look(
        self, person: Person, t: float, window_s: float = LOOK_WINDOW_S, min_frames: int = 5
    ) -> tuple[FloatArray, int] | None:
        hist = self.tracks.get(person.track)
        if hist is None or not hist.t or t - hist.t[-1] > 0.5:
            return None
        # only frames since the id became this person's (a judged swap is dated to the start
        # of the meeting, up to half a second early): before, it followed someone else
        seen = hist.mean_look(max(t - window_s, hist.segments[-1][0] + 0.5), t)
        return seen if seen is not None and seen[1] >= min_frames else None

    def _own_fit(self, person: Person, t: float) -> float | None:
        """How far the person's current track looks from their signature, in chi-square per
        value (about 1 when it is them); None when either is unknown."""
        seen = self._current_look(person, t)
        chi2 = None if seen is None else self._look_chi2(person, *seen)
        return None if chi2 is None or seen is None else chi2 / len(seen[0])

    def _misfits(self, t: float) -> list[Person]:
        """People inside whose current track no longer looks like them, meeting or not: in a
        crowd an id is in one meeting after another, and waiting for the judge leaves swaps
        standing (on hard-scale, half the ids on the wrong person were in a meeting)."""
        bad: list[Person] = []
        for person in self.people.values():
            if not person.inside or person.signature is None:
                continue
            fit = self._own_fit(person, t)
            if fit is not None and fit > LOOK_BAD:
                bad.append(person)
        return bad

    def _look_sweep(self, t: float) -> None:
        """Give track ids back to the people they look like.

        A swap the meeting judge missed (a crowd too big to judge, a meeting too short to fit)
        or a lost track given to the wrong person shows as people whose tracks no longer look
        like them. Then the ids of all of them, wherever they are, and of everyone around
        them are matched again to people by look (scipy's assignment), and changed only if
        that fits clearly better.
        """
        bad = self._misfits(t)
        if not bad:
            return
        group = {p.pid: p for p in bad}
        for p in bad:
            for q in self._near(p.last_pos):
                if q.inside and q.signature is not None:
                    group.setdefault(q.pid, q)
        people = sorted(group.values(), key=lambda p: p.pid)
        looks = [self._current_look(p, t) for p in people]
        keep = [i for i, seen in enumerate(looks) if seen is not None]
        if len(keep) < 2:
            return
        people = [people[i] for i in keep]
        cost = np.array(
            [
                [
                    min(self._look_chi2(p, *looks[j]) or 0.0, 1e3) / len(looks[j][0])  # type: ignore[misc,index]
                    for j in keep
                ]
                for p in people
            ]
        )
        rows, cols = linear_sum_assignment(cost)
        if not (cols != rows).any() or cost[rows, cols].sum() + LOOK_MARGIN >= np.trace(cost):
            return
        tracks = [p.track for p in people]
        for i, j in zip(rows, cols, strict=True):
            if i == j:
                continue
            self._hand_over(people[i], tracks[j], self._look_change_t(tracks[j], t))
        moved = [people[i] for i, j in zip(rows, cols, strict=True) if i != j]
        note = (
            f"tracks {', '.join(sorted(p.track for p in moved))} changed people by their looks "
            f"at t={t:.1f}"
        )
        log.info(note)
        # from before the look window (the ids may have changed people a little earlier) to
        # now; what is decided from now on sees the right people
        self._doubt(t - 2 * LOOK_WINDOW_S, moved, note, until=t)

    def _learn_look(self, person: Person, t: float, look: tuple[float, ...]) -> None:
        """Average a person's first frames into their signature, and pool their spread."""
        person.look_frames.append((t, look))
        if len(person.look_frames) != LOOK_SIGNATURE_FRAMES:
            return
        frames = np.array([v for _, v in person.look_frames])
        cut = self._blend_cut(frames)
        if cut is not None and not self._someone_near(
            person, person.look_frames[cut - 1][0], person.look_frames[cut][0]
        ):
            cut = None  # ids change people only where two meet: this was a change of light
        if cut is not None:
            # the id changed people at frame ``cut``: only the frames before are this person's
            frames = frames[:cut]
            person.look_frames = person.look_frames[:cut]
        learnt = frames.mean(axis=0)
        if self._give_to_twin(person, t, learnt):
            return
        person.signature = learnt
        person.signature_frames = len(frames)
        self._look_sq += float(((frames - person.signature) ** 2).sum())
        self._look_dof += (len(frames) - 1) * frames.shape[1]

    def _someone_near(self, person: Person, t0: float, t1: float) -> bool:
        """Whether another track came within the swap zone of the person's track between
        ``t0`` and ``t1`` (the frames either side of a cut in their look)."""
        hist = self.tracks.get(person.track)
        if hist is None or not hist.t:
            return False
        zone = self.config.swap_zone_m
        for tid, other in self.tracks.items():
            if tid == person.track or not other.t or other.t[-1] < t0 or other.t[0] > t1:
                continue
            lo, hi = other.span(t0, t1)
            for k in range(max(lo - 1, 0), min(hi + 1, len(other.t))):
                x, y = hist.position_at(other.t[k])
                ox, oy = other.pos[k]
                if math.hypot(ox - x, oy - y) <= zone:
                    return True
        return False

    def _blend_cut(self, frames: FloatArray) -> int | None:
        """Where a person's first frames stop being theirs, if they do.

        In a queue at the entry, ids swap in a shopper's first seconds, often unseen by the
        meeting judge: the frames a signature is learnt from are then two people's, and their
        mean is nobody's look. The best cut into a first and a second part is tested against
        the frame-to-frame spread of one person's look.
        """
        if self._look_dof == 0 or len(frames) < 4:
            return None
        var = self._look_sq / self._look_dof
        n, dims = frames.shape
        head = np.cumsum(frames, axis=0)[:-1]
        k = np.arange(1, n, dtype=np.float64)
        gap = head / k[:, None] - (frames.sum(axis=0) - head) / (n - k)[:, None]
        gain = k * (n - k) / n * (gap**2).sum(axis=1) / var
        best = int(np.argmax(gain))
        return best + 1 if gain[best] / dims > BLEND_CHI2 else None

    def _give_to_twin(self, person: Person, t: float, learnt: FloatArray) -> bool:
        """Whether the frames a signature was about to be learnt from are someone else's.

        People differ in look: a new signature that matches one already known, of someone
        whose own track no longer looks like them (or who is lost), was learnt on that
        someone, because the ids swapped before it was learnt (as shoppers step in side by
        side). The two trade ids, and this person learns again from the id they get.
        """
        dims, frames = len(learnt), len(person.look_frames)
        twins = [
            (chi2, q.pid, q)
            for q in self.people.values()
            if q.inside
            and q is not person
            and (chi2 := self._look_chi2(q, learnt, frames)) is not None
            and chi2 / dims < TWIN_CHI2
        ]
        if not twins:
            return False
        _, _, twin = min(twins)
        fit = self._own_fit(twin, t)
        if fit is not None and fit <= LOOK_BAD:
            return False  # both ids look like the twin: look-alikes, or one person seen twice
        mine, theirs = person.track, twin.track
        first_t = person.look_frames[0][0]
        hist_mine = self.tracks[mine]
        self._hand_over(twin, mine, max(first_t, hist_mine.segments[-1][0] + 1e-3))
        hist_theirs = self.tracks.get(theirs)
        if hist_theirs is None or not hist_theirs.t or t - hist_theirs.t[-1] > 0.5:
            person.track = theirs  # the twin's id is gone: this person is lost until found
        else:
            self._hand_over(person, theirs, self._look_change_t(theirs, t))
        self._unlearn_look(person, -math.inf)
        note = f"tracks {mine}, {theirs} changed people: {mine} looked like the other's, t={t:.1f}"
        log.info(note)
        self._doubt(first_t, [person, twin], note, until=t)
        return True

    def _unlearn_look(self, person: Person, since: float) -> None:
        """Forget the frames from ``since`` on: the id they came from followed someone else
        then (a swap judged a window late, when ids swap as a shopper steps in through the
        entry gate), and a signature learnt from them would be that someone's for good."""
        if person.signature is not None:
            frames = np.array([v for _, v in person.look_frames])
            self._look_sq -= float(((frames - person.signature) ** 2).sum())
            self._look_dof -= (len(frames) - 1) * frames.shape[1]
            person.signature = None
            person.signature_frames = 0
        person.look_frames = [f for f in person.look_frames if f[0] < since]

    def _look_chi2(self, person: Person, look: FloatArray, frames: int) -> float | None:
        """How far a look (a mean of ``frames`` frames) is from a person's signature, in
        squared standard errors summed over its values (about its length when it is them);
        None when either side is unknown."""
        if person.signature is None:
            return None
        return self._looks_apart((person.signature, person.signature_frames), (look, frames))

    def _looks_apart(self, a: tuple[FloatArray, int], b: tuple[FloatArray, int]) -> float | None:
        """How far two mean looks (of ``a[1]`` and ``b[1]`` frames) are apart, in squared
        standard errors summed over their values (about their length when one person's)."""
        if self._look_dof == 0 or len(a[0]) != len(b[0]):
            return None
        var = self._look_sq / self._look_dof
        return float(((a[0] - b[0]) ** 2).sum()) / (var / a[1] + var / b[1])

    def on_exit(self, t: float, gate: str) -> Exit | None:
        """The person nearest the exit gate at ``t`` leaves."""
        g = self.store.exit_gates.get(gate)
        if g is None:
            log.warning("exit at unknown gate %r ignored", gate)
            return None
        best: tuple[float, Person] | None = None
        for person in self.people.values():
            if not person.inside:
                continue
            hist = self.tracks.get(person.track)
            if hist is None or not hist.t or t - hist.t[-1] > 3.0:
                continue
            x, y = hist.position_at(t)
            d = math.hypot(x - g.center[0], y - g.center[1])
            if d <= self.config.exit_radius_m and (best is None or d < best[0]):
                best = (d, person)
        if best is None:
            self.unmatched_exits += 1
            log.warning("exit at %s t=%.2f with nobody near the gate", gate, t)
            return None
        person = self._leaver_by_look(t, best[1])
        person.inside = False
        person.exit_t = t
        done = True
        if person.account is not None:
            inside = self.inside_by_account.get(person.account, set())
            inside.discard(person.pid)
            done = not inside
        return Exit(person.pid, person.account, t, done)

    # -- identity ---------------------------------------------------------------------------

    def _identify_new_track(
        self,
        t: float,
        track_id: str,
        pos: tuple[float, float],
        look: tuple[float, ...] | None = None,
    ) -> int:
        """Who a new track id is: a person admitted by a scan, or a lost track coming back.

        Both are scored as a distance over what is plausible (the gate's radius; how far the
        lost person could have walked while unseen) and the better explanation wins, so a
        track lost near the entry does not steal the next shopper's scan. With a look, lost
        people who look clearly different are no candidates, and among the rest the look
        counts as well as the distance.
        """
        cfg = self.config
        self._drop_stale_scans(t)
        # only the scans of the gate the track starts in: gates stand side by side, and
        # letting a track take a neighbouring gate's scan shifts a queue of entrants by one
        # account each
        entry: tuple[float, str] | None = None
        at = self._entry_gate_at(pos)
        if at is not None and self._pending_scans[at[0]]:
            entry = (at[1] / cfg.entry_radius_m, at[0])
        lost: list[tuple[float, Person]] = []
        shortest_reach = cfg.max_speed_mps * cfg.lost_after_s + 1.0
        for person in self.people.values():
            gap = t - person.last_t
            if not person.inside or not cfg.lost_after_s <= gap <= cfg.lost_max_s:
                continue
            reach = cfg.max_speed_mps * gap + 1.0
            d = math.hypot(pos[0] - person.last_pos[0], pos[1] - person.last_pos[1])
            if d > reach:
                continue
            # the longer someone has been lost, the more places they could be: a fraction of
            # a wide circle is less telling than the same fraction of a narrow one
            spread = LOST_SPREAD_WEIGHT * math.log(reach / shortest_reach)
            chi2 = None if look is None else self._look_chi2(person, np.array(look), 1)
            if chi2 is None:
                lost.append((d / reach + spread, person))
            elif look is not None and chi2 <= LOOK_REJECT * len(look):
                lost.append((d / reach + spread + 0.25 * chi2 / len(look), person))
        lost.sort(key=lambda c: (c[0], c[1].pid))
        if entry is not None and look is not None:
            back = self._back_by_look(t, track_id, pos, np.array(look), lost)
            if back is not None:
                lost, entry = [back], None
        if entry is not None and (not lost or entry[0] <= lost[0][0]):
            _, account = self._pending_scans[entry[1]].popleft()
            return self._new_person(t, track_id, pos, account).pid
        if lost:
            score, person = lost[0]
            if len(lost) > 1 and lost[1][0] - score < 0.15 and lost[1][1].account != person.account:
                note = (
                    f"track {track_id} at t={t:.1f} could be either of two people who lost theirs"
                )
                self._doubt(t, [person, lost[1][1]], note)
            person.track = track_id
            return person.pid
        if at is not None:
            log.info("track %s appeared at an entry gate with no scan", track_id)
        else:
            log.warning("track %s appeared at %s with nobody lost nearby", track_id, pos)
        return self._new_person(t, track_id, pos, None).pid

    def _back_by_look(
        self,
        t: float,
        track_id: str,
        pos: tuple[float, float],
        look: FloatArray,
        lost: list[tuple[float, Person]],
    ) -> tuple[float, Person] | None:
        """The lost person a new track at an entry gate plainly looks like, lost a moment ago
        close by (best score first), who beats the gate's scan: an entrant's look is anyone's,
        and one that matches a signature this well is rarely a stranger's."""
        for score, person in lost:
            gap = t - person.last_t
            d = math.hypot(pos[0] - person.last_pos[0], pos[1] - person.last_pos[1])
            if gap > LOOK_SAME_LOST_S or d > LOOK_SAME_NEAR_M:
                continue
            chi2 = self._look_chi2(person, look, 1)
            if chi2 is not None and chi2 <= LOOK_SAME * len(look):
                log.info(
                    "track %s at an entry gate, t=%.1f, looks like person %d (%s), lost %.1f s "
                    "%.1f m off: theirs, not the scan's",
                    track_id, t, person.pid, person.account, gap, d,
                )  # fmt: skip
                return score, person
        return None

    def _drop_stale_scans(self, t: float) -> None:
        """Scans older than the entry window that nobody came through: no later track can
        be theirs (the spec gives the entrant 3 s). Kept in ``unbound_scans`` for the engine."""
        for gate_id, scans in self._pending_scans.items():
            while scans and t - scans[0][0] > self.config.entry_window_s:
                stale = scans.popleft()
                log.warning("scan of %s at %s: nobody came through", stale[1], gate_id)
                self.unbound_scans.append((stale[0], gate_id, stale[1]))

    def take_unbound_scans(self) -> list[tuple[float, str, str]]:
        """(t, gate, account) of the scans nobody came through since last asked."""
        scans, self.unbound_scans = self.unbound_scans, []
        return scans

    def scan_pending(self, account: str) -> bool:
        """Does a scan of ``account`` still wait for someone to come through its gate?"""
        return any(a == account for scans in self._pending_scans.values() for _, a in scans)

    def _new_person(
        self, t: float, track_id: str, pos: tuple[float, float], account: str | None
    ) -> Person:
        person = Person(self._next_pid, None, t, track_id, last_t=t, last_pos=pos)
        self._grid.setdefault(_cell(pos), set()).add(person.pid)
        self._next_pid += 1
        self.people[person.pid] = person
        if account is not None:
            self._assign_account(person, account)
        return person

    def _assign_account(self, person: Person, account: str) -> None:
        person.account = account
        self.inside_by_account.setdefault(account, set()).add(person.pid)

    def _entry_gate_at(self, pos: tuple[float, float]) -> tuple[str, float] | None:
        """The entry gate a track starting at ``pos`` came through, and how far from its
        middle: the nearest one, when within the entry radius."""
        best: tuple[str, float] | None = None
        for gate_id, gate in self.store.entry_gates.items():
            d = math.hypot(pos[0] - gate.center[0], pos[1] - gate.center[1])
            if d <= self.config.entry_radius_m and (best is None or d < best[1]):
                best = (gate_id, d)
        return best

    def _first_pos(self, person: Person) -> tuple[float, float] | None:
        """Where a person's track was first seen, while they still carry their first id."""
        hist = self.tracks.get(person.track)
        if hist is None or not hist.t or hist.segments[0][1] != person.pid:
            return None
        return hist.pos[0]

    # -- swaps ------------------------------------------------------------------------------

    def _place(self, person: Person, pos: tuple[float, float]) -> None:
        """Move a person to a new last position, keeping the grid of who is where."""
        old, new = _cell(person.last_pos), _cell(pos)
        if old != new:
            self._grid.get(old, set()).discard(person.pid)
            self._grid.setdefault(new, set()).add(person.pid)
        person.last_pos = pos

    def _near(self, pos: tuple[float, float]) -> list[Person]:
        """People whose last position is within a grid cell of ``pos`` (cells of GRID_M)."""
        cx, cy = _cell(pos)
        out = [
            self.people[pid]
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for pid in self._grid.get((cx + dx, cy + dy), ())
            if pid in self.people
        ]
        return sorted(out, key=lambda p: p.pid)

    def _watch_encounters(self, t: float, track_id: str, pos: tuple[float, float]) -> None:
        """Open an encounter when two people of different accounts meet; judge it later.

        Only people in the grid cells around are looked at (a meeting is closer than a cell);
        judged meetings of this track are let go once the two are apart again.
        """
        cfg = self.config
        me = self.people[self.tracks[track_id].person]
        for key in [k for k in self._encounters if track_id in k]:
            judged = self._encounters[key].judged
            other_id = key[0] if key[1] == track_id else key[1]
            other_hist = self.tracks.get(other_id)
            if judged and (other_hist is None or _dist(pos, other_hist.pos[-1]) > cfg.swap_clear_m):
                del self._encounters[key]
        for other in self._near(pos):
            if other.pid == me.pid or not other.inside or t - other.last_t > 0.5:
                continue
            if other.account is not None and other.account == me.account:
                continue  # a swap within a party changes nobody's receipt
            d = math.hypot(pos[0] - other.last_pos[0], pos[1] - other.last_pos[1])
            key = (min(track_id, other.track), max(track_id, other.track))
            enc = self._encounters.get(key)
            if enc is None:
                if d < cfg.swap_zone_m and me.inside:
                    self._encounters[key] = _Encounter(key[0], key[1], t)
                    self._earliest_waiting = min(self._earliest_waiting, t)
                    self._next_cluster_due = -math.inf
            elif enc.judged and d > cfg.swap_clear_m:
                del self._encounters[key]
        self._judge_due(t)

    def _judge_due(self, now: float) -> None:
        """Judge each cluster of linked meetings once the last of them is a window old.

        Meetings that share a track id within one window (three people in a knot) are judged
        together, as one permutation of ids, so that one swap does not spoil the other's view.
        """
        cfg = self.config
        if now < self._earliest_waiting + cfg.swap_window_s:
            return  # nothing can be due yet (a cluster is due a window after its last meeting)
        if now < self._next_cluster_due:
            # No meeting was opened since the clusters were formed: they are the same
            # clusters (judging some leaves the others as they were), and none is due yet.
            return
        waiting = [e for e in self._encounters.values() if not e.judged]
        next_due = math.inf
        for cluster in _clusters(waiting, cfg.swap_window_s):
            due = max(e.t_in for e in cluster) + cfg.swap_window_s
            if now < due:
                next_due = min(next_due, due)
                continue
            for enc in cluster:
                enc.judged = True
            self._judge(cluster)
        self._next_cluster_due = next_due
        still = [e.t_in for e in self._encounters.values() if not e.judged]
        self._earliest_waiting = min(still) if still else math.inf

    def _judge(self, cluster: list[_Encounter]) -> None:
        """Did the ids of a cluster change people? Compare motion before and after the meeting.

        Each id's samples just before the first meeting and just after the last are fitted with
        straight lines; the matching of before-lines to after-lines whose positions and
        velocities join up best in the middle is the right one. A swap makes ids jump by the
        people's distance (up to the swap zone) and turns crossing walkers round, both of which
        this sees.
        """
        cfg = self.config
        ids = sorted({e.a for e in cluster} | {e.b for e in cluster})
        if any(i not in self.tracks for i in ids) or len(ids) > MAX_KNOT:
            return
        t_first = min(e.t_in for e in cluster)
        changed = max(self.tracks[i].segments[-1][0] for i in ids)
        if changed > t_first:
            # Looks (or a judged birth) have given an id of the knot to someone since it
            # began: who was who until then is settled, and the meetings since are judged on
            # their own (in an entry queue a knot chains swaps a second apart, and leaving
            # the last of them unjudged leaves two entrants on each other's ids).
            later = [e for e in cluster if e.t_in > changed]
            if later and len(later) < len(cluster):
                self._judge(later)
            return
        t_last = max(e.t_in for e in cluster)
        t_mid = (t_first + t_last) / 2.0
        w = cfg.swap_window_s
        # A pair whose meeting opened with a new id's very first frame: ids swap at that
        # frame (as a shopper steps in through the entry gate beside another), so even where
        # the new id was born may be the other's, and so may the other id's frame at that
        # moment. Only the other's motion before it can tell whom each id follows. (In a
        # bigger knot one line is too little to reorder everyone on: it is judged as before.)
        birth_pair = len(ids) == 2 and any(self.tracks[i].t[0] >= t_first for i in ids)
        before_end = t_first - 1e-6 if birth_pair else t_first
        before: list[tuple[FloatArray, FloatArray] | None] = []
        after: list[tuple[FloatArray, FloatArray]] = []
        # each id's samples count only since it became its person's (before, it followed
        # someone else)
        starts = [max(t_first - w, self.tracks[tid].segments[-1][0]) for tid in ids]
        for tid, since in zip(ids, starts, strict=True):
            hist = self.tracks[tid]
            fit_before = _line_fit(hist, since, before_end, t_mid)
            fit_after = _line_fit(hist, t_last + 1e-6, t_last + w, t_mid)
            if fit_after is None:
                return
            # (the new id of a birth pair keeps no line: it has no motion of its own to go by)
            if fit_before is None and not (birth_pair and hist.t[0] >= t_first):
                # an id born (or given to its person) just before the meeting: where it was
                # then, moving as it did after
                a, b = hist.span(since, t_first)
                if since <= t_first - w or b <= a:
                    return
                born = np.mean(np.array(hist.pos[a:b]), axis=0)
                fit_before = (born + fit_after[1] * (t_mid - hist.t[a]), fit_after[1])
            before.append(fit_before)
            after.append(fit_after)
        # walkers who meet often stop or turn round, so velocity counts for less than a jump
        sd_pos, sd_vel = 0.12 + 0.3 * (t_last - t_first), 0.5

        owners = [self.tracks[tid].person for tid in ids]
        looks = [self.tracks[tid].mean_look(t_last + 1e-6, t_last + w) for tid in ids]
        # Someone who came in a moment ago has no signature yet: the look their id carried
        # just before the meeting stands in for it (in the entry queue, where ids swap as a
        # shopper steps in beside another, it is often all there is to go by).
        looks_before = [
            None
            if self.people[owner].signature is not None
            else self.tracks[tid].mean_look(since, before_end)
            for tid, owner, since in zip(ids, owners, starts, strict=True)
        ]

        def join(i: int, j: int) -> float:
            line = before[i]
            motion = 0.0
            if line is not None:
                dp = line[0] - after[j][0]
                dv = line[1] - after[j][1]
                motion = float(dp @ dp) / sd_pos**2 + float(dv @ dv) / sd_vel**2
            seen = looks[j]
            if seen is None:
                return motion
            chi2 = self._look_chi2(self.people[owners[i]], *seen)
            was = looks_before[i]
            if chi2 is None and was is not None and was[1] >= MIN_BEFORE_LOOK_FRAMES:
                chi2 = self._looks_apart(was, seen)
            return motion + (chi2 or 0.0)

        n = len(ids)
        # each pair once: a knot of six has 720 orders but only 36 pairs
        pair_cost = [[join(i, j) for j in range(n)] for i in range(n)]
        costs = {
            perm: sum(pair_cost[i][perm[i]] for i in range(n))
            for perm in itertools.permutations(range(n))
        }
        identity = tuple(range(n))
        best = min(costs, key=lambda p: (costs[p], p))
        if best != identity and costs[best] + SWAP_MARGIN < costs[identity]:
            # before-line i belongs to person owners[i]; it continues as id ids[best[i]]
            for i, j in enumerate(best):
                self._hand_over(self.people[owners[i]], ids[j], t_first if i != j else None)
            log.info("track ids %s changed people at t=%.2f", ", ".join(ids), t_first)
        else:
            # The doubt is about the ids that a close alternative order would move, not the
            # whole knot: a third person whose id no near-best order changes keeps a clean
            # receipt.
            kept = costs[identity]
            moved = sorted(
                {
                    ids[i]
                    for perm, cost in costs.items()
                    if perm != identity and kept - cost > DOUBT_GAIN
                    for i in range(n)
                    if perm[i] != i
                }
            )
            if moved:
                note = f"tracks {', '.join(moved)} met at t={t_first:.1f}; who is who is unsure"
                self._doubt(t_first, [self.people[self.tracks[tid].person] for tid in moved], note)

    def _doubt(self, t: float, people: list[Person], note: str, until: float = math.inf) -> None:
        accounts = frozenset(p.account for p in people if p.account is not None)
        if len(accounts) > 1:
            self.doubts.append(Doubt(t, accounts, note, until))

    def open_encounter_since(self) -> float | None:
        """Start of the oldest encounter not yet judged (events after it wait for the verdict)."""
        waiting = [e.t_in for e in self._encounters.values() if not e.judged]
        return min(waiting) if waiting else None

    def open_encounter_near(self, plates: list[int], t0: float, t1: float) -> float | None:
        """Start of the oldest encounter not yet judged between people of whom one came
        within ``ENCOUNTER_NEAR_M`` of the plates between ``t0`` and ``t1``. Only such a
        verdict can change who was at those plates then: in a store of fifty shoppers some
        meeting is nearly always open, and a change need not wait for one across the floor."""
        stand = self.store.stand_point[plates]
        oldest: float | None = None
        for enc in self._encounters.values():
            if enc.judged or (oldest is not None and enc.t_in >= oldest):
                continue
            if self._came_near(enc.a, stand, t0, t1) or self._came_near(enc.b, stand, t0, t1):
                oldest = enc.t_in
        return oldest

    def _came_near(self, track_id: str, points: FloatArray, t0: float, t1: float) -> bool:
        hist = self.tracks.get(track_id)
        if hist is None:
            return True  # forgotten: cannot tell, so it may have been there
        i, j = hist.span(t0, t1)
        if i >= j:
            return False
        pos = hist.arrays()[0][i:j]
        gap = np.hypot(pos[:, 0, None] - points[None, :, 0], pos[:, 1, None] - points[None, :, 1])
        return bool(gap.min() <= ENCOUNTER_NEAR_M)

    # -- queries ----------------------------------------------------------------------------

    def proximity(
        self,
        plates: list[int],
        t0: float,
        t1: float,
        t_step: float | None = None,
        whole_run: bool = False,
        timing: bool = False,
    ) -> list[Proximity]:
        """How likely each person near ``plates`` is to have made a change there.

        Hands are looked for around ``t_step``, when the weight moved (the hand that lifted or
        set down the unit was in the plate then), bodies over the whole activity ``t0``-``t1``.
        A person whose two hands were both seen elsewhere while the weight moved did not do it,
        however near they stood; one whose hands were hidden is judged by where they stood.
        With ``whole_run``, hands are looked for over the whole activity instead. With
        ``timing`` (``t_step`` is well dated: a step cut out of a run, or the last halfway
        crossing of a settled change), a hand also counts for less if the step fell as it came
        in or went out, or outside its stay: a shopper whose hand came in just after the unit
        left did not take it.
        """
        cfg = self.config
        step = (t0 + t1) / 2.0 if t_step is None else t_step
        hand_lo, hand_hi = step - cfg.reach_before_s, step + cfg.reach_after_s
        # both hands seen away clear a person only while a hand could have been making the
        # change: around the step, or (a whole run) while the plate moved, not while they
        # walked up to it
        away_lo, away_hi = hand_lo, hand_hi
        if whole_run:
            hand_lo, hand_hi = min(hand_lo, t0 - cfg.reach_before_s), max(hand_hi, t1)
            away_lo, away_hi = t0, hand_hi
        lo, hi = min(t0 - cfg.reach_margin_s, hand_lo), max(t1 + cfg.reach_margin_s, hand_hi)
        stand = self.store.stand_point[plates]
        away_m = 2.5 * cfg.hand_sd_m
        shelf_plates = {
            q for p in plates for q in self.store.shelves[self.store.shelf_of_plate[p]].plates
        }
        others = sorted(shelf_plates - set(plates))
        near_plates = [*plates, *others]
        per_person: dict[int, list[float]] = {}  # hand m, body m, seen, frames away
        to_time: dict[int, list[TrackHistory]] = {}  # tracks whose reach timing may count
        centre = stand.mean(axis=0)
        stand_radius = float(np.max(np.hypot(*(stand - centre).T)))
        timed = timing and not whole_run and t_step is not None  # then step is t_step
        # First the tracks that came near, with their hand points of the window; then one
        # distance computation for all their points together.
        near: list[tuple[TrackHistory, int, int, FloatArray, IntArray]] = []
        chunks: list[FloatArray] = []
        for history in self.tracks.values():
            if not history.t or history.t[-1] < lo or history.t[0] > hi:
                continue
            # who is far now was far during the window too (people walk at a bounded speed)
            last = history.pos[-1]
            reach = NEAR_BODY_M + cfg.max_speed_mps * max(0.0, history.t[-1] - lo)
            if math.hypot(last[0] - centre[0], last[1] - centre[1]) > reach:
                continue
            a, b = history.span(lo, hi)
            if a == b:
                continue
            # nor can it have come near in between, if its first and last samples of the
            # window are far enough for the time between them (slack for an id's jump)
            (xa, ya), (xb, yb) = history.pos[a], history.pos[b - 1]
            walk = cfg.max_speed_mps * (history.t[b - 1] - history.t[a])
            closest = (
                math.hypot(xa - centre[0], ya - centre[1])
                + math.hypot(xb - centre[0], yb - centre[1])
                - walk
            ) / 2.0 - stand_radius
            if closest > NEAR_BODY_M + JUMP_SLACK_M:
                continue
            pos_all, hands_all, hand_sample = history.arrays()
            pos = pos_all[a:b]
            body = np.min(np.linalg.norm(pos[:, None, :] - stand[None, :, :], axis=2), axis=1)
            if body.min() > NEAR_BODY_M:
                # Too far all along: no hand of this track is looked at, and the person's
                # nearest stand comes from their other tracks or drops them.
                continue
            # every hand point of the window at once, with its sample; nobody reaches a plate
            # from further than an arm beyond where one stands
            r0 = r1 = 0
            if float(body.min()) <= ARM_REACH_M:
                h_a, h_b = history.span(hand_lo, hand_hi)
                r0, r1 = history.hand_rows(max(a, h_a), min(b, h_b))
            near.append((history, a, b, body, hand_sample[r0:r1] - a))
            chunks.append(hands_all[r0:r1])
        dist_all = (
            self.store.distance_to_plates(near_plates, np.concatenate(chunks))
            if any(len(c) for c in chunks)
            else np.empty((len(near_plates), 0))
        )
        row = 0
        for (history, a, b, body, owner), chunk in zip(near, chunks, strict=True):
            hand_d = np.full(b - a, np.inf)
            hand_n = np.zeros(b - a, dtype=np.int64)
            has_hands = len(chunk) > 0
            if has_hands:
                dist = dist_all[:, row : row + len(chunk)]
                row += len(chunk)
                d = dist[: len(plates)].min(axis=0)
                # a hand over another plate of the shelf is reaching there, not here
                if others:
                    d_other = dist[len(plates) :].min(axis=0)
                    d = np.where(d_other < d, np.maximum(d, away_m + 1e-3), d)
                np.minimum.at(hand_d, owner, d)
                np.add.at(hand_n, owner, 1)
            # per person the id followed in the window (one, unless it changed people)
            pids = history.persons_at(a, b)
            ts = np.asarray(history.t[a:b])
            both_away = (hand_n == 2) & (hand_d > away_m) & (ts >= away_lo) & (ts <= away_hi)
            for pid in np.unique(pids).tolist():
                mine = pids == pid
                rec = per_person.setdefault(pid, [math.inf, math.inf, 0.0, 0.0])
                rec[1] = min(rec[1], float(body[mine].min()))
                seen = mine & (hand_n > 0)
                if seen.any():
                    rec[0] = min(rec[0], float(hand_d[seen].min()))
                    rec[2] = 1.0
                    rec[3] += float(np.count_nonzero(mine & both_away))
                if timed and has_hands and rec[2]:
                    to_time.setdefault(pid, []).append(history)
        out: list[Proximity] = []
        for pid, (hand_m, body_m, seen, frames_away) in sorted(per_person.items()):
            person = self.people[pid]
            if body_m > NEAR_BODY_M:
                continue
            body_term = math.exp(-0.5 * (body_m / cfg.body_sd_m) ** 2)
            hand_term = math.exp(-0.5 * (hand_m / cfg.hand_sd_m) ** 2) if seen else 0.0
            hidden = cfg.occluded_hands_factor * body_term
            if frames_away >= cfg.hands_away_frames:
                hidden *= cfg.hands_away_factor
            if pid in to_time and hand_term > hidden:
                # the timing can only lower the hand's term (it is at most 1): worked out only
                # when the hand, not the body, would set the likelihood
                hand_term *= max(self._reach_timing(h, pid, plates, step) for h in to_time[pid])
            likelihood = max(hand_term, hidden)
            out.append(Proximity(pid, person.account, hand_m, body_m, bool(seen), likelihood))
        if out and max(p.likelihood for p in out) < cfg.within_reach_likelihood:
            # Nobody was within reach: a person standing further off is still likelier than
            # an untracked one. Their claim fades with distance; it is never confident.
            out = [
                replace(p, likelihood=fading, beyond_reach=True)
                if (fading := cfg.beyond_reach_weight * math.exp(-p.body_m / cfg.beyond_reach_m))
                > p.likelihood
                else p
                for p in out
            ]
        return out

    def _reach_timing(
        self, history: TrackHistory, pid: int, plates: list[int], step: float
    ) -> float:
        """How well a step at ``step`` fits where it falls in the person's stay in the plates.

        The stay is the run of frames with a hand in the plates nearest the step. A unit is
        lifted or set down well inside it, so two shoppers reaching in together are told apart
        by who had just come in or was already gone. 1 when the stay is not seen whole.
        """
        lo, hi = step - REACH_LOOK_S, step + REACH_LOOK_S
        a, b = history.span(lo, hi)
        away_m = 2.5 * self.config.hand_sd_m
        _, hands_all, hand_sample = history.arrays()
        r0, r1 = history.hand_rows(a, b)
        samples = hand_sample[r0:r1]
        theirs = (history.persons_at(a, b) == pid)[samples - a]
        if not theirs.any():
            return 1.0
        samples = samples[theirs]
        d = self.store.distance_to_plates(plates, hands_all[r0:r1][theirs]).min(axis=0)
        near = np.unique(samples[d <= away_m]).tolist()
        inside = [history.t[i] for i in near]
        if not inside:
            return 1.0
        k = min(range(len(inside)), key=lambda j: (abs(inside[j] - step), j))
        first = last = k
        while first > 0 and inside[first] - inside[first - 1] <= REACH_GAP_S:
            first -= 1
        while last < len(inside) - 1 and inside[last + 1] - inside[last] <= REACH_GAP_S:
            last += 1
        t_in, t_out = inside[first], inside[last]
        if t_in <= lo + REACH_GAP_S or t_out >= hi - REACH_GAP_S or t_out - t_in < REACH_MIN_S:
            return 1.0
        x = (step - t_in) / (t_out - t_in)
        near_edge = min(x, 1.0 - x)
        if near_edge >= REACH_EDGE:
            return 1.0
        return max(REACH_OUTSIDE, (near_edge + 0.5 * REACH_EDGE) / (1.5 * REACH_EDGE))

    def knows_account(self, account: str) -> bool:
        """Whether someone of ``account`` is still held (not yet forgotten by ``prune``)."""
        return any(p.account == account for p in self.people.values())

    def path_of_account(self, account: str, since: float) -> tuple[FloatArray, FloatArray]:
        """Times and positions (k, 2) of every person of ``account`` since ``since``, from all
        the track ids they carried (an exit looks back at where its party could have reached)."""
        pids = {p.pid for p in self.people.values() if p.account == account}
        times: list[FloatArray] = [np.empty(0)]
        points: list[FloatArray] = [np.empty((0, 2))]
        for hist in self.tracks.values():
            if not any(pid in pids for _, pid in hist.segments):
                continue
            lo, hi = hist.span(since, math.inf)
            theirs = np.isin(hist.persons_at(lo, hi), list(pids))
            times.append(np.asarray(hist.t[lo:hi], dtype=float)[theirs])
            points.append(hist.arrays()[0][lo:hi][theirs])
        return np.concatenate(times), np.concatenate(points)

    def latest_hands(self, person: Person) -> tuple[tuple[float, float, float], ...]:
        """The hands last seen on the person's current track (for live views)."""
        hist = self.tracks.get(person.track)
        return hist.hands[-1] if hist is not None and hist.hands else ()

    def gone(self, now: float) -> list[Exit]:
        """People inside whom no track has followed for ``GONE_S``: they count as gone."""
        out: list[Exit] = []
        for person in sorted(self.people.values(), key=lambda p: p.pid):
            if not person.inside or now - person.last_t <= GONE_S:
                continue
            person.inside = False
            person.exit_t = person.last_t
            done = True
            if person.account is not None:
                inside = self.inside_by_account.get(person.account, set())
                inside.discard(person.pid)
                done = not inside
            log.warning("person %d (%s) unseen since t=%.1f: gone", person.pid, person.account,
                        person.last_t)  # fmt: skip
            out.append(Exit(person.pid, person.account, person.last_t, done))
        return out

    def prune(self, now: float) -> None:
        """Bound memory: forget tracks silent for longer than the history horizon, and the
        people who left with them; let go of scans nobody came through."""
        self._drop_stale_scans(now)
        stale = [tid for tid, h in self.tracks.items() if not h.t or h.t[-1] < now - HISTORY_S]
        if not stale:
            return
        for tid in stale:
            del self.tracks[tid]
        # A person is forgotten once out with their track gone, but not while another kept
        # track's history still names them (a look sweep or a swap gave it them for a while):
        # a weight change in that stretch may yet be decided and ask who they were.
        named = {pid for h in self.tracks.values() for _, pid in h.segments}
        for pid in [
            pid
            for pid, person in self.people.items()
            if not person.inside and person.track not in self.tracks and pid not in named
        ]:
            self._grid.get(_cell(self.people[pid].last_pos), set()).discard(pid)
            del self.people[pid]
