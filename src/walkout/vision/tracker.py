"""Keeping ids on people from frame to frame: a Kalman filter each, matched by assignment.

Each track predicts where its person will be (constant velocity); the frame's people are
matched to the predictions by ``scipy.optimize.linear_sum_assignment`` within a gate, so two
people crossing keep their ids as long as their motion is smooth. A new track must be seen in a
few frames before it is reported (no ids for flickers), and a track that loses its person
coasts on its prediction for a while; a person found again near where a track was lost, soon
after, gets the old id back.

The caller drives it frame by frame (``update``); no clock or I/O inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from walkout.vision.fuse import FloorPerson

FloatArray = NDArray[np.float64]


@dataclass(slots=True)
class Track:
    """One tracked person.

    Attributes:
        id: Opaque id, as in the spec's ``track`` messages.
        x: State [x, y, vx, vy].
        P: State covariance.
        hits: Frames with a match.
        missed: Frames since the last match.
        confirmed: Reported (seen in ``confirm_hits`` frames).
        last_t: Time of the last match.
        merged_for: Frames it has shared a blob with another track.
        blob: Where the blob it shares was last frame (None when alone): whether the blob
            walks or stands.
        seen_colour: Clothes colour of this frame's match when matched alone, else NaN.
        contact_t: Last time another confirmed track was within ``contact_m``.
        views: Most cameras (up to 2) that saw it at once: a newcomer only one camera sees,
            where two look, is not confirmed.
    """

    id: str
    x: FloatArray
    P: FloatArray
    hits: int = 1
    missed: int = 0
    confirmed: bool = False
    last_t: float = 0.0
    merged_for: int = 0
    views: int = 0
    colour: FloatArray = field(default_factory=lambda: np.full(3, np.nan))
    hands: FloatArray = field(default_factory=lambda: np.zeros((0, 3)))
    blob: FloatArray | None = None
    seen_colour: FloatArray = field(default_factory=lambda: np.full(3, np.nan))
    contact_t: float = -np.inf
    held: FloatArray = field(default_factory=lambda: np.zeros((0, 3)))
    held_t: float = -np.inf


@dataclass(slots=True)
class _Contact:
    """Two tracks that were close: the colour evidence on who is who since they parted."""

    a: Track
    b: Track
    t: float
    crossed: float = 0.0
    frames: int = 0


@dataclass(frozen=True, slots=True)
class TrackedPerson:
    """A confirmed track seen at this frame: what becomes a ``track`` message."""

    id: str
    xy: FloatArray
    hands: FloatArray
    look: FloatArray | None = None


class Tracker:
    """Multi-person tracker on the floor (metres), one ``update`` per frame time."""

    def __init__(
        self,
        dt: float = 0.1,
        gate_m: float = 0.8,
        confirm_hits: int = 3,
        max_missed: int = 15,
        reid_s: float = 3.0,
        reid_m: float = 1.0,
        accel_sd: float = 2.0,
        meas_sd_m: float = 0.08,
        min_birth_score: float = 0.6,
        twin_m: float = 0.5,
        merge_m: float = 0.7,
        hold_m: float = 0.3,
        merged_sd_m: float = 0.25,
        solid_hits: int = 20,
        birth_clear_m: float = 0.9,
        entries: list[tuple[float, float]] | None = None,
        entry_m: float = 1.5,
        colour_m: float = 0.5,
        colour_scale: float = 50.0,
        colour_rate: float = 0.1,
        unknown_colour: float = 0.5,
        walking_mps: float = 0.5,
        shoulder_m: float = 0.2,
        hang_z_m: float = 0.85,
        id_prefix: str = "v",
        look_clear_m: float = 0.8,
        weak_gate_m: float = 0.3,
        contact_m: float = 0.5,
        swap_window_s: float = 3.0,
        swap_frames: int = 3,
        swap_margin: float = 20.0,
        weak_views: bool = True,
        hand_memory_s: float = 0.5,
        same_hand_m: float = 0.05,
    ) -> None:
        """Args:
        dt: Time between frames, seconds.
        gate_m: Largest distance between a prediction and a person to match them; larger
            bridges jumpy detections but lets two nearby people trade ids.
        confirm_hits: Frames a new track must be matched in before it is reported.
        max_missed: Frames a track coasts unseen before it ends (10 frames = 1 s at 10 Hz).
        reid_s: An ended track's id is given back to a new person found within this time...
        reid_m: ... and this distance of where it was last seen.
        accel_sd: Unmodelled acceleration (m/s²); higher follows turns faster, noisier.
        meas_sd_m: Error of a fused position.
        min_birth_score: Weakest detection that may start a track.
        twin_m: No track is started this close to a confirmed one (a person seen twice).
        merge_m: An unmatched track predicted this close to a matched person is taken to be
            hidden in the same blob (people crossing or standing together): it stays alive
            and reported for as long as the blob is there, however long that is.
        hold_m: A track hidden in a blob is kept this close to it (two bodies side by side).
        merged_sd_m: How far from a blob's centre the person matched to it may be (it lies
            between the people it holds); the others in it move with it, keeping their places.
        solid_hits: Frames a track must have been matched on its own before it may hide in
            another's blob; a younger one beside someone is more likely that person seen twice
            and coasts out as a lost track would.
        birth_clear_m: No new track is started this close to a confirmed one, except near an
            entry: elsewhere nobody new appears next to someone tracked, so what does is that
            person seen twice (an arm, a head, two people in one blob pulled apart).
        entries: Floor points where people come in (entry gates); None: no such exception.
        entry_m: How near an entry a newcomer may be born next to a tracked person.
        colour_m: Metres of extra distance for clothes of a wholly different colour; 0 goes
            by position alone. Higher keeps ids through merges of differently dressed people
            but lets a lighting change pull a track towards the wrong person.
        colour_scale: Colour distance (grey levels, BGR) counted as wholly different.
        colour_rate: How fast a track's colour follows what is seen (per frame).
        unknown_colour: Share of ``colour_m`` a track with no colour learnt yet pays against a
            person whose colour is seen (a young track born beside someone, never alone). 0
            made an unknown colour free, so such a track beat the right one, whose colour
            merely differed by frame noise and shading, for a person leaving a blob; 1 counts
            it as wholly different.
        walking_mps: Someone this fast with no arm seen is reported with hands hanging at the
            sides; 0 reports no hands unless seen.
        shoulder_m: How far to either side of the body hanging hands are put.
        hang_z_m: Their height.
        id_prefix: Ids are ``{id_prefix}-{n}``.
        look_clear_m: A person's look is reported only with no other track this near: closer,
            one body's outline takes in the other's clothes, and a blend of two people is
            worse than no look for the engine, which learns and compares looks by frames.
        weak_gate_m: The gate for a weak detection: seen by one camera, and a small body or
            one cut by the frame's edge (``FloorPerson.whole`` below ``min_birth_score``)
            or, with ``weak_views``, where another camera looks too and sees nobody. Such a
            sliver (a head at the edge of a view placed on the floor as shoulders, an arm or
            shoulder of two people standing close seen from the side) is not a person to
            pull a track 0.5 m to: out of the blob of two it walks in, or off its person.
        weak_views: Count one-camera detections where two cameras look as weak.
        contact_m: Two tracks this close have been in contact: for ``swap_window_s`` after,
            neither learns its colour, and once they stand apart again (``look_clear_m``)
            their ids are checked against their colours from before ...
        swap_window_s: ... for this long ...
        swap_frames: ... over at least this many frames, and given back to the people they
            fit when the crossed pairing fits better by ``swap_margin`` grey levels (summed
            over both, mean per frame): a blob of two that parts does not tell by position
            who went where (a sharp turn in the blob, two people passing through each
            other), and a constant-velocity filter then carries each id on the wrong way.
        hand_memory_s: A hand point within ``same_hand_m`` of one that another track, now
            standing, reported in this last while (and this one did not) is given back to
            that track, if it is reported this frame with fewer than two hands: a hand in a
            plate stays put while a camera that sees one of two people close together gives
            that one both arms. 0 keeps each hand where fusion put it; longer also catches a
            hand come back to the same spot of the plate, whoever's it is.
        same_hand_m: How near two hand points of consecutive frames are one hand in a plate
            (a hand is 8-10 cm across, two shoppers' hands in one plate are further apart).
        """
        self.weak_gate_m, self.weak_views = weak_gate_m, weak_views
        self.hand_memory_s, self.same_hand_m = hand_memory_s, same_hand_m
        self.contact_m, self.swap_window_s = contact_m, swap_window_s
        self.swap_frames, self.swap_margin = swap_frames, swap_margin
        self._pairs: dict[tuple[int, int], _Contact] = {}
        self.look_clear_m = look_clear_m
        self.twin_m = twin_m
        self.merge_m, self.hold_m = merge_m, hold_m
        self.solid_hits = solid_hits
        self.birth_clear_m = birth_clear_m
        self.entries = np.array(entries, dtype=float).reshape(-1, 2) if entries else None
        self.entry_m = entry_m
        self.colour_m, self.colour_scale, self.colour_rate = colour_m, colour_scale, colour_rate
        self.unknown_colour = unknown_colour
        self.dt, self.gate_m = dt, gate_m
        self.confirm_hits, self.max_missed = confirm_hits, max_missed
        self.reid_s, self.reid_m = reid_s, reid_m
        self.min_birth_score = min_birth_score
        self.prefix = id_prefix
        self.walking_mps, self.shoulder_m, self.hang_z_m = walking_mps, shoulder_m, hang_z_m
        self.tracks: list[Track] = []
        self._ended: list[tuple[float, FloatArray, str]] = []  # (t, xy, id)
        self._next = 0
        self.F = np.eye(4)
        self.F[0, 2] = self.F[1, 3] = dt
        g = np.array([[dt * dt / 2, 0], [0, dt * dt / 2], [dt, 0], [0, dt]])
        self.Q = g @ g.T * accel_sd**2
        self.H = np.eye(2, 4)
        self.R = np.eye(2) * meas_sd_m**2
        self.R_merged = np.eye(2) * merged_sd_m**2

    def update(self, t: float, people: list[FloorPerson]) -> list[TrackedPerson]:
        """Advance to time ``t`` with the people found then; returns the confirmed tracks seen."""
        for tr in self.tracks:
            tr.x = self.F @ tr.x
            if tr.missed > 5:  # coasting long: a lost person more likely stopped than sped on
                tr.x[2:] *= 0.8
            tr.P = self.F @ tr.P @ self.F.T + self.Q
        matched = self._match(people)
        seen: list[tuple[Track, FloatArray, FloatArray | None]] = []
        taken = {pi for _, pi in matched}
        hidden = self._hidden(matched, people)
        merged = set(hidden) | set(hidden.values())
        for ti, pi in matched:  # a blob standing for several people: it moves them all
            if ti not in merged:
                continue
            tr, blob = self.tracks[ti], people[pi].xy
            step = np.inf if tr.blob is None else float(np.linalg.norm(blob - tr.blob))
            before = tr.x.copy()
            self._correct(tr, blob, self.R_merged)
            group = [tr] + [self.tracks[tj] for tj, owner in hidden.items() if owner == ti]
            for other in group[1:]:  # together they keep their places around the blob
                other.x[:2] += tr.x[:2] - before[:2]
                other.x[2:] = tr.x[2:]
            for member in group:
                member.missed = 0
                member.last_t = t
                member.merged_for += 1
                member.blob = blob.copy()
                # together a while, a blob that stays put: they stand, not cross; one that
                # moves on is two people walking together, at its pace
                if member.merged_for > 5 and step < self.walking_mps * self.dt:
                    member.x[2:] *= 0.7
                off = member.x[:2] - blob
                if np.linalg.norm(off) > self.hold_m:  # never drift away from the blob
                    member.x[:2] = blob + off / np.linalg.norm(off) * self.hold_m
                member.seen_colour = np.full(3, np.nan)
                seen.append((member, np.zeros((0, 3)), None))
        for ti, pi in matched:
            if ti in merged:
                continue
            tr, person = self.tracks[ti], people[pi]
            self._correct(tr, person.xy, self.R)
            tr.hits += 1
            tr.missed = 0
            tr.merged_for = 0
            tr.blob = None
            tr.last_t = t
            tr.hands = person.hands
            alone = all(o is tr or np.linalg.norm(o.x[:2] - tr.x[:2]) > 1.0 for o in self.tracks)
            tr.seen_colour = person.colour
            settled = t - tr.contact_t > self.swap_window_s  # not while who is who is open
            if alone and settled and not np.isnan(person.colour).any():  # a crowd's mix
                tr.colour = (
                    person.colour
                    if np.isnan(tr.colour).any()
                    else (1 - self.colour_rate) * tr.colour + self.colour_rate * person.colour
                )
            tr.views = max(tr.views, min(person.cameras, 2))
            twin = any(  # born beside someone in the same frames: one person seen twice
                o is not tr and o.confirmed and np.linalg.norm(o.x[:2] - tr.x[:2]) < self.twin_m
                for o in self.tracks
            )
            if (
                tr.hits >= self.confirm_hits
                and not twin
                and (tr.views >= 2 or self._lone_view_ok(person))
            ):
                tr.confirmed = True
            if tr.confirmed:
                hands = person.hands if len(person.hands) else self._hanging(tr)
                clear = all(
                    o is tr or np.linalg.norm(o.x[:2] - tr.x[:2]) > self.look_clear_m
                    for o in self.tracks
                )
                look = person.look if clear else None
                seen.append((tr, hands, look))
        for ti, tr in enumerate(self.tracks):
            if ti not in {m[0] for m in matched} and ti not in hidden:
                tr.missed += 1
                tr.seen_colour = np.full(3, np.nan)
        self._check_swaps(t)
        seen = self._keep_hands(t, seen)
        out = [TrackedPerson(tr.id, tr.x[:2].copy(), h, look) for tr, h, look in seen]
        self._retire(t)
        for pi, person in enumerate(people):
            if pi not in taken and person.score >= self.min_birth_score:
                if self._crowded(person.xy):
                    continue  # a second sighting of someone already tracked, not a newcomer
                self._birth(t, person)
        return out

    def _keep_hands(
        self, t: float, seen: list[tuple[Track, FloatArray, FloatArray | None]]
    ) -> list[tuple[Track, FloatArray, FloatArray | None]]:
        """A hand that stays in a plate stays with the person who had it.

        A hand in a plate hardly moves while the unit is taken, so a hand point within
        ``same_hand_m`` of one another person reported in the last ``hand_memory_s`` (and
        this person did not) is still theirs: a camera that sees only one of two people
        standing close gives that one both arms (hard seed 3 at 214.2 s: a reacher's hand, on
        her own track for a second, passed to her neighbour when he reached too).
        """
        if not self.hand_memory_s:
            return seen
        index = {id(tr): k for k, (tr, _, _) in enumerate(seen)}
        # the hands seen this frame (not the ones hung at a walker's sides)
        real = [list(h) if len(tr.hands) and tr.merged_for == 0 else [] for tr, h, _ in seen]
        recent = [
            o for o in self.tracks if len(o.held) and t - o.held_t <= self.hand_memory_s + 1e-9
        ]

        def had(o: Track, h: FloatArray) -> bool:
            return bool((np.linalg.norm(o.held - h, axis=1) < self.same_hand_m).any())

        def holder(o: Track, tr: Track, h: FloatArray) -> bool:
            # a hand stays in a plate only while its person stands: one who walks on took
            # the hand as the tracks passed (two people crossing), it was never theirs
            standing = not self.walking_mps or np.linalg.norm(o.x[2:]) < self.walking_mps
            return o is not tr and standing and had(o, h)

        moved = False
        for k, (tr, _, _) in enumerate(seen):
            for h in list(real[k]):
                if any(o is tr for o in recent) and had(tr, h):
                    continue
                owner = next((o for o in recent if holder(o, tr, h)), None)
                j = None if owner is None else index.get(id(owner))
                if j is None or len(real[j]) >= 2:
                    continue
                real[k] = [q for q in real[k] if q is not h]
                real[j].append(h)
                moved = True
        out = []
        for k, (tr, hands, look) in enumerate(seen):
            if len(real[k]):
                tr.held, tr.held_t = np.array(real[k]), t
            if moved and (len(real[k]) or len(tr.hands)):
                hands = np.array(real[k]).reshape(-1, 3)
            out.append((tr, hands, look))
        return out

    def _check_swaps(self, t: float) -> None:
        """Give two ids back to the people they belong to, by clothes, after a contact.

        When two confirmed tracks come within ``contact_m``, a watch starts (and restarts
        while they stay close). Once they stand apart, clear of everyone, each frame adds how
        much better the crossed pairing fits the colours each id had before (the tracks'
        colours do not learn meanwhile) than the straight one; after ``swap_frames`` frames,
        a mean over ``swap_margin`` swaps the ids (and their colours) between the two.
        """
        live = [tr for tr in self.tracks if tr.confirmed]
        for i, a in enumerate(live):
            for b in live[i + 1 :]:
                if np.linalg.norm(a.x[:2] - b.x[:2]) < self.contact_m:
                    a.contact_t = b.contact_t = t
                    self._pairs[(id(a), id(b))] = _Contact(a, b, t)
        alive = {id(tr) for tr in self.tracks}
        for key, c in list(self._pairs.items()):
            if t - c.t > self.swap_window_s or id(c.a) not in alive or id(c.b) not in alive:
                del self._pairs[key]
                continue
            if c.t == t or not all(self._clear(tr) for tr in (c.a, c.b)):
                continue
            cols = [c.a.colour, c.b.colour, c.a.seen_colour, c.b.seen_colour]
            if any(np.isnan(v).any() for v in cols):
                continue
            ca, cb, sa, sb = cols
            straight = np.linalg.norm(ca - sa) + np.linalg.norm(cb - sb)
            crossed = np.linalg.norm(ca - sb) + np.linalg.norm(cb - sa)
            c.crossed += float(straight - crossed)
            c.frames += 1
            if c.frames >= self.swap_frames and c.crossed / c.frames > self.swap_margin:
                c.a.id, c.b.id = c.b.id, c.a.id
                c.a.colour, c.b.colour = c.b.colour, c.a.colour
                del self._pairs[key]

    def _sliver(self, p: FloorPerson) -> bool:
        """Whether a one-camera detection is likely a part of a body (``weak_gate_m``)."""
        return p.whole < self.min_birth_score or (self.weak_views and p.views >= 2)

    def _clear(self, tr: Track) -> bool:
        """Whether no other track is within ``look_clear_m`` (its colours are its own)."""
        return all(
            o is tr or np.linalg.norm(o.x[:2] - tr.x[:2]) > self.look_clear_m for o in self.tracks
        )

    def _hanging(self, tr: Track) -> FloatArray:
        """Hands at the sides of someone seen walking with no arm out, else none (unknown).

        Nobody reaches into a shelf in mid-stride, so a walker whose arms the cameras do not
        see sticking out has them down: saying so lets the engine rule out a passer-by at the
        moment of a pick, as it can with a tracking system that reports every hand. A person
        standing with no arm seen says nothing (the arm may be hidden in the shelf).
        """
        v = tr.x[2:]
        speed = float(np.linalg.norm(v))
        if not self.walking_mps or speed < self.walking_mps:
            return np.zeros((0, 3))
        side = np.array([-v[1], v[0]]) / speed * self.shoulder_m
        z = self.hang_z_m
        return np.array([[*(tr.x[:2] + side), z], [*(tr.x[:2] - side), z]])

    def _lone_view_ok(self, person: FloorPerson) -> bool:
        """Whether a newcomer seen by one camera only may be believed: at an entry, or where
        no second camera looks. Elsewhere a person is in two views, and what one camera
        alone keeps seeing in one spot is a flaw of its picture (a light, a changed shelf)."""
        at_entry = self.entries is not None and bool(
            (np.linalg.norm(self.entries - person.xy, axis=1) < self.entry_m).any()
        )
        return at_entry or person.views < 2

    def _correct(self, tr: Track, z: FloatArray, r: FloatArray) -> None:
        """Kalman update of ``tr`` with a floor position ``z`` of covariance ``r``."""
        s = self.H @ tr.P @ self.H.T + r
        k = tr.P @ self.H.T @ np.linalg.inv(s)
        tr.x = tr.x + k @ (z - self.H @ tr.x)
        tr.P = (np.eye(4) - k @ self.H) @ tr.P

    def _crowded(self, xy: FloatArray) -> bool:
        """Whether a person found at ``xy`` is too near a confirmed track to be someone new."""
        near = [float(np.linalg.norm(tr.x[:2] - xy)) for tr in self.tracks if tr.confirmed]
        if not near:
            return False
        at_entry = self.entries is not None and bool(
            (np.linalg.norm(self.entries - xy, axis=1) < self.entry_m).any()
        )
        return min(near) < (self.twin_m if at_entry else self.birth_clear_m)

    def _hidden(self, matched: list[tuple[int, int]], people: list[FloorPerson]) -> dict[int, int]:
        """Unmatched confirmed tracks hidden in a matched person's blob (people crossing or
        standing together): hidden track -> the matched track whose blob holds it."""
        got = {ti for ti, _ in matched}
        blobs = [(ti, people[pi].xy) for ti, pi in matched if self.tracks[ti].confirmed]
        out: dict[int, int] = {}
        if not blobs:
            return out
        for tj, other in enumerate(self.tracks):
            if tj in got or not other.confirmed or other.hits < self.solid_hits:
                continue  # only someone seen on their own for a while hides in a blob
            d = [float(np.linalg.norm(other.x[:2] - xy)) for _, xy in blobs]
            best = int(np.argmin(d))
            if d[best] < self.merge_m:
                out[tj] = blobs[best][0]
        return out

    def _match(self, people: list[FloorPerson]) -> list[tuple[int, int]]:
        if not self.tracks or not people:
            return []
        pred = np.array([tr.x[:2] for tr in self.tracks])
        pts = np.array([p.xy for p in people])
        dist = np.linalg.norm(pred[:, None, :] - pts[None, :, :], axis=2)
        # a confirmed track beats a tentative one at equal distance; coasting widens the gate
        gate = np.array([self.gate_m * (1 + 0.1 * min(tr.missed, 5)) for tr in self.tracks])
        cost = dist + np.array([0.0 if tr.confirmed else 0.05 for tr in self.tracks])[:, None]
        if self.colour_m > 0:  # clothes tell apart two people a position cannot
            tc = np.array([tr.colour for tr in self.tracks])
            pc = np.array([p.colour for p in people])
            diff = np.linalg.norm(tc[:, None, :] - pc[None, :, :], axis=2)
            share = np.clip(diff / self.colour_scale, 0, 1)
            unknown = np.isnan(tc).any(axis=1)[:, None] & ~np.isnan(pc).any(axis=1)[None, :]
            share = np.where(unknown, self.unknown_colour, np.nan_to_num(share))
            cost = cost + share * self.colour_m
        big = 1e6
        weak = np.array([p.cameras < 2 and self._sliver(p) for p in people])
        gate = np.where(weak[None, :], np.minimum(gate[:, None], self.weak_gate_m), gate[:, None])
        cost = np.where(dist <= gate, cost, big)  # the gate is on position alone
        rows, cols = linear_sum_assignment(cost)
        return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] < big]

    def _retire(self, t: float) -> None:
        keep = []
        for tr in self.tracks:
            limit = self.max_missed if tr.confirmed else 1
            if tr.missed > limit:
                if tr.confirmed:
                    self._ended.append((tr.last_t, tr.x[:2].copy(), tr.id))
            else:
                keep.append(tr)
        self.tracks = keep
        self._ended = [e for e in self._ended if t - e[0] <= self.reid_s]

    def _birth(self, t: float, person: FloorPerson) -> None:
        tid = ""
        if self._ended:
            d = [float(np.linalg.norm(xy - person.xy)) for _, xy, _ in self._ended]
            i = int(np.argmin(d))
            if d[i] <= self.reid_m:
                tid = self._ended.pop(i)[2]
        confirmed = bool(tid)
        if not tid:
            self._next += 1
            tid = f"{self.prefix}-{self._next}"
        x = np.array([person.xy[0], person.xy[1], 0.0, 0.0])
        p = np.diag([self.R[0, 0], self.R[1, 1], 1.0, 1.0])
        tr = Track(tid, x, p, confirmed=confirmed, last_t=t, hands=person.hands)
        tr.views = min(person.cameras, 2)
        self.tracks.append(tr)
