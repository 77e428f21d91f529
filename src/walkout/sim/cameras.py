"""Overhead camera tracks: noisy positions and hands at ~10 Hz, with the tracker's mistakes.

Ids are opaque and belong to the tracker, not the person: when two moving people pass close,
their ids may be exchanged from then on; a lost track comes back under a new id. The history
of ids per person is kept for the truth file, for diagnosis only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from walkout.sim.config import SimConfig
from walkout.sim.script import PersonPath

MOVING_MPS = 0.3  # slower than this a tracker does not confuse two people
LOST_DRIFT_M = 1.0  # a lost track comes back within this distance of where it was lost


@dataclass(slots=True)
class IdSpan:
    """A stretch of time during which a person carried one track id."""

    id: str
    t0: float
    t1: float


@dataclass(slots=True)
class _Person:
    path: PersonPath
    times: np.ndarray
    xy: np.ndarray  # (k, 2)
    heading: np.ndarray
    speed: np.ndarray  # per keyframe segment
    hand_z: float
    lost: list[tuple[float, float]]
    id: str = ""
    need_new_id: bool = True
    history: list[IdSpan] = field(default_factory=list)
    look: np.ndarray | None = None  # true appearance descriptor

    def positions(self, ts: np.ndarray) -> np.ndarray:
        return np.stack(
            [np.interp(ts, self.times, self.xy[:, 0]), np.interp(ts, self.times, self.xy[:, 1])],
            axis=1,
        )


@dataclass(frozen=True, slots=True)
class TrackChunk:
    """Track messages of a chunk, in time order: ``t[i]`` is the time of ``payloads[i]``."""

    t: list[float]
    payloads: list[dict[str, object]]


class Cameras:
    """Renders every person's track for consecutive chunks of time."""

    def __init__(
        self,
        persons: list[PersonPath],
        cfg: SimConfig,
        rng: np.random.Generator,
        rng_looks: np.random.Generator | None = None,
    ) -> None:
        self.cfg, self.rng = cfg, rng
        self.rate = cfg.camera_rate_hz
        self.phase = float(rng.uniform(0, 1 / self.rate))
        self.people = [self._prepare(p) for p in persons]
        # looks draw from their own stream, so that everything else stays as it was
        self._rng_looks = rng_looks or np.random.default_rng(0)
        if cfg.look_dims > 0:
            for person, look in zip(self.people, self._dress(), strict=True):
                person.look = look
        self._next_id = int(rng.integers(1, 50))
        self._close: set[tuple[int, int]] = set()

    def _prepare(self, path: PersonPath) -> _Person:
        times = np.array(path.times)
        xy = np.stack([np.array(path.xs), np.array(path.ys)], axis=1)
        step = np.linalg.norm(np.diff(xy, axis=0), axis=1) / np.maximum(np.diff(times), 1e-6)
        person = _Person(
            path, times, xy, np.array(path.heading), np.append(step, 0.0),
            float(self.rng.uniform(0.9, 1.05)), [],
        )  # fmt: skip
        person.lost = self._losses(person)
        return person

    def _losses(self, p: _Person) -> list[tuple[float, float]]:
        cfg, rng = self.cfg, self.rng
        lo, hi = p.path.enter_t + 2.0, p.path.cross_t - 2.0
        if cfg.lost_per_minute <= 0 or hi <= lo:
            return []
        out: list[tuple[float, float]] = []
        for _ in range(int(rng.poisson(cfg.lost_per_minute * (hi - lo) / 60))):
            t = float(rng.uniform(lo, hi))
            gap = float(rng.uniform(*cfg.lost_s))
            while gap > cfg.lost_s[0] and self._moved(p, t, gap) > LOST_DRIFT_M:
                gap = max(gap / 2, cfg.lost_s[0])
            if self._moved(p, t, gap) <= LOST_DRIFT_M and all(
                t > b + 1 or t + gap < a - 1 for a, b in out
            ):
                out.append((t, min(t + gap, hi)))
        return sorted(out)

    @staticmethod
    def _moved(p: _Person, t: float, gap: float) -> float:
        a, b = p.positions(np.array([t, t + gap]))
        return float(np.linalg.norm(b - a))

    def _dress(self) -> np.ndarray:
        """Each person's true look (rows in person order); look-alikes copy someone earlier."""
        cfg, rng = self.cfg, self._rng_looks
        looks = rng.normal(0.0, 1.0, (len(self.people), cfg.look_dims))
        for i in range(1, len(self.people)):
            if rng.random() < cfg.look_alike_frac:
                model = int(rng.integers(0, i))
                looks[i] = looks[model] + rng.normal(0.0, cfg.look_alike_sd, cfg.look_dims)
        return looks

    def histories(self) -> list[list[IdSpan]]:
        """Track ids each person carried, in person order (for the truth file)."""
        return [p.history for p in self.people]

    def _new_id(self) -> str:
        self._next_id += 1
        return f"trk-{self._next_id}"

    def render(self, c0: float, c1: float) -> TrackChunk:
        """Track messages with ``c0 <= t < c1``."""
        f0 = math.ceil((c0 - self.phase) * self.rate - 1e-9)
        f1 = math.ceil((c1 - self.phase) * self.rate - 1e-9)
        frames = np.round(self.phase + np.arange(f0, f1) / self.rate, 3)
        live = [p for p in self.people if p.path.enter_t < c1 and p.path.end_t >= c0]
        seen: list[np.ndarray] = []
        drawn: list[tuple[np.ndarray, np.ndarray, list[list[list[float]]]]] = []
        for p in live:
            inside = (frames >= p.path.enter_t) & (frames <= p.path.end_t)
            visible = inside.copy()
            for a, b in p.lost:
                visible &= ~((frames >= a) & (frames < b))
            seen.append(np.stack([inside, visible]))
            drawn.append(self._draw(p, frames))
        t_out: list[float] = []
        out: list[dict[str, object]] = []
        for j, t in enumerate(frames.tolist()):
            here = [k for k in range(len(live)) if seen[k][1, j]]
            for k in range(len(live)):
                if seen[k][0, j] and not seen[k][1, j]:
                    live[k].need_new_id = True
            for k in here:
                p = live[k]
                if p.need_new_id:
                    p.id, p.need_new_id = self._new_id(), False
                    p.history.append(IdSpan(p.id, t, t))
            if self.cfg.p_swap > 0 and len(here) > 1:
                self._swaps(t, [live[k] for k in here], [drawn[k][0][j] for k in here])
            elif len(here) < 2:
                self._close = set()
            for k in here:
                p = live[k]
                p.history[-1].t1 = t
                msg: dict[str, object] = {
                    "t": t,
                    "type": "track",
                    "id": p.id,
                    "pos": drawn[k][1][j].tolist(),
                }
                if drawn[k][2][j]:
                    msg["hands"] = drawn[k][2][j]
                if p.look is not None:
                    noise = self._rng_looks.normal(0.0, self.cfg.look_noise_sd, len(p.look))
                    msg["look"] = np.round(p.look + noise, 2).tolist()
                t_out.append(t)
                out.append(msg)
        return TrackChunk(t_out, out)

    def _swaps(self, t: float, people: list[_Person], truth_xy: list[np.ndarray]) -> None:
        xy = np.array(truth_xy)
        d = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
        close = set()
        for a, b in zip(*np.nonzero(np.triu(d < self.cfg.swap_distance_m, 1)), strict=True):
            pa, pb = people[int(a)], people[int(b)]
            key = (min(pa.path.index, pb.path.index), max(pa.path.index, pb.path.index))
            close.add(key)
            if key in self._close or not (self._moving(pa, t) and self._moving(pb, t)):
                continue
            if self.rng.random() < self.cfg.p_swap:
                pa.id, pb.id = pb.id, pa.id
                pa.history.append(IdSpan(pa.id, t, t))
                pb.history.append(IdSpan(pb.id, t, t))
        self._close = close

    @staticmethod
    def _moving(p: _Person, t: float) -> bool:
        i = int(np.searchsorted(p.times, t, side="right")) - 1
        return 0 <= i < len(p.speed) and p.speed[i] > MOVING_MPS

    def _draw(
        self, p: _Person, frames: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, list[list[list[float]]]]:
        """True positions, reported positions and reported hands of one person on ``frames``."""
        cfg, rng = self.cfg, self.rng
        n = len(frames)
        xy = p.positions(frames)
        seg = np.clip(np.searchsorted(p.times, frames, side="right") - 1, 0, len(p.times) - 1)
        head = p.heading[seg]
        moving = p.speed[seg] > MOVING_MPS
        fwd = np.stack([np.cos(head), np.sin(head)], axis=1)
        side = np.stack([-fwd[:, 1], fwd[:, 0]], axis=1)
        swing = (0.1 * np.sin(2 * np.pi * 0.9 * frames) * moving)[:, None]
        hands = np.empty((n, 2, 3))
        for h, sign in enumerate((1.0, -1.0)):
            hands[:, h, :2] = xy + sign * 0.2 * side + sign * swing * fwd
            hands[:, h, 2] = p.hand_z
        hands += rng.normal(0, 1, hands.shape) * np.array(
            [cfg.hand_noise_m, cfg.hand_noise_m, 0.02]
        )
        show = rng.random((n, 2)) < cfg.p_hand_visible
        for r in p.path.reaches:
            s = np.clip(np.minimum(frames - (r.t0 - 0.3), (r.t1 + 0.3) - frames) / 0.3, 0.0, 1.0)
            on = np.nonzero(s > 0)[0]
            if not len(on):
                continue
            seen = r.hand + rng.normal(0, 1, (len(on), 3)) * np.array(
                [cfg.hand_noise_m, cfg.hand_noise_m, 0.01]
            )
            seen[:, 2] = np.maximum(seen[:, 2], r.hand[2] - 0.02)  # a hand on a plate is above it
            hands[on, 0] = (1 - s[on, None]) * hands[on, 0] + s[on, None] * seen
            if r.occluded:
                show[on, 0] = False
        reported = np.round(xy + rng.normal(0, cfg.pos_noise_m, xy.shape), 3)
        flip = rng.random(n) < 0.5
        hands_r = np.round(hands, 3).tolist()
        shown: list[list[list[float]]] = []
        for j in range(n):
            row = (
                [hands_r[j][h] for h in (1, 0) if show[j, h]]
                if flip[j]
                else [hands_r[j][h] for h in (0, 1) if show[j, h]]
            )
            shown.append(row)
        return xy, reported, shown
