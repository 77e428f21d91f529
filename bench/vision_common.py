"""Shared helpers of the vision benches: cached simulated recordings with camera video."""

from __future__ import annotations

import os
from pathlib import Path

from walkout.sim import SIM_REVISION

CACHE = Path(os.environ.get("WALKOUT_BENCH_CACHE", "/tmp/walkout-bench")) / f"sim{SIM_REVISION}"


def video_recording(preset: str, seed: int, minutes: float) -> Path:
    """A simulated recording with video, made once and reused (the simulator is deterministic)."""
    from walkout.sim import simulate

    folder = CACHE / f"video-{preset}-s{seed}-m{minutes:g}"
    if not (folder / "video" / "manifest.json").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        simulate(folder, preset=preset, seed=seed, minutes=minutes, video=True)
    return folder


def tracked_recording(source: Path) -> Path:
    """``walkout track`` of a video recording, made once and reused."""
    from walkout.vision.pipeline import track_recording

    out = source.parent / f"{source.name}-tracked"
    if not (out / "events.jsonl").is_file():
        track_recording(source, out)
    return out
