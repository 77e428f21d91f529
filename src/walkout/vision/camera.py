"""Pinhole camera calibrated to the floor: world points to pixels and pixels back to the floor.

Overhead cameras see people at known heights (heads, shoulders) and hands at unknown ones, so
besides the usual projection this offers the inverse for any horizontal plane ``z = h``: the
pixel's ray cut by that plane. No lens distortion is modelled (the simulator renders none; a
real wide lens would first be undistorted with OpenCV's ``undistortPoints``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from walkout.recording.models import Camera

FloatArray = NDArray[np.float64]

# camera axes (rows) in world coordinates for a camera looking straight down, north at the top
_DOWN = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])


class PinholeCamera:
    """Projection between the store's floor coordinates (metres) and one camera's pixels."""

    def __init__(self, spec: Camera) -> None:
        self.spec = spec
        self.id = spec.id
        self.width, self.height = spec.resolution
        fx, fy, cx, cy = spec.intrinsics
        self.K = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
        self.K_inv = np.linalg.inv(self.K)
        yaw, pitch = math.radians(spec.yaw_deg), math.radians(spec.pitch_deg)
        c, s = math.cos(yaw), math.sin(yaw)
        rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        c, s = math.cos(pitch), math.sin(pitch)
        rx = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
        self.R = rx @ _DOWN @ rz.T  # world -> camera
        self.C = np.array(spec.position, dtype=float)

    def project(self, points: FloatArray) -> FloatArray:
        """Pixels (N, 2) of world points (N, 3); points behind the camera give NaN."""
        cam = (np.asarray(points, dtype=float).reshape(-1, 3) - self.C) @ self.R.T
        z = cam[:, 2]
        z = np.where(z > 1e-6, z, np.nan)
        fx, fy, cx, cy = self.spec.intrinsics
        return np.stack([fx * cam[:, 0] / z + cx, fy * cam[:, 1] / z + cy], axis=1)

    def rays(self, pixels: FloatArray) -> FloatArray:
        """Unit directions (N, 3) in world coordinates of the rays through ``pixels`` (N, 2)."""
        uv = np.asarray(pixels, dtype=float).reshape(-1, 2)
        homo = np.concatenate([uv, np.ones((len(uv), 1))], axis=1)
        d = (homo @ self.K_inv.T) @ self.R  # camera -> world is R.T, applied on the right
        norm: FloatArray = d / np.linalg.norm(d, axis=1, keepdims=True)
        return norm

    def to_plane(self, pixels: FloatArray, z: float | FloatArray) -> FloatArray:
        """Floor positions (N, 2) where the rays through ``pixels`` cross the plane at height z.

        Rays that never reach the plane (pointing up, or the plane above the camera) give NaN.
        """
        d = self.rays(pixels)
        zz = np.broadcast_to(np.asarray(z, dtype=float), (len(d),))
        dz = np.where(np.abs(d[:, 2]) > 1e-9, d[:, 2], np.nan)
        s = (zz - self.C[2]) / dz
        s = np.where(s > 0, s, np.nan)
        return self.C[:2] + s[:, None] * d[:, :2]

    def plane_homography(self, z: float = 0.0) -> FloatArray:
        """3x3 homography from floor (x, y) at height z to pixels (for ``cv2.warpPerspective``)."""
        t = -self.R @ self.C
        h = np.column_stack([self.R[:, 0], self.R[:, 1], self.R[:, 2] * z + t])
        out: FloatArray = self.K @ h
        return out / out[2, 2]

    def in_view(self, pixels: FloatArray, margin: float = 0.0) -> NDArray[np.bool_]:
        """Which pixels fall inside the frame, ``margin`` pixels from its edges."""
        uv = np.asarray(pixels, dtype=float).reshape(-1, 2)
        with np.errstate(invalid="ignore"):
            return (
                (uv[:, 0] >= margin)
                & (uv[:, 0] <= self.width - 1 - margin)
                & (uv[:, 1] >= margin)
                & (uv[:, 1] <= self.height - 1 - margin)
            )

    def metres_per_pixel(self, z: float) -> float:
        """Size of one pixel at the image centre on the plane at height z."""
        return (self.C[2] - z) / self.spec.intrinsics[0]


def ceiling_grid(
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    height_m: float = 3.2,
    resolution: tuple[int, int] = (640, 480),
    hfov_deg: float = 110.0,
    fps: float = 10.0,
    cover_z_m: float = 1.45,
    overlap: float = 0.8,
) -> list[Camera]:
    """A grid of downward cameras whose views overlap at shoulder height over a floor area.

    Args:
        x_range: Floor extent west-east to cover.
        y_range: Floor extent south-north to cover.
        height_m: Mounting height; higher sees more floor per camera but smaller people.
        resolution: Frame size in pixels.
        hfov_deg: Horizontal field of view; wide lenses need fewer cameras.
        fps: Frame rate.
        cover_z_m: Height at which neighbouring views must overlap (shoulders, by default).
        overlap: Spacing as a share of one view's footprint at ``cover_z_m``; lower means more
            cameras and more people seen twice (better fusion, more pixels to process).
    """
    w, h = resolution
    fx = (w / 2) / math.tan(math.radians(hfov_deg) / 2)
    foot_x = 2 * (height_m - cover_z_m) * (w / 2) / fx
    foot_y = 2 * (height_m - cover_z_m) * (h / 2) / fx
    nx = max(1, math.ceil((x_range[1] - x_range[0]) / (overlap * foot_x)))
    ny = max(1, math.ceil((y_range[1] - y_range[0]) / (overlap * foot_y)))
    xs = x_range[0] + (np.arange(nx) + 0.5) * (x_range[1] - x_range[0]) / nx
    ys = y_range[0] + (np.arange(ny) + 0.5) * (y_range[1] - y_range[0]) / ny
    return [
        Camera(
            id=f"cam-{j * nx + i + 1}",
            position=(round(float(x), 3), round(float(y), 3), height_m),
            intrinsics=(round(fx, 2), round(fx, 2), (w - 1) / 2, (h - 1) / 2),
            resolution=resolution,
            fps=fps,
        )
        for j, y in enumerate(ys)
        for i, x in enumerate(xs)
    ]
