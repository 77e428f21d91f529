"""Camera stage hands against truth: is a hand in a plate reported, and on whose track?

    python bench/vision_hands.py VIDEO_RECORDING TRACKED [VIDEO_RECORDING TRACKED ...]

For every frame of a simulated video recording (``video/truth.npz``) and every person whose hand
is in a plate then (``reaching`` 1), the tracked recording's track messages of that moment are
matched to the true people (optimal assignment within 0.5 m, as the tracking score does) and
the hand counts as found when the person's own track reports a hand point within 10 cm of it,
elsewhere when only another track does. Reported hand points that are not hung at a walker's
sides (0.85 m up) and lie more than 15 cm from every true hand in a plate count as false; the
runner-up height of a hand one camera sees over stacked plates is one of those by design.
Hands the simulator hides (hard's occluded reaches) count as not found, so no tracker reaches
100 %. For comparing versions of the stage on the same recordings, not as an absolute figure.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

HANG_Z_M = 0.85  # the tracker's hands hung at a walker's sides (``Tracker.hang_z_m``)


@dataclass
class HandCounts:
    reaching: int = 0  # frames x people with a hand in a plate
    found: int = 0  # ... with a hand point within 10 cm on their own track
    elsewhere: int = 0  # ... with one only on another track
    points: int = 0  # reported hand points, not hung at the sides
    false: int = 0  # ... more than 15 cm from every true hand in a plate

    def add(self, other: HandCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def line(self) -> str:
        n, m = max(self.reaching, 1), max(self.points, 1)
        return (
            f"found {self.found / n:6.1%}  elsewhere {self.elsewhere / n:5.1%}  "
            f"false points {self.false / m:6.1%}  ({self.reaching} reaching, {self.points} points)"
        )


def _messages(tracked: Path) -> dict[int, list[dict[str, object]]]:
    out: dict[int, list[dict[str, object]]] = defaultdict(list)
    with (tracked / "events.jsonl").open() as f:
        for line in f:
            if '"track"' not in line:
                continue
            msg = json.loads(line)
            if msg.get("type") == "track":
                out[round(msg["t"] * 10)].append(msg)
    return out


def score_hands(video: Path, tracked: Path) -> HandCounts:
    truth = np.load(video / "video" / "truth.npz")
    fps = json.loads((video / "video" / "manifest.json").read_text())["fps"]
    if abs(fps - 10.0) > 1e-9:
        raise SystemExit(f"{video}: frames at {fps} fps, this bench reads 10 fps")
    msgs = _messages(tracked)
    c = HandCounts()
    for k in range(len(truth["times"])):
        rows = np.nonzero(truth["frame"] == k)[0]
        if not len(rows):
            continue
        seen = msgs.get(k, [])
        reaching = [
            (i, truth["hands"][r, 0].astype(float))
            for i, r in enumerate(rows)
            if truth["reaching"][r] > 0.99
        ]
        pts = [
            (j, np.asarray(h, dtype=float))
            for j, m in enumerate(seen)
            for h in m.get("hands", [])  # type: ignore[attr-defined]
            if abs(h[2] - HANG_Z_M) > 1e-6
        ]
        c.points += len(pts)
        true_hands = [h for _, h in reaching]
        c.false += sum(
            1
            for _, p in pts
            if not true_hands or min(np.linalg.norm(p - h) for h in true_hands) > 0.15
        )
        if not reaching:
            continue
        own: dict[int, int] = {}
        if seen:
            gt = truth["xy"][rows].astype(float)
            txy = np.array([m["pos"] for m in seen], dtype=float)
            dist = np.linalg.norm(gt[:, None, :] - txy[None, :, :], axis=2)
            cost = np.where(dist < 0.5, dist, 1e6)
            r_, c_ = linear_sum_assignment(cost)
            own = {int(a): int(b) for a, b in zip(r_, c_, strict=True) if cost[a, b] < 1e6}
        for i, h in reaching:
            c.reaching += 1
            near = {j for j, p in pts if np.linalg.norm(p - h) < 0.1}
            if i in own and own[i] in near:
                c.found += 1
            elif near:
                c.elsewhere += 1
    return c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", type=Path, help="VIDEO_RECORDING TRACKED, repeated")
    args = parser.parse_args()
    if len(args.pairs) % 2:
        parser.error("give each video recording with its tracked recording")
    total = HandCounts()
    for video, tracked in zip(args.pairs[::2], args.pairs[1::2], strict=True):
        c = score_hands(video, tracked)
        total.add(c)
        print(f"{tracked.name:>12}  {c.line()}")
    print(f"{'all':>12}  {total.line()}")


if __name__ == "__main__":
    main()
