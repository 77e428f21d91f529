"""What the ceiling cameras see: top-down frames of the floor, the shelves and the people.

Drawn with OpenCV primitives in each camera's true projection, so that the vision stage, which
knows only store.json's calibration, is measured against the simulator's truth:

- a tiled floor (dark outside the walls) and open shelves with products, fixed per camera and
  shaded towards the corners (vignetting);
- people from above: arms to the hands (a reaching arm stretches to the plate), an ellipse of
  shoulders in a shirt colour, a round head, nearer people drawn over farther ones;
- lighting that drifts slowly per camera, flickers now and then and sometimes steps to a new
  level (a lamp going off), plus sensor noise.

Shelves never hide people or hands (no depth buffer): an overhead view into an open shelf is
optimistic, and hands the simulator marks as occluded are simply not drawn.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from walkout.recording.models import Camera, StoreLayout
from walkout.sim.pose import Poses, poses
from walkout.sim.script import PersonPath
from walkout.vision.camera import PinholeCamera

Frame = NDArray[np.uint8]
TEXTURE_PX_PER_M = 80
ARM_M = 0.08
HEAD_M = 0.1

_SHIRTS = [
    (40, 40, 170), (170, 60, 40), (40, 130, 40), (30, 30, 30), (200, 200, 200), (120, 70, 150),
    (20, 120, 200), (160, 160, 60), (90, 90, 90), (60, 20, 100), (180, 120, 90), (50, 90, 140),
]  # fmt: skip
# BGR colours
_HAIR = [(20, 20, 25), (30, 45, 70), (60, 110, 160), (150, 150, 150), (15, 25, 40)]
_SKIN = [(120, 160, 210), (90, 130, 180), (60, 90, 130), (140, 180, 225)]


@dataclass(frozen=True, slots=True)
class _Look:
    shirt: tuple[int, int, int]
    hair: tuple[int, int, int]
    skin: tuple[int, int, int]
    head_z: float
    half_width: float


@dataclass(frozen=True, slots=True)
class _Light:
    phase: float
    period_s: float
    amplitude: float
    flickers: NDArray[np.float64]  # times of flickers
    steps: NDArray[np.float64]  # times the light level steps down or back


@dataclass(frozen=True, slots=True)
class SceneFrame:
    """One moment seen by every camera, with the truth behind it.

    Attributes:
        t: Store time.
        images: One BGR frame per camera, in the order of the scene's cameras.
        people: Index (into the scene's persons) of everyone in the store at ``t``.
        xy: (k, 2) their true floor positions.
        hands: (k, 2, 3) their true hands (hand 0 is the one that reaches).
        reaching: (k,) how far hand 0 is out towards a plate, 0..1.
    """

    t: float
    images: list[Frame]
    people: NDArray[np.int64]
    xy: NDArray[np.float64]
    hands: NDArray[np.float64]
    reaching: NDArray[np.float64]


class Scene:
    """Renders every camera's frames for a store and the people walking in it."""

    def __init__(
        self,
        store: StoreLayout,
        cameras: list[Camera],
        persons: list[PersonPath],
        seed: int = 0,
        floor: tuple[tuple[float, float], tuple[float, float]] | None = None,
        duration_s: float = 3600.0,
        noise_sd: float = 2.0,
        lighting: bool = True,
    ) -> None:
        """Args:
        store: Layout whose plates are drawn as shelves.
        cameras: Cameras to render (store.json's ``cameras``).
        persons: Everyone's path (the simulator's script).
        seed: Looks, lighting and noise are drawn from it (nothing else of a recording is).
        floor: ((x0, x1), (y0, y1)) inside the walls; the whole view when None.
        duration_s: Span over which lighting events are drawn.
        noise_sd: Sensor noise, grey levels.
        lighting: Drift, flicker and steps of the light; off gives constant light.
        """
        rng = np.random.default_rng([seed, 0x5CE7E])
        self.store, self.persons = store, persons
        self.cameras = [PinholeCamera(c) for c in cameras]
        self.fps = cameras[0].fps if cameras else 10.0
        self.floor = floor
        self.looks = [self._look(rng) for _ in persons]
        self.lights = [self._light(rng, duration_s, lighting) for _ in cameras]
        self.backgrounds = [self._background(cam, rng) for cam in self.cameras]
        h, w = (self.cameras[0].height, self.cameras[0].width) if cameras else (1, 1)
        bank = rng.normal(0.0, noise_sd, (4, h, w, 1)) if noise_sd > 0 else np.zeros((1, h, w, 1))
        self._noise_up = [np.clip(n, 0, 255).astype(np.uint8).repeat(3, 2) for n in bank]
        self._noise_down = [np.clip(-n, 0, 255).astype(np.uint8).repeat(3, 2) for n in bank]

    # --- fixed parts -------------------------------------------------------------------------

    @staticmethod
    def _look(rng: np.random.Generator) -> _Look:
        def pick(palette: list[tuple[int, int, int]]) -> tuple[int, int, int]:
            base = np.array(palette[int(rng.integers(len(palette)))], dtype=float)
            c = np.clip(base + rng.normal(0, 12, 3), 0, 255)
            return (int(c[0]), int(c[1]), int(c[2]))

        return _Look(
            pick(_SHIRTS),
            pick(_HAIR),
            pick(_SKIN),
            float(rng.uniform(1.6, 1.85)),
            float(rng.uniform(0.2, 0.25)),
        )

    @staticmethod
    def _light(rng: np.random.Generator, duration: float, on: bool) -> _Light:
        if not on:
            return _Light(0.0, 1.0, 0.0, np.zeros(0), np.zeros(0))
        flickers = np.sort(rng.uniform(0, duration, rng.poisson(duration / 40.0)))
        steps = np.sort(rng.uniform(0, duration, rng.poisson(duration / 300.0)))
        return _Light(
            float(rng.uniform(0, 2 * np.pi)),
            float(rng.uniform(60, 180)),
            float(rng.uniform(0.05, 0.15)),
            flickers,
            steps,
        )

    def _background(self, cam: PinholeCamera, rng: np.random.Generator) -> Frame:
        """Floor, walls' outside and shelves as one camera sees them with no one in the store."""
        # floor texture in floor coordinates, warped into the camera
        corners = cam.to_plane(
            np.array(
                [[0, 0], [cam.width - 1, 0], [0, cam.height - 1], [cam.width - 1, cam.height - 1]]
            ),
            0.0,
        )
        x0, y0 = np.floor(corners.min(axis=0)) - 0.5
        x1, y1 = np.ceil(corners.max(axis=0)) + 0.5
        s = TEXTURE_PX_PER_M
        tw, th = int((x1 - x0) * s), int((y1 - y0) * s)
        gx, gy = np.meshgrid((np.arange(tw) + 0.5) / s + x0, (np.arange(th) + 0.5) / s + y0)
        tile = ((np.floor(gx / 0.6) + np.floor(gy / 0.6)) % 2).astype(np.float32)
        tex = 175 + 12 * tile + rng.normal(0, 4, (th, tw)).astype(np.float32)
        grout = (np.abs(gx / 0.6 - np.round(gx / 0.6)) < 0.02) | (
            np.abs(gy / 0.6 - np.round(gy / 0.6)) < 0.02
        )
        tex[grout] -= 35
        if self.floor is not None:
            (fx0, fx1), (fy0, fy1) = self.floor
            outside = (gx < fx0) | (gx > fx1) | (gy < fy0) | (gy > fy1)
            tex[outside] = 85 + rng.normal(0, 3, int(outside.sum()))
        texture = np.stack([tex * 0.92, tex * 0.97, tex], axis=2).clip(0, 255).astype(np.uint8)
        to_tex = np.array([[s, 0, -x0 * s], [0, s, -y0 * s], [0, 0, 1.0]])
        warp = cam.plane_homography(0.0) @ np.linalg.inv(to_tex)
        img = cv2.warpPerspective(texture, warp, (cam.width, cam.height), flags=cv2.INTER_LINEAR)
        for plate in sorted(self.store.plates, key=lambda p: p.center[2]):
            self._draw_plate(img, cam, plate.center, plate.size, plate.facing, rng)
        yy, xx = np.mgrid[0 : cam.height, 0 : cam.width]
        r2 = ((xx - cam.width / 2) ** 2 + (yy - cam.height / 2) ** 2) / (cam.width / 2) ** 2
        shade = (1.0 - 0.18 * r2).clip(0.6, 1.0)[..., None]
        return (img * shade).astype(np.uint8)

    @staticmethod
    def _draw_plate(
        img: Frame,
        cam: PinholeCamera,
        center: tuple[float, float, float],
        size: tuple[float, float],
        facing: tuple[float, float],
        rng: np.random.Generator,
    ) -> None:
        f = np.array(facing)
        along = np.array([-f[1], f[0]])
        c = np.array(center[:2])
        w, d = size[0] / 2, size[1] / 2
        quad = [c + a * w * along + b * d * f for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        pts = cam.project(np.array([[*q, center[2]] for q in quad]))
        if np.isnan(pts).any():
            return
        level = int(150 + 60 * min(center[2], 1.6) / 1.6)
        cv2.fillPoly(img, [np.round(pts).astype(np.int32)], (level - 10, level, level + 5))
        cv2.polylines(img, [np.round(pts).astype(np.int32)], True, (60, 60, 60), 1)
        # a few products standing on the plate (their tops)
        for _ in range(3):
            a, b = rng.uniform(-0.8, 0.8), rng.uniform(-0.7, 0.7)
            p = c + a * w * along + b * d * f
            top = cam.project(np.array([[*p, center[2] + 0.12]]))[0]
            r = 0.05 * cam.spec.intrinsics[0] / max(cam.C[2] - center[2] - 0.12, 0.2)
            colour = tuple(int(v) for v in rng.integers(40, 230, 3))
            if not np.isnan(top).any():
                cv2.circle(img, (int(top[0]), int(top[1])), max(int(r), 1), colour, -1)

    # --- moving parts ------------------------------------------------------------------------

    def gain(self, k: int, t: float) -> float:
        """Light level of camera ``k`` at ``t`` (1 is the background's own level)."""
        light = self.lights[k]
        g = 1.0 + light.amplitude * math.sin(2 * math.pi * t / light.period_s + light.phase)
        if len(light.steps) and int(np.searchsorted(light.steps, t)) % 2 == 1:
            g *= 0.8  # a lamp is off until the next step
        if len(light.flickers):
            i = int(np.searchsorted(light.flickers, t))
            near = [light.flickers[j] for j in (i - 1, i) if 0 <= j < len(light.flickers)]
            if any(0 <= t - f < 0.25 for f in near):
                g *= 0.7
        return g

    def frame_times(self, t0: float, t1: float) -> NDArray[np.float64]:
        """Frame times in [t0, t1): every camera shoots at k / fps, all in step."""
        k0, k1 = math.ceil(t0 * self.fps - 1e-9), math.ceil(t1 * self.fps - 1e-9)
        return np.round(np.arange(k0, k1) / self.fps, 3)

    def frames(self, t0: float, t1: float) -> Iterator[SceneFrame]:
        """Every camera's frame at every frame time in [t0, t1), with the truth."""
        times = self.frame_times(t0, t1)
        if not len(times):
            return
        live = [i for i, p in enumerate(self.persons) if p.enter_t <= t1 and p.end_t >= t0]
        posed = {i: poses(self.persons[i], times) for i in live}
        for j, t in enumerate(times.tolist()):
            here = [i for i in live if posed[i].inside[j]]
            xy = np.array([posed[i].xy[j] for i in here]).reshape(-1, 2)
            hands = np.array([posed[i].hands[j] for i in here]).reshape(-1, 2, 3)
            reach = np.array([posed[i].reaching[j] for i in here])
            images = [
                self.render(k, t, [(i, posed[i], j) for i in here])
                for k in range(len(self.cameras))
            ]
            yield SceneFrame(t, images, np.array(here, dtype=np.int64), xy, hands, reach)

    def render(self, k: int, t: float, people: list[tuple[int, Poses, int]]) -> Frame:
        """Camera ``k``'s frame at ``t`` with ``people`` as (person index, poses, frame row)."""
        cam = self.cameras[k]
        img = self.backgrounds[k].copy()
        near = []
        for i, pose, j in people:
            look = self.looks[i]
            head = np.array([*pose.xy[j], look.head_z])
            dist = float(np.linalg.norm(head - cam.C))
            if np.linalg.norm(head[:2] - cam.C[:2]) < 6.0:
                near.append((dist, i, pose, j))
        for _, i, pose, j in sorted(near, key=lambda item: -item[0]):
            self._draw_person(img, cam, self.looks[i], pose, j)
        g = self.gain(k, t)
        if abs(g - 1.0) > 1e-3:
            img = cv2.convertScaleAbs(img, alpha=g)
        n = (k * 7 + round(t * self.fps)) % len(self._noise_up)
        cv2.add(img, self._noise_up[n], dst=img)
        cv2.subtract(img, self._noise_down[(n + 1) % len(self._noise_down)], dst=img)
        return img

    @staticmethod
    def _draw_person(img: Frame, cam: PinholeCamera, look: _Look, pose: Poses, j: int) -> None:
        xy, h = pose.xy[j], float(pose.heading[j])
        fwd = np.array([math.cos(h), math.sin(h)])
        side = np.array([-fwd[1], fwd[0]])
        sz = look.head_z - 0.3
        fx = cam.spec.intrinsics[0]
        # arms: shoulder to hand, drawn first so the shoulders cover their roots
        for hand in (0, 1):
            if hand == 0 and pose.hidden[j] and pose.reaching[j] > 0:
                continue
            sign = 1.0 if hand == 0 else -1.0
            root = np.array([*(xy + sign * (look.half_width - 0.04) * side), sz - 0.05])
            tip = pose.hands[j, hand]
            uv = cam.project(np.array([root, tip]))
            if np.isnan(uv).any():
                continue
            depth = max(float(cam.C[2] - tip[2]), 0.3)
            width = max(round(fx * ARM_M / depth), 1)
            a, b = np.round(uv).astype(int)
            cv2.line(img, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), look.shirt, width)
            cv2.circle(img, (int(b[0]), int(b[1])), max(width // 2 + 1, 1), look.skin, -1)
        # shoulders: an ellipse across the body
        ang = np.linspace(0, 2 * np.pi, 18, endpoint=False)
        ring = (
            xy + np.cos(ang)[:, None] * look.half_width * side + np.sin(ang)[:, None] * 0.13 * fwd
        )
        uv = cam.project(np.column_stack([ring, np.full(len(ring), sz)]))
        if not np.isnan(uv).any():
            cv2.fillPoly(img, [np.round(uv).astype(np.int32)], look.shirt)
        # head
        c = cam.project(np.array([[*(xy + 0.03 * fwd), look.head_z]]))[0]
        if not np.isnan(c).any():
            r = fx * HEAD_M / max(float(cam.C[2] - look.head_z), 0.3)
            cv2.circle(img, (round(c[0]), round(c[1])), max(round(r), 1), look.hair, -1)
