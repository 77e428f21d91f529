"""A user's own ONNX person detector behind the ``PersonDetector`` interface.

The project ships no weights (no registry package has person-detector weights that load
offline with numpy 2), but a store with a trained overhead model can plug it in here without
touching fusion or tracking. ``onnxruntime`` is optional and imported only when one is made.

The default decoding expects the common post-NMS export: the model takes one RGB image as
float32 (1, 3, H, W) scaled 0..1, and its first output is (N, 5) or (1, N, 5) rows of
``[x0, y0, x1, y1, score]`` in input pixels; an optional second output (M, 3) of
``[u, v, person_row]`` gives hands. Other layouts pass their own ``decode``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from walkout.vision.camera import PinholeCamera
from walkout.vision.detect import Detections, Frame, check_frame

Decoder = Callable[[Sequence[np.ndarray], float, float], Detections]


class OnnxUnavailable(RuntimeError):
    """onnxruntime is not installed."""


def decode_boxes(outputs: Sequence[np.ndarray], sx: float, sy: float) -> Detections:
    """Default decoding: boxes + scores (and optional hands), scaled back to frame pixels."""
    boxes = np.asarray(outputs[0], dtype=float).reshape(-1, np.asarray(outputs[0]).shape[-1])
    if boxes.shape[1] < 5:
        raise ValueError(f"expected rows of [x0, y0, x1, y1, score], got shape {boxes.shape}")
    centres = np.column_stack(
        [(boxes[:, 0] + boxes[:, 2]) / 2 * sx, (boxes[:, 1] + boxes[:, 3]) / 2 * sy]
    )
    radii = np.minimum((boxes[:, 2] - boxes[:, 0]) * sx, (boxes[:, 3] - boxes[:, 1]) * sy) / 2
    hands = np.zeros((0, 2))
    owner = np.zeros(0, dtype=np.int64)
    if len(outputs) > 1:
        raw = np.asarray(outputs[1], dtype=float).reshape(-1, 3)
        keep = (raw[:, 2] >= 0) & (raw[:, 2] < len(boxes))
        hands = raw[keep, :2] * [sx, sy]
        owner = raw[keep, 2].astype(np.int64)
    return Detections(
        centres=centres.reshape(-1, 2),
        scores=np.clip(boxes[:, 4], 0.0, 1.0),
        radii=radii,
        hands=hands.reshape(-1, 2),
        hand_owner=owner,
    )


class OnnxDetector:
    """Runs an ONNX model on each frame; stateless, so frames may come in any order."""

    def __init__(
        self,
        camera: PinholeCamera,
        model: Path,
        input_size: tuple[int, int] = (640, 480),
        min_score: float = 0.4,
        decode: Decoder = decode_boxes,
        threads: int = 1,
    ) -> None:
        """Args:
        camera: Camera whose frames come in (their size is checked).
        model: Path to the .onnx file.
        input_size: (width, height) the model takes; frames are resized to it.
        min_score: Detections below this are dropped.
        decode: Turns the model's outputs into ``Detections`` in frame pixels, given the
            x and y scale from model input to frame.
        threads: CPU threads for onnxruntime (one per camera keeps cameras in parallel).
        """
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise OnnxUnavailable(
                "OnnxDetector needs onnxruntime: pip install onnxruntime "
                "(or use the default BackgroundDetector, which needs no model)"
            ) from exc
        if not Path(model).is_file():
            raise FileNotFoundError(f"{model}: no such ONNX model")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session: Any = ort.InferenceSession(
            str(model), opts, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        self.camera = camera
        self.size = (camera.width, camera.height)
        self.input_size = input_size
        self.min_score = min_score
        self.decode = decode

    def detect(self, frame: Frame) -> Detections:
        """People and hands in ``frame`` as the model sees them."""
        frame = check_frame(frame, self.size)
        img = cv2.resize(frame, self.input_size, interpolation=cv2.INTER_AREA)
        blob = cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32).transpose(2, 0, 1) / 255
        outputs = self.session.run(None, {self.input_name: blob[None]})
        sx = self.size[0] / self.input_size[0]
        sy = self.size[1] / self.input_size[1]
        found = self.decode(outputs, sx, sy)
        keep = np.nonzero(found.scores >= self.min_score)[0]
        if len(keep) == len(found):
            return found
        remap = -np.ones(len(found), dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        hand_keep = remap[found.hand_owner] >= 0
        return Detections(
            centres=found.centres[keep],
            scores=found.scores[keep],
            radii=found.radii[keep],
            hands=found.hands[hand_keep],
            hand_owner=remap[found.hand_owner[hand_keep]],
        )
