"""Shared helpers of the vision benches: cached simulated recordings with camera video."""

from __future__ import annotations

import os
from pathlib import Path

from walkout.sim import SIM_REVISION

CACHE = Path(os.environ.get("WALKOUT_BENCH_CACHE", "/tmp/walkout-bench")) / f"sim{SIM_REVISION}"


def video_recording(preset: str, seed: int, minutes: float, stand_gap_m: float = 0.0) -> Path:
    """A simulated recording with video, made once and reused (the simulator is deterministic).

    ``stand_gap_m`` > 0 keeps standing shoppers that far apart (``SimConfig.stand_gap_m``; off
    in the presets), in a folder of its own."""
    from walkout.sim import PRESETS, simulate_config, variant

    gap = f"-g{stand_gap_m:g}" if stand_gap_m > 0 else ""
    folder = CACHE / f"video-{preset}-s{seed}-m{minutes:g}{gap}"
    if not (folder / "video" / "manifest.json").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        cfg = PRESETS[preset]
        if stand_gap_m > 0:
            cfg = variant(cfg, stand_gap_m=stand_gap_m)
        simulate_config(folder, cfg, seed, minutes, video=True)
    return folder


def tracked_recording(source: Path) -> Path:
    """``walkout track`` of a video recording, made once and reused."""
    from walkout.vision.pipeline import track_recording

    out = source.parent / f"{source.name}-tracked"
    if not (out / "events.jsonl").is_file():
        track_recording(source, out)
    return out
