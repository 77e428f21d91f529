"""The background detector: finds rendered people where they are, and refuses bad frames."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from walkout.vision.camera import PinholeCamera
from walkout.vision.detect import SHOULDER_Z_M, BackgroundDetector, Detections, FrameError
from walkout.vision.onnx import OnnxDetector, OnnxUnavailable, decode_boxes

from .scenes import crossing, reacher, scene, tiny_store, walker


def _detector() -> tuple[BackgroundDetector, PinholeCamera]:
    sc = scene([])
    cam = sc.cameras[0]
    return BackgroundDetector(cam, background=sc.render(0, 0.0, [])), cam


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (None, "no frame"),
        (np.zeros((0, 0, 3), np.uint8), "empty frame"),
        (np.zeros((240, 320, 3), np.uint8), "frame is 320x240, this camera gives 640x480"),
        (np.zeros((480, 640), np.uint8), r"\(height, width, 3\)"),
        (np.zeros((480, 640, 3), np.float32), "must be uint8"),
        ([[0, 0, 0]], "must be a numpy array"),
    ],
)
def test_bad_frame_is_refused_with_a_clear_error(frame: object, message: str) -> None:
    det, _ = _detector()
    with pytest.raises(FrameError, match=message):
        det.detect(frame)  # type: ignore[arg-type]


def test_detections_check_their_shapes() -> None:
    with pytest.raises(ValueError, match=r"scores must be \(2,\) like centres"):
        Detections(centres=np.zeros((2, 2)), scores=np.zeros(3), radii=np.zeros(2))
    with pytest.raises(ValueError, match="hand_owner must index"):
        Detections(
            centres=np.zeros((1, 2)), scores=np.ones(1), radii=np.ones(1),
            hands=np.zeros((1, 2)), hand_owner=np.array([3]),
        )  # fmt: skip


def test_empty_store_gives_no_one() -> None:
    sc = scene([])
    det = BackgroundDetector(sc.cameras[0])
    for t in np.arange(0, 3, 0.1):  # lighting drifts and flickers; nobody is there
        assert len(det.detect(sc.render(0, float(t), []))) == 0


def test_people_found_within_ten_centimetres() -> None:
    sc = scene(crossing())
    dets = [BackgroundDetector(c) for c in sc.cameras]
    errors = []
    for frame in sc.frames(0.0, 2.0):  # before they meet
        for cam, det, img in zip(sc.cameras, dets, frame.images, strict=True):
            found = det.detect(img)
            floor = cam.to_plane(found.centres, SHOULDER_Z_M).reshape(-1, 2)
            for xy in frame.xy:
                if cam.in_view(cam.project(np.array([[*xy, 1.5]])), 40)[0]:
                    errors.append(np.linalg.norm(floor - xy, axis=1).min(initial=9.0))
    assert len(errors) > 20
    assert np.mean(np.array(errors) < 0.3) > 0.95  # found
    assert np.median(errors) < 0.1
    assert np.percentile(errors, 90) < 0.2


def test_onnx_detector_without_onnxruntime_says_what_to_install(tmp_path: Path) -> None:
    if importlib.util.find_spec("onnxruntime") is not None:
        pytest.skip("onnxruntime is installed here")
    _, cam = _detector()
    with pytest.raises(OnnxUnavailable, match="pip install onnxruntime"):
        OnnxDetector(cam, tmp_path / "model.onnx")


def test_onnx_boxes_decode_to_frame_pixels() -> None:
    boxes = np.array([[[10, 20, 30, 60, 0.9], [100, 100, 120, 110, 0.2]]], dtype=np.float32)
    hands = np.array([[50, 40, 0], [5, 5, 7]], dtype=np.float32)  # the second has no owner
    found = decode_boxes([boxes, hands], 2.0, 1.0)
    assert np.allclose(found.centres, [[40, 40], [220, 105]])
    assert np.allclose(found.scores, [0.9, 0.2])
    assert np.allclose(found.hands, [[100, 40]]) and found.hand_owner.tolist() == [0]


def test_someone_standing_still_stays_out_of_the_background_when_expected() -> None:
    """The background learns slowly under people (a bag left behind fades); told where
    tracked people stand, it does not learn there, so a shopper standing still stays found."""
    store = tiny_store()
    sc = scene([reacher(store)], store)
    shot = next(iter(sc.frames(4.5, 4.6)))  # standing in front of the shelf
    k = 2
    cam = sc.cameras[k]
    where = cam.project(np.array([[*shot.xy[0], SHOULDER_Z_M]]))
    found = {}
    for told in (False, True):
        det = BackgroundDetector(cam, sc.render(k, 0.0, []), person_learning_rate=0.03)
        for _ in range(200):  # a fast-learning background: 200 frames stand for minutes
            if told:
                det.expect(where)
            last = det.detect(shot.images[k])
        found[told] = bool(len(last)) and np.linalg.norm(last.centres - where, axis=1).min() < 15
    assert found == {False: False, True: True}


def test_two_people_in_one_blob_are_split_when_the_tracks_say_two() -> None:
    """Shoulder to shoulder (0.3 m) one camera sees a single blob with a single peak; told
    that two tracked people walked into it, it cuts the blob in two, each near a person."""
    store = tiny_store()
    a = walker(0, (1.0, 2.0), (3.0, 2.0), 0.5)
    a.at(9.0, 3.0, 2.0, 0.0)
    b = walker(1, (5.0, 2.0), (3.3, 2.0), 0.5)
    b.at(9.0, 3.3, 2.0, math.pi)
    sc = scene([a, b], store)
    shot = next(iter(sc.frames(3.5, 3.6)))
    k = 3
    cam = sc.cameras[k]
    where = cam.project(np.column_stack([shot.xy, np.full(2, SHOULDER_Z_M)]))
    found = {}
    for told in (False, True):
        det = BackgroundDetector(cam, sc.render(k, 0.0, []))
        if told:
            det.expect(where)
        found[told] = cam.to_plane(det.detect(shot.images[k]).centres, SHOULDER_Z_M)
    assert len(found[False]) == 1, "the scene really makes one blob of them"
    assert len(found[True]) == 2
    off = np.linalg.norm(found[True][:, None, :] - shot.xy[None, :, :], axis=2)
    assert sorted(np.argmin(off, axis=1)) == [0, 1], "one part for each"
    assert off.min(axis=1).max() < 0.2  # one oblique view: fusion triangulates it further
