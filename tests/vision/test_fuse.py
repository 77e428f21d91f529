"""Fusion across cameras: people standing close come out where they stand, one per body."""

from __future__ import annotations

import numpy as np

from walkout.recording.models import Plate
from walkout.vision.camera import PinholeCamera
from walkout.vision.detect import SHOULDER_Z_M, Detections
from walkout.vision.fuse import Fusion

from .scenes import tiny_store


def _detections(
    cam: PinholeCamera, floor: list[tuple[float, float]], scores: list[float]
) -> Detections:
    """A camera's detections whose body points land at ``floor`` (at shoulder height)."""
    xyz = np.array([[x, y, SHOULDER_Z_M] for x, y in floor])
    return Detections(
        centres=cam.project(xyz), scores=np.array(scores), radii=np.full(len(floor), 5.0)
    )


def test_two_people_close_together_are_fused_each_where_they_stand() -> None:
    """Two people 0.39 m apart, each seen by four cameras whose floor points scatter by up
    to 0.17 m (heights, parallax; the points of a frame of busy seed 9 at 28.9 s), some
    partly seen. Taking detections one by one, best first, a cluster took one person from
    one camera and the other from the next, and both came out in the middle, 0.24 m apart
    (0.12 in that frame): the tracker then swapped them."""
    store = tiny_store()
    cams = [PinholeCamera(c) for c in store.cameras or []]
    truth = np.array([[2.92, 2.29], [3.02, 2.67]])
    seen = [  # per camera: its floor points of the two people
        [(2.80, 2.21), (2.96, 2.54)],
        [(3.10, 2.60), (3.05, 2.18)],
        [(2.95, 2.68), (2.80, 2.41)],
        [(3.10, 2.70), (2.79, 2.17)],
    ]
    scores = [[1.0, 0.7], [0.9, 0.9], [1.0, 0.9], [0.8, 0.8]]  # the order they are taken in
    spot = np.array([[2.9, 2.4, SHOULDER_Z_M]])
    assert len(cams) == 4 and all(c.in_view(c.project(spot), 40)[0] for c in cams)
    fusion = Fusion(cams, store)
    dets = [_detections(c, p, s) for c, p, s in zip(cams, seen, scores, strict=True)]
    people = fusion.fuse(dets)
    assert len(people) == 2
    got = np.array([p.xy for p in people])
    err = np.linalg.norm(got[:, None, :] - truth[None, :, :], axis=2)
    assert err.min(axis=1).max() < 0.1, f"each fused person within 10 cm of someone: {got}"
    assert set(err.argmin(axis=1)) == {0, 1}, "one fused person for each"


def test_two_arms_one_camera_sees_over_stacked_plates_are_both_reported() -> None:
    """One camera sees a shopper reach into two plates of the upper of two stacked levels,
    one with each hand. From one view each hand could be on either level, so each ray gives
    its likeliest height and a runner-up; the first arm's runner-up used to take the second
    slot before the second arm's likeliest height (hard seed 3 at 214.2 s), and the second
    hand was lost. Each arm's likeliest height now comes before any runner-up."""
    base = tiny_store()
    assert base.cameras
    cam = base.cameras[0].model_copy(update={"position": (2.7, 3.3, 3.2)})
    plates = [
        Plate(id=f"S{lvl + 1}-P{i + 1}", shelf=f"S{lvl + 1}", center=(2.5 + 0.4 * i, 3.6, z),
              size=(0.38, 0.4), facing=(0.0, -1.0), skus=["111"])
        for lvl, z in enumerate((0.4, 0.9))
        for i in range(2)
    ]  # fmt: skip
    store = base.model_copy(update={"cameras": [cam], "plates": plates})
    pcam = PinholeCamera(cam)
    body = (2.7, 2.95)
    hands = np.array([[2.45, 3.5, 0.98], [2.95, 3.5, 0.98]])  # over the 0.9 m plates
    fusion = Fusion([pcam], store)
    for h in hands:  # each ray crosses both levels: one view cannot tell the height
        ray = pcam.rays(pcam.project(h[None, :]))[0]
        assert len(fusion._on_plate(pcam.C, ray, np.array(body))) == 2
    det = _detections(pcam, [body], [1.0])
    det = Detections(
        centres=det.centres, scores=det.scores, radii=det.radii,
        hands=pcam.project(hands), hand_owner=np.zeros(2, dtype=np.int64),
    )  # fmt: skip
    (person,) = fusion.fuse([det])
    assert len(person.hands) == 2
    err = np.linalg.norm(person.hands[:, None, :] - hands[None, :, :], axis=2)
    assert err.min(axis=0).max() < 0.05, f"both hands where they are: {person.hands}"


