"""The pinhole model: projection and its inverse agree, and store.json keeps cameras optional."""

from __future__ import annotations

import numpy as np
import pytest

from walkout.recording.models import Camera, StoreLayout
from walkout.vision.camera import PinholeCamera, ceiling_grid

from .scenes import tiny_store


@pytest.mark.parametrize(("yaw", "pitch"), [(0.0, 0.0), (30.0, 0.0), (-90.0, 15.0), (45.0, -20.0)])
def test_pixels_back_to_the_plane_they_came_from(yaw: float, pitch: float) -> None:
    cam = PinholeCamera(
        Camera(id="c", position=(2.0, 3.0, 3.2), yaw_deg=yaw, pitch_deg=pitch,
               intrinsics=(300.0, 300.0, 319.5, 239.5), resolution=(640, 480))
    )  # fmt: skip
    rng = np.random.default_rng(0)
    for z in (0.0, 1.0, 1.7):
        pts = np.column_stack([rng.uniform(1, 3, (20, 2)) + np.array([0.0, 1.0]), np.full(20, z)])
        uv = cam.project(pts)
        assert np.allclose(cam.to_plane(uv, z), pts[:, :2], atol=1e-9)
        h = cam.plane_homography(z) @ np.column_stack([pts[:, :2], np.ones(20)]).T
        assert np.allclose((h[:2] / h[2]).T, uv, atol=1e-6)


def test_straight_down_puts_north_at_the_top_and_east_to_the_right() -> None:
    cam = PinholeCamera(tiny_store().cameras[0])  # type: ignore[index]
    centre = cam.project(np.array([[*cam.C[:2], 0.0]]))[0]
    north = cam.project(np.array([[cam.C[0], cam.C[1] + 1, 0.0]]))[0]
    east = cam.project(np.array([[cam.C[0] + 1, cam.C[1], 0.0]]))[0]
    assert np.allclose(centre, [cam.spec.intrinsics[2], cam.spec.intrinsics[3]])
    assert north[1] < centre[1] and abs(north[0] - centre[0]) < 1e-9
    assert east[0] > centre[0] and abs(east[1] - centre[1]) < 1e-9


def test_grid_views_overlap_at_shoulder_height_over_the_whole_floor() -> None:
    cams = [PinholeCamera(c) for c in ceiling_grid((0, 12), (0, 8))]
    xs, ys = np.meshgrid(np.linspace(0, 12, 49), np.linspace(0, 8, 33))
    pts = np.column_stack([xs.ravel(), ys.ravel(), np.full(xs.size, 1.5)])
    seen = np.sum([c.in_view(c.project(pts)) for c in cams], axis=0)
    assert seen.min() >= 1
    assert np.mean(seen >= 2) > 0.3  # much of the floor is seen twice, for fusion


def test_store_without_cameras_still_loads_and_writes_none() -> None:
    store = tiny_store().model_copy(update={"cameras": None})
    again = StoreLayout.model_validate_json(store.model_dump_json(exclude_none=True))
    assert again.cameras is None
    assert "cameras" not in store.model_dump_json(exclude_none=True)


def test_cameras_round_trip_through_store_json() -> None:
    store = tiny_store()
    again = StoreLayout.model_validate_json(store.model_dump_json(exclude_none=True))
    assert again.cameras == store.cameras


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"intrinsics": (0.0, 300.0, 320.0, 240.0)}, "focal lengths must be positive"),
        ({"resolution": (640, 0)}, "resolution must be positive"),
    ],
)
def test_bad_camera_is_refused(change: dict[str, object], message: str) -> None:
    base = tiny_store().cameras[0].model_dump()  # type: ignore[index]
    with pytest.raises(ValueError, match=message):
        Camera.model_validate({**base, **change})
