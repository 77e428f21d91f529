"""A recording's camera video: one compressed file per camera plus ``video/manifest.json``.

All cameras shoot in step: frame ``k`` of every file was taken at ``t0 + k / fps`` on the
store clock, so frames can be read in lockstep and fused without timestamps per frame.
``truth.npz`` (simulated recordings only, for evaluation) holds the true positions behind the
frames; the tracker never reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

VIDEO_DIR = "video"
MANIFEST = "manifest.json"
VIDEO_FORMAT = "walkout-video/1"
FOURCC = "mp4v"  # MPEG-4 part 2: in every opencv-python wheel, ~20x smaller than MJPG here


class VideoError(RuntimeError):
    """A recording's video is missing or unreadable."""


class CameraFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1, description="Camera id in store.json's ``cameras``.")
    file: str = Field(min_length=1, description="Video file, relative to the video folder.")


class VideoManifest(BaseModel):
    """``video/manifest.json``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    format: str = VIDEO_FORMAT
    fps: float = Field(gt=0)
    t0: float = Field(0.0, description="Store time of frame 0.")
    frames: int = Field(ge=0, description="Frames in every file.")
    cameras: list[CameraFile]
    truth: str | None = Field(None, description="True positions (simulated recordings only).")


def video_folder(recording: Path) -> Path:
    return Path(recording) / VIDEO_DIR


def read_manifest(recording: Path) -> VideoManifest:
    """The manifest of a recording's video, with a clear error when there is none."""
    path = video_folder(recording) / MANIFEST
    if not path.is_file():
        raise VideoError(
            f"{recording}: no {VIDEO_DIR}/{MANIFEST} (simulate with --video to make camera video)"
        )
    try:
        return VideoManifest.model_validate_json(path.read_bytes())
    except (ValidationError, OSError) as exc:
        raise VideoError(f"{path}: {exc}") from exc


def write_manifest(recording: Path, manifest: VideoManifest) -> None:
    path = video_folder(recording) / MANIFEST
    path.write_text(manifest.model_dump_json(indent=2, exclude_none=True) + "\n", "utf-8")


class VideoWriters:
    """One compressed video file per camera, written frame by frame in lockstep."""

    def __init__(self, folder: Path, ids: list[str], size: tuple[int, int], fps: float) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.files = [CameraFile(id=i, file=f"{i}.mp4") for i in ids]
        fourcc = cv2.VideoWriter.fourcc(*FOURCC)
        self._writers = [
            cv2.VideoWriter(str(folder / f.file), fourcc, fps, size) for f in self.files
        ]
        if not all(w.isOpened() for w in self._writers):
            raise VideoError(f"OpenCV cannot write {FOURCC} video into {folder}")
        self.frames = 0

    def write(self, images: list[NDArray[np.uint8]]) -> None:
        for writer, img in zip(self._writers, images, strict=True):
            writer.write(img)
        self.frames += 1

    def close(self) -> None:
        for writer in self._writers:
            writer.release()


def read_frames(
    recording: Path, manifest: VideoManifest | None = None
) -> Iterator[tuple[float, list[NDArray[np.uint8]]]]:
    """(t, one frame per camera in manifest order) for every frame time of a recording."""
    manifest = manifest or read_manifest(recording)
    folder = video_folder(recording)
    caps = []
    for f in manifest.cameras:
        path = folder / f.file
        cap = cv2.VideoCapture(str(path))
        if not path.is_file() or not cap.isOpened():
            raise VideoError(f"{path}: missing or not a video OpenCV can read")
        caps.append(cap)
    try:
        for k in range(manifest.frames):
            images = []
            for f, cap in zip(manifest.cameras, caps, strict=True):
                ok, img = cap.read()
                if not ok:
                    raise VideoError(f"{f.file}: ends at frame {k} of {manifest.frames}")
                images.append(img)
            yield round(manifest.t0 + k / manifest.fps, 3), images
    finally:
        for cap in caps:
            cap.release()