def test_a_hand_one_camera_sees_over_stacked_plates_goes_in_the_plate_it_is_inside() -> None:
    """Hard seed 4 at 80 s (stand gap 0.4 m): a shopper standing in front of a 0.4 m plate
    reaches diagonally into the 0.9 m plate beside and above it, and one camera sees the arm.
    Its ray enters the 0.4 m plate at its rim (93 % of the half-width out) and the 0.9 m one
    well inside, and a 1.4 m plate that faces the other aisle. The height that gave the arm its
    usual reach (0.6 m) put the hand at the rim of the plate below, where a neighbour's hidden
    reach then went on this shopper's receipt. A hand taking something is inside a plate, and
    nobody reaches into a plate from behind it: the 0.9 m plate comes first."""
    base = tiny_store()
    assert base.cameras
    cam = base.cameras[0].model_copy(update={"position": (4.5, 3.75, 3.2)})
    plates = [
        Plate(id=i, shelf=i[:5], center=c, size=s, facing=f, skus=["111"])
        for i, c, s, f in (
            ("G1-S1-P2", (3.64, 3.42, 0.4), (0.45, 0.4), (-1.0, 0.0)),
            ("G1-S2-P4", (3.64, 3.78, 0.9), (0.4, 0.4), (-1.0, 0.0)),
            ("G1-S6-P3", (4.08, 3.57, 1.4), (0.4, 0.4), (1.0, 0.0)),
        )
    ]
    store = base.model_copy(update={"cameras": [cam], "plates": plates})
    pcam = PinholeCamera(cam)
    body = np.array([2.97, 3.43])
    hand = np.array([3.77, 3.66, 0.98])
    ray = pcam.rays(pcam.project(hand[None, :]))[0]
    points = Fusion([pcam], store)._on_plate(pcam.C, ray, body)
    assert len(points) == 2, "one view cannot rule out the plate below: it stays the runner-up"
    assert np.linalg.norm(points[0] - hand) < 0.05, f"the hand in the 0.9 m plate first: {points}"
    assert abs(points[1][2] - 0.48) < 0.01, f"then just over the 0.4 m plate: {points}"


def test_two_people_seen_crossed_by_two_cameras_are_paired_each_with_themselves() -> None:
    """Two people stand 0.44 m apart, each seen by two cameras whose floor points of one
    person lie up to 0.29 m apart (the points of hard seed 5 at 113.3 s, stand gap 0.4 m).
    One camera's point of the first person is within half a metre of the other camera's
    point of the second, so the first cluster took both, and dealing each camera's points to
    the nearest middle stayed crossed: both people came out between the two, 0.2 m from
    each, and the tracks took each other's hands."""
    store = tiny_store()
    cams = [PinholeCamera(c) for c in store.cameras or []][:2]
    truth = np.array([[3.00, 3.40], [2.96, 3.84]])
    shift = np.array([0.0, -1.6])  # into the middle of the tiny store's views
    seen = [  # per camera: its floor points of the two people
        [(3.04, 3.39), (2.81, 3.86)],
        [(3.10, 3.83), (2.95, 3.38)],
    ]
    scores = [[1.0, 0.88], [1.0, 1.0]]
    spot = np.array([[3.0, 2.0, SHOULDER_Z_M]])
    assert all(c.in_view(c.project(spot), 40)[0] for c in cams)
    dets = [
        _detections(c, [tuple(np.array(q) + shift) for q in p], s)
        for c, p, s in zip(cams, seen, scores, strict=True)
    ]
    crossed = Fusion(cams, store, swap_cameras=0.0).fuse(dets)
    got = np.array([p.xy for p in crossed]) - shift
    err = np.linalg.norm(got[:, None, :] - truth[None, :, :], axis=2)
    assert err.min(axis=1).max() > 0.15, f"without the swap the scene is crossed: {got}"
    people = Fusion(cams, store).fuse(dets)
    assert len(people) == 2
    got = np.array([p.xy for p in people]) - shift
    err = np.linalg.norm(got[:, None, :] - truth[None, :, :], axis=2)
    assert err.min(axis=1).max() < 0.16, f"each fused person near someone: {got}"
    assert set(err.argmin(axis=1)) == {0, 1}, "one fused person for each"
