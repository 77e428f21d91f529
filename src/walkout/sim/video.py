"""``simulate --video``: render every ceiling camera over a recording and write its video.

Runs after the sensors are written and draws from its own random stream, so a recording's
store.json (apart from the added ``cameras``), events and truth are the same with or without
video.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from walkout.recording.models import Camera, StoreLayout
from walkout.sim.render import Scene
from walkout.sim.script import PersonPath
from walkout.vision.video import (
    VideoManifest,
    VideoWriters,
    video_folder,
    write_manifest,
)

CHUNK_S = 10.0
TRUTH_FILE = "truth.npz"


def write_video(
    outdir: Path,
    store: StoreLayout,
    cameras: list[Camera],
    persons: list[PersonPath],
    duration_s: float,
    seed: int,
    floor: tuple[tuple[float, float], tuple[float, float]],
    progress: Callable[[float], None] | None = None,
) -> VideoManifest:
    """Write ``video/<camera>.mp4`` per camera, ``video/truth.npz`` and the manifest."""
    scene = Scene(store, cameras, persons, seed=seed, floor=floor, duration_s=duration_s)
    folder = video_folder(outdir)
    size = cameras[0].resolution
    writers = VideoWriters(folder, [c.id for c in cameras], (size[0], size[1]), scene.fps)
    times: list[float] = []
    frame_of: list[np.ndarray] = []
    person: list[np.ndarray] = []
    xy: list[np.ndarray] = []
    hands: list[np.ndarray] = []
    reaching: list[np.ndarray] = []
    try:
        c0 = 0.0
        while c0 < duration_s:
            c1 = min(c0 + CHUNK_S, duration_s)
            for sf in scene.frames(c0, c1):
                writers.write(sf.images)
                frame_of.append(np.full(len(sf.people), len(times)))
                times.append(sf.t)
                person.append(sf.people)
                xy.append(sf.xy)
                hands.append(sf.hands)
                reaching.append(sf.reaching)
            if progress is not None:
                progress(c1 / duration_s)
            c0 = c1
    finally:
        writers.close()
    np.savez_compressed(
        folder / TRUTH_FILE,
        times=np.array(times),
        frame=np.concatenate(frame_of).astype(np.int32),
        person=np.concatenate(person).astype(np.int32),
        xy=np.concatenate(xy).reshape(-1, 2).astype(np.float32),
        hands=np.concatenate(hands).reshape(-1, 2, 3).astype(np.float32),
        reaching=np.concatenate(reaching).astype(np.float32),
        names=np.array([p.name for p in persons]),
        accounts=np.array([p.account for p in persons]),
    )
    manifest = VideoManifest(
        fps=scene.fps,
        t0=times[0] if times else 0.0,
        frames=writers.frames,
        cameras=writers.files,
        truth=TRUTH_FILE,
    )
    write_manifest(outdir, manifest)
    return manifest
