"""The camera stage end to end: frames of every camera in, the spec's ``track`` messages out.

``CameraStage`` is driven frame time by frame time (a live feed or a video file alike);
``track_recording`` runs it over a recording's video and writes a new recording whose track
messages come from the pixels, with every other message (weights, entries, exits) kept as it
was, in the same delivery order, so ``walkout eval`` scores the whole chain.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
from numpy.typing import NDArray

from walkout.recording.files import RecordingError, events_path, read_store
from walkout.recording.models import StoreLayout
from walkout.vision.camera import PinholeCamera
from walkout.vision.detect import (
    SHOULDER_Z_M,
    BackgroundDetector,
    Detections,
    Frame,
    PersonDetector,
)
from walkout.vision.fuse import Fusion
from walkout.vision.tracker import TrackedPerson, Tracker
from walkout.vision.video import read_frames, read_manifest

DetectorFactory = Callable[[PinholeCamera], PersonDetector]


def track_message(t: float, person: TrackedPerson) -> dict[str, object]:
    """A spec ``track`` message (hands only when some were seen, a look when measured)."""
    msg: dict[str, object] = {
        "t": t,
        "type": "track",
        "id": person.id,
        "pos": [round(float(person.xy[0]), 3), round(float(person.xy[1]), 3)],
    }
    if len(person.hands):
        msg["hands"] = [[round(float(v), 3) for v in h] for h in person.hands]
    if person.look is not None and len(person.look) and np.isfinite(person.look).all():
        msg["look"] = [round(float(v), 3) for v in person.look]
    return msg


class CameraStage:
    """Detect in every camera, fuse on the floor, track: one call per frame time."""

    def __init__(
        self,
        store: StoreLayout,
        detector: DetectorFactory | None = None,
        camera_ids: list[str] | None = None,
    ) -> None:
        """Args:
        store: Layout with ``cameras`` (calibration) and plates (hand heights).
        detector: Makes each camera's detector; ``BackgroundDetector`` when None.
        camera_ids: Order in which frames will be given; store.json's order when None.
        """
        if not store.cameras:
            raise RecordingError("store.json lists no cameras: nothing to track from")
        specs = {c.id: c for c in store.cameras}
        ids = camera_ids or list(specs)
        missing = [i for i in ids if i not in specs]
        if missing:
            raise RecordingError(f"video of cameras not in store.json: {', '.join(missing)}")
        self.cameras = [PinholeCamera(specs[i]) for i in ids]
        make = detector or BackgroundDetector
        self.detectors = [make(c) for c in self.cameras]
        self.fusion = Fusion(self.cameras, store)
        entries = [g.center for g in store.gates if g.kind == "entry"]
        self.tracker = Tracker(dt=1.0 / self.cameras[0].spec.fps, entries=entries)
        self._last = np.zeros((0, 2))

    def step(self, t: float, frames: list[Frame]) -> list[dict[str, object]]:
        """Track messages for the frames every camera took at time ``t``."""
        return self.track(t, self.detect(frames))

    def detect(self, frames: list[Frame]) -> list[Detections]:
        """Every camera's people and hands, each detector told where the tracks last were."""
        if len(frames) != len(self.detectors):
            raise ValueError(f"{len(frames)} frames for {len(self.detectors)} cameras")
        for cam, det in zip(self.cameras, self.detectors, strict=True):
            if isinstance(det, BackgroundDetector):  # people tracked stay out of its background
                det.expect(self._expected(cam))
        return [d.detect(f) for d, f in zip(self.detectors, frames, strict=True)]

    def track(self, t: float, detections: list[Detections]) -> list[dict[str, object]]:
        """Fuse one frame time's detections and advance the tracks: the track messages."""
        tracked = self.tracker.update(t, self.fusion.fuse(detections))
        self._last = np.array([p.xy for p in tracked]).reshape(-1, 2)
        return [track_message(t, p) for p in tracked]

    def _expected(self, cam: PinholeCamera) -> NDArray[np.float64]:
        """Last frame's tracks in ``cam``'s pixels (a person moves ~10 cm between frames)."""
        if not len(self._last):
            return np.zeros((0, 2))
        uv = cam.project(np.column_stack([self._last, np.full(len(self._last), SHOULDER_Z_M)]))
        return uv[cam.in_view(uv, -60)]  # just outside the frame too: a body overlaps in


@dataclass(frozen=True, slots=True)
class TrackSummary:
    """What ``track_recording`` did."""

    frames: int
    cameras: int
    track_messages: int
    track_ids: int
    kept_messages: int


def track_recording(
    recording: Path,
    out: Path,
    detector: DetectorFactory | None = None,
    progress: Callable[[float], None] | None = None,
) -> TrackSummary:
    """Write ``out``: ``recording`` with its track messages replaced by tracks from its video."""
    recording, out = Path(recording), Path(out)
    if recording.resolve() == out.resolve():
        raise RecordingError("write the tracked recording to another folder than its source")
    store = read_store(recording)
    manifest = read_manifest(recording)
    stage = CameraStage(store, detector, [c.id for c in manifest.cameras])
    tracks: list[dict[str, object]] = []
    for k, (t, frames) in enumerate(read_frames(recording, manifest)):
        tracks += stage.step(t, frames)
        if progress is not None and k % 50 == 0:
            progress(k / max(manifest.frames, 1))
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(recording / "store.json", out / "store.json")
    if (recording / "truth.json").is_file():
        shutil.copyfile(recording / "truth.json", out / "truth.json")
    for stale in ("events.jsonl", "events.jsonl.gz"):
        (out / stale).unlink(missing_ok=True)
    kept = _merge_events(events_path(recording), out / "events.jsonl", tracks)
    if progress is not None:
        progress(1.0)
    return TrackSummary(
        frames=manifest.frames,
        cameras=len(manifest.cameras),
        track_messages=len(tracks),
        track_ids=len({str(m["id"]) for m in tracks}),
        kept_messages=kept,
    )


def _merge_events(source: Path, dest: Path, tracks: list[dict[str, object]]) -> int:
    """Copy every non-track line of ``source`` in its order, with ``tracks`` slotted in by time."""
    opener = gzip.open if source.suffix == ".gz" else open
    kept = 0
    i = 0
    with opener(source, "rb") as src, dest.open("wb") as dst:
        for raw in src:
            if not raw.strip():
                continue
            try:
                msg = orjson.loads(raw)
            except orjson.JSONDecodeError:
                dst.write(raw.rstrip(b"\n") + b"\n")  # not ours to judge: replay reports it
                continue
            if isinstance(msg, dict) and msg.get("type") == "track":
                continue
            t = msg.get("t") if isinstance(msg, dict) else None
            if isinstance(t, int | float):
                while i < len(tracks) and float(tracks[i]["t"]) <= t:  # type: ignore[arg-type]
                    dst.write(orjson.dumps(tracks[i]) + b"\n")
                    i += 1
            dst.write(raw.rstrip(b"\n") + b"\n")
            kept += 1
        for msg in tracks[i:]:
            dst.write(orjson.dumps(msg) + b"\n")
    return kept
