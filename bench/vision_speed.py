"""Speed of the camera stage on one core at 640x480: frames per second per camera.

    python bench/vision_speed.py                  # busy seed 1: its first 2 minutes of video
    python bench/vision_speed.py --preset hard --frames 600

Times, over every camera's frames of a simulated recording: decoding the video, the detector
(background subtraction, people and hands), and fusion + tracking (per frame time, shared by
all cameras). The target is four cameras at 10 frames per second on one core, in real time:
40 camera frames per second, 25 ms per camera frame for everything. Times are the process's CPU
time (one thread), so that other work on a shared machine does not inflate them.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vision_common import video_recording
from walkout.recording.files import read_store
from walkout.vision.pipeline import CameraStage
from walkout.vision.video import read_manifest, video_folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="busy")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=5.0, help="Recording length.")
    parser.add_argument("--frames", type=int, default=1200, help="Frame times to time.")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    rec = video_recording(args.preset, args.seed, args.minutes)
    store = read_store(rec)
    manifest = read_manifest(rec)
    stage = CameraStage(store, camera_ids=[c.id for c in manifest.cameras])
    caps = [cv2.VideoCapture(str(video_folder(rec) / c.file)) for c in manifest.cameras]
    decode = detect = track = 0.0
    frames = 0
    for k in range(min(args.frames, manifest.frames)):
        t0 = time.process_time()
        images = [cap.read()[1] for cap in caps]
        t1 = time.process_time()
        found = stage.detect(images)
        t2 = time.process_time()
        stage.track(manifest.t0 + k / manifest.fps, found)
        t3 = time.process_time()
        decode, detect, track = decode + t1 - t0, detect + t2 - t1, track + t3 - t2
        frames += len(images)
    w, h = store.cameras[0].resolution if store.cameras else (0, 0)
    per = (decode + detect + track) / frames
    times = frames // len(caps)
    print(f"{args.preset} seed {args.seed}: {times} frame times x {len(caps)} cameras at {w}x{h}")
    print(f"  decode video     {1000 * decode / frames:6.2f} ms per camera frame")
    print(f"  detect           {1000 * detect / frames:6.2f} ms per camera frame")
    print(f"  fuse + track     {1000 * track / frames:6.2f} ms per camera frame (shared)")
    print(f"  all              {1000 * per:6.2f} ms -> {1 / per:6.1f} camera frames/s on one core")
    print(f"  detector alone   {frames / detect:6.1f} frames/s per camera")
    print(f"  cameras at 10 fps in real time on one core: {1 / per / manifest.fps:.1f}")


if __name__ == "__main__":
    main()
