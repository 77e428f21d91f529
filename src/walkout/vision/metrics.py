"""Tracking quality against the simulator's truth: MOTA, IDF1 and id switches (``motmetrics``).

Truth is ``video/truth.npz`` (every person in the store at every frame); hypotheses are the
``track`` messages of a recording, each taken at the nearest frame time (the simulator's own
tracks run on a clock half a frame off at most, 5 cm at walking pace). A track within ``max_m``
of a person may be matched to them. ``motmetrics`` is a dev extra, imported only here.
"""

from __future__ import annotations

import gzip
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from walkout.recording.files import events_path
from walkout.vision.video import read_manifest, video_folder


@dataclass(frozen=True, slots=True)
class TrackingScore:
    """Standard multi-object tracking figures of one or more recordings."""

    frames: int
    objects: int
    mota: float
    idf1: float
    id_switches: int
    misses: int
    false_positives: int
    mean_error_m: float


def track_messages(recording: Path) -> dict[float, list[tuple[str, float, float]]]:
    """Track messages of a recording by time: t -> [(id, x, y)] (duplicates dropped)."""
    path = events_path(recording)
    opener = gzip.open if path.suffix == ".gz" else open
    out: dict[float, dict[str, tuple[float, float]]] = defaultdict(dict)
    with opener(path, "rb") as fh:
        for raw in fh:
            msg = orjson.loads(raw)
            if msg.get("type") == "track":
                out[round(float(msg["t"]), 3)][str(msg["id"])] = (msg["pos"][0], msg["pos"][1])
    return {t: [(i, x, y) for i, (x, y) in ids.items()] for t, ids in out.items()}


def score_tracks(video_recording: Path, tracked: Path, max_m: float = 0.5) -> TrackingScore:
    """Score the tracks of ``tracked`` against the truth in ``video_recording``'s video folder."""
    import motmetrics as mm

    manifest = read_manifest(video_recording)
    if manifest.truth is None:
        raise ValueError(f"{video_recording}: the video has no truth file to score against")
    truth = np.load(video_folder(video_recording) / manifest.truth)
    times = truth["times"]
    frame = truth["frame"]
    hyps: dict[int, list[tuple[str, float, float]]] = defaultdict(list)
    for t_h, seen in track_messages(tracked).items():  # to the nearest frame (other clocks)
        hyps[round((t_h - manifest.t0) * manifest.fps)] += seen
    acc = mm.MOTAccumulator(auto_id=True)
    hyp_index: dict[str, int] = {}
    order = np.argsort(frame, kind="stable")
    bounds = np.searchsorted(frame[order], np.arange(len(times) + 1))
    for k in range(len(times)):
        rows = order[bounds[k] : bounds[k + 1]]
        gt_ids = [int(truth["person"][r]) for r in rows]  # motmetrics wants numbers
        gt_xy = truth["xy"][rows].astype(float).reshape(-1, 2)
        hy = hyps.get(k, [])
        hy_ids = [hyp_index.setdefault(h[0], len(hyp_index)) for h in hy]
        hy_xy = np.array([[h[1], h[2]] for h in hy]).reshape(-1, 2)
        dist = mm.distances.norm2squared_matrix(gt_xy, hy_xy, max_d2=max_m**2)
        acc.update(gt_ids, hy_ids, dist)
    return _summary(acc, len(times))


def _summary(acc: object, frames: int) -> TrackingScore:
    import motmetrics as mm

    mh = mm.metrics.create()
    s = mh.compute(
        acc,
        metrics=["num_objects", "mota", "idf1", "num_switches", "num_misses",
                 "num_false_positives", "motp"],
    )  # fmt: skip
    row = s.iloc[0]
    return TrackingScore(
        frames=frames,
        objects=int(row["num_objects"]),
        mota=float(row["mota"]),
        idf1=float(row["idf1"]),
        id_switches=int(row["num_switches"]),
        misses=int(row["num_misses"]),
        false_positives=int(row["num_false_positives"]),
        mean_error_m=float(np.sqrt(row["motp"])) if np.isfinite(row["motp"]) else float("nan"),
    )
