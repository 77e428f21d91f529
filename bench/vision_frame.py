"""The picture in docs/vision.md: one camera frame with the detections and track ids drawn on it.

    python bench/vision_frame.py                         # busy seed 1, writes docs/vision-frame.png
    python bench/vision_frame.py --at 95 --out /tmp/frame.png

Runs the camera stage over a simulated recording's video up to time ``--at`` (or the moment the
chosen camera sees the most people), then draws on that camera's frame: the detector's people
(red circles) and hands (blue), and each track (its id, where the tracker puts it, projected
back into the camera at shoulder height).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vision_common import video_recording
from walkout.recording.files import read_store
from walkout.vision.detect import SHOULDER_Z_M
from walkout.vision.pipeline import CameraStage
from walkout.vision.video import read_frames, read_manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="busy")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--at", type=float, default=None, help="Store time of the frame.")
    parser.add_argument("--out", type=Path, default=Path("docs/vision-frame.png"))
    args = parser.parse_args()
    rec = video_recording(args.preset, args.seed, args.minutes)
    store = read_store(rec)
    manifest = read_manifest(rec)
    stage = CameraStage(store, camera_ids=[c.id for c in manifest.cameras])
    best: tuple[int, float, np.ndarray, int] | None = None  # (score, t, image, camera)
    for t, frames in read_frames(rec, manifest):
        found = [d.detect(f) for d, f in zip(stage.detectors, frames, strict=True)]
        tracked = stage.tracker.update(t, stage.fusion.fuse(found))
        if args.at is not None and t < args.at:
            continue
        k = int(np.argmax([len(f) + 0.5 * len(f.hands) for f in found]))
        score = len(found[k]) * 2 + len(found[k].hands)
        if best is None or score > best[0]:
            best = (score, t, _draw(frames[k], found[k], tracked, stage, k), k)
        if args.at is not None or (best[0] >= 7 and t > 30):
            break
    assert best is not None, "no frame"
    _, t, image, k = best
    cv2.putText(image, f"{manifest.cameras[k].id}  t={t:.1f}s", (8, 20),
                cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 2, cv2.LINE_AA)  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), image)
    print(f"wrote {args.out}: camera {manifest.cameras[k].id} at t={t:.1f} s")


def _draw(frame: np.ndarray, found, tracked, stage: CameraStage, k: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    img = frame.copy()
    cam = stage.cameras[k]
    for c, r in zip(found.centres, found.radii, strict=True):
        cv2.circle(img, (round(c[0]), round(c[1])), max(round(r), 4), (0, 0, 255), 2, cv2.LINE_AA)
    for h in found.hands:
        cv2.circle(img, (round(h[0]), round(h[1])), 6, (255, 80, 0), 2, cv2.LINE_AA)
    for person in tracked:
        uv = cam.project(np.array([[*person.xy, SHOULDER_Z_M]]))[0]
        if np.isnan(uv).any() or not cam.in_view(uv[None], 0)[0]:
            continue
        p = (round(uv[0]), round(uv[1]))
        cv2.drawMarker(img, p, (0, 255, 255), cv2.MARKER_CROSS, 14, 2)
        cv2.putText(img, person.id, (p[0] + 10, p[1] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (0, 0, 0), 3, cv2.LINE_AA)  # fmt: skip
        cv2.putText(img, person.id, (p[0] + 10, p[1] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (0, 255, 255), 1, cv2.LINE_AA)  # fmt: skip
        for h in person.hands:
            q = cam.project(np.array([h]))[0]
            if not np.isnan(q).any():
                cv2.drawMarker(img, (round(q[0]), round(q[1])), (255, 255, 0),
                               cv2.MARKER_TILTED_CROSS, 10, 2)  # fmt: skip
    return img


if __name__ == "__main__":
    main()
