"""True body poses for rendering camera frames: where each person and their hands really are.

The same story the track messages tell (``cameras.py``), without the tracker's noise: hands
hang at the sides and swing while walking, and the reaching hand travels to the plate in the
0.3 s before a reach and back after it. No random draws, so rendering video changes no other
part of a recording.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from walkout.sim.script import PersonPath

MOVING_MPS = 0.3
REST_HAND_Z = 1.0

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Poses:
    """One person on ``n`` frames.

    Attributes:
        inside: (n,) the person is in the scene (between entering and walking off).
        xy: (n, 2) floor position of the body's centre.
        heading: (n,) facing direction, radians counter-clockwise from east.
        hands: (n, 2, 3) both hands; hand 0 is the one that reaches.
        reaching: (n,) 0..1, how far hand 0 is out towards a plate.
        hidden: (n,) hand 0 is hidden from every camera (an occluded reach).
    """

    inside: NDArray[np.bool_]
    xy: FloatArray
    heading: FloatArray
    hands: FloatArray
    reaching: FloatArray
    hidden: NDArray[np.bool_]


def poses(path: PersonPath, frames: FloatArray) -> Poses:
    """The true pose of one person at each time of ``frames``."""
    times = np.asarray(path.times)
    xy = np.stack([np.interp(frames, times, path.xs), np.interp(frames, times, path.ys)], axis=1)
    seg = np.clip(np.searchsorted(times, frames, side="right") - 1, 0, len(times) - 1)
    pts = np.stack([path.xs, path.ys], axis=1)
    step = np.linalg.norm(np.diff(pts, axis=0), axis=1) / np.maximum(np.diff(times), 1e-6)
    speed = np.append(step, 0.0)[seg]
    head = np.asarray(path.heading)[seg]
    fwd = np.stack([np.cos(head), np.sin(head)], axis=1)
    side = np.stack([-fwd[:, 1], fwd[:, 0]], axis=1)
    swing = (0.1 * np.sin(2 * np.pi * 0.9 * frames) * (speed > MOVING_MPS))[:, None]
    hands = np.empty((len(frames), 2, 3))
    for h, sign in enumerate((1.0, -1.0)):
        hands[:, h, :2] = xy + sign * 0.2 * side + sign * swing * fwd
        hands[:, h, 2] = REST_HAND_Z
    reaching = np.zeros(len(frames))
    hidden = np.zeros(len(frames), dtype=bool)
    for r in path.reaches:
        s = np.clip(np.minimum(frames - (r.t0 - 0.3), (r.t1 + 0.3) - frames) / 0.3, 0.0, 1.0)
        on = s > 0
        hands[on, 0] = (1 - s[on, None]) * hands[on, 0] + s[on, None] * np.array(r.hand)
        reaching = np.maximum(reaching, s)
        if r.occluded:
            hidden |= on
    inside = (frames >= path.enter_t) & (frames <= path.end_t)
    return Poses(inside, xy, head, hands, reaching, hidden)
