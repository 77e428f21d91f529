"""``walkout track``: registered on the main command line; heavy imports stay inside commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the vision commands to ``app``."""
    app.command("track")(track)


def track(
    recording: Annotated[
        Path, typer.Argument(help="Recording folder with camera video (simulate --video).")
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Recording folder to write; <recording>-tracked beside it when unset."),
    ] = None,
    onnx: Annotated[
        Path | None,
        typer.Option(help="Your own ONNX person detector instead of background subtraction."),
    ] = None,
) -> None:
    """Turn a recording's camera video into track messages: a new recording for replay/eval."""
    from walkout.cli import _fail, _progress, console
    from walkout.recording.files import RecordingError
    from walkout.vision.detect import FrameError
    from walkout.vision.pipeline import track_recording
    from walkout.vision.video import VideoError

    dest = out or recording.parent / f"{recording.name}-tracked"
    detector = None
    if onnx is not None:
        from walkout.vision.onnx import OnnxDetector

        def detector(camera):  # type: ignore[no-untyped-def]
            return OnnxDetector(camera, onnx)

    try:
        with _progress(f"tracking {recording.name}") as progress:
            summary = track_recording(recording, dest, detector=detector, progress=progress)
    except (RecordingError, VideoError, FrameError, RuntimeError, FileNotFoundError) as exc:
        _fail(str(exc))
    console.print(f"wrote {dest}: {summary}")
