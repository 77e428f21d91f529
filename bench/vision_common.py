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


def stage_fingerprint() -> str:
    """A hash of the camera stage's code (``walkout.vision``): tracks it made are reused only
    while it is unchanged, so an engine change is measured in minutes, a stage change afresh."""
    import hashlib

    import walkout.vision

    digest = hashlib.sha256()
    for path in sorted(Path(walkout.vision.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def tracked_recording(source: Path, reuse: bool = True) -> Path:
    """``walkout track`` of a video recording, made once and reused while the stage is the same
    (``reuse``; its fingerprint is kept beside the tracks)."""
    from walkout.vision.pipeline import track_recording

    out = source.parent / f"{source.name}-tracked"
    stamp = source.parent / f"{source.name}-tracked.stage"
    fingerprint = stage_fingerprint()
    fresh = (out / "events.jsonl").is_file() and stamp.is_file()
    if not (reuse and fresh and stamp.read_text() == fingerprint):
        track_recording(source, out)
        stamp.write_text(fingerprint)
    return out
