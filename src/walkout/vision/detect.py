"""Finding people and hands in one camera's frames.

``PersonDetector`` is the interface the rest of the stage uses: a frame in, ``Detections`` out,
in that camera's full-resolution pixels. ``BackgroundDetector`` needs no weights: a fixed
overhead camera sees an unchanging floor, so whatever differs from a learnt background (after
correcting the frame's overall brightness) is a person; the distance transform of that mask
peaks in the middle of each pair of shoulders, even when two people touch, and what sticks out
of a body far enough is an arm whose tip is the hand. ``OnnxDetector`` (in ``onnx.py``) plugs a
user's stronger model in behind the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from walkout.vision.camera import PinholeCamera

FloatArray = NDArray[np.float64]
Frame = NDArray[np.uint8]

SHOULDER_Z_M = 1.5
"""Height of the point a body's detection marks (the thickest part of head and shoulders seen
from above; measured on rendered video, people vary ±0.1 m)."""
HEAD_Z_M = 1.75

LOOK_CENTRE = np.array([45.0, 0.0, 0.0, 45.0, 0.0, 0.0])
LOOK_SCALE = np.array([30.0, 20.0, 20.0, 30.0, 20.0, 20.0])
"""A detection's look is (L, a, b) of its shirt then of its head (OpenCV's float CIE Lab: L
0..100, a and b about -100..100), less ``LOOK_CENTRE`` and over ``LOOK_SCALE``. Measured on
rendered scenes (12 people alone, 4 cameras): one camera's frame-to-frame sd is 6-9 Lab units
in every value and people spread by sd 10-27, so 20 makes each value's frame noise about 0.3-0.45
and people about 0.5-1.3 apart per value, alike across values as the engine's pooled noise
wants. Lightness gets 30: light steps, shading and shadows move it most of all."""


class FrameError(ValueError):
    """A frame that cannot be a picture from this camera (wrong size, type or empty)."""


def check_frame(frame: object, size: tuple[int, int] | None = None) -> Frame:
    """The frame as a (height, width, 3) uint8 array, or a ``FrameError`` that says why not.

    Args:
        frame: What the camera or the video decoder produced.
        size: Expected (width, height), or None to accept any size.
    """
    if frame is None:
        raise FrameError("no frame (None): the camera or video gave nothing")
    if not isinstance(frame, np.ndarray):
        raise FrameError(f"a frame must be a numpy array, got {type(frame).__name__}")
    if frame.size == 0:
        raise FrameError(f"empty frame of shape {frame.shape}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise FrameError(f"a frame must be (height, width, 3) BGR, got shape {frame.shape}")
    if frame.dtype != np.uint8:
        raise FrameError(f"a frame must be uint8, got {frame.dtype}")
    if size is not None and (frame.shape[1], frame.shape[0]) != tuple(size):
        raise FrameError(
            f"frame is {frame.shape[1]}x{frame.shape[0]}, this camera gives {size[0]}x{size[1]}"
        )
    return frame


@dataclass(frozen=True, slots=True)
class Detections:
    """People and hands found in one frame, in pixels of the full frame.

    Attributes:
        centres: (n, 2) middle of each person's shoulders, (u, v).
        scores: (n,) confidence 0..1.
        radii: (n,) half-width of the body in pixels (how much of the person was seen).
        hands: (m, 2) hand tips, (u, v).
        hand_owner: (m,) row of ``centres`` each hand belongs to.
        colours: (n, 3) mean BGR of each body's clothes at the background's light level, or
            NaN when the detector does not say (the tracker then goes by position alone).
        looks: (n, d) appearance of each person, comparable across cameras and people by
            Euclidean distance, d <= 64 (a re-identification model's output, or
            ``LOOK_SCALE``'s colours); a row with a NaN is unknown; d = 0 when none.
    """

    centres: FloatArray = field(default_factory=lambda: np.zeros((0, 2)))
    scores: FloatArray = field(default_factory=lambda: np.zeros(0))
    radii: FloatArray = field(default_factory=lambda: np.zeros(0))
    hands: FloatArray = field(default_factory=lambda: np.zeros((0, 2)))
    hand_owner: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    colours: FloatArray | None = None
    looks: FloatArray | None = None

    def __post_init__(self) -> None:
        n = len(self.centres)
        if self.looks is None:
            object.__setattr__(self, "looks", np.zeros((n, 0)))
        elif self.looks.ndim != 2 or len(self.looks) != n or self.looks.shape[1] > 64:
            raise ValueError(f"looks must be ({n}, d <= 64) like centres, got {self.looks.shape}")
        if self.colours is None:
            object.__setattr__(self, "colours", np.full((n, 3), np.nan))
        elif self.colours.shape != (n, 3):
            raise ValueError(f"colours must be ({n}, 3) like centres, got {self.colours.shape}")
        if self.centres.shape != (n, 2):
            raise ValueError(f"centres must be (n, 2), got {self.centres.shape}")
        for name in ("scores", "radii"):
            arr = getattr(self, name)
            if arr.shape != (n,):
                raise ValueError(f"{name} must be ({n},) like centres, got {arr.shape}")
        m = len(self.hands)
        if self.hands.shape != (m, 2):
            raise ValueError(f"hands must be (m, 2), got {self.hands.shape}")
        if self.hand_owner.shape != (m,):
            raise ValueError(f"hand_owner must be ({m},) like hands, got {self.hand_owner.shape}")
        if m and (self.hand_owner.min() < 0 or self.hand_owner.max() >= n):
            raise ValueError(f"hand_owner must index the {n} people, got {self.hand_owner}")

    def __len__(self) -> int:
        return len(self.centres)


class PersonDetector(Protocol):
    """Anything that finds people (and hands) in one camera's frames, in order."""

    def detect(self, frame: Frame) -> Detections:
        """People and hands in ``frame``; raises ``FrameError`` for a frame it cannot use."""
        ...


class BackgroundDetector:
    """People as what differs from the learnt empty floor; no model weights needed.

    Stateful: feed it one camera's frames in time order. The first frame (or ``background``)
    is taken as the empty store; the background then keeps learning slowly where nobody is.
    """

    def __init__(
        self,
        camera: PinholeCamera,
        background: Frame | None = None,
        downscale: int = 2,
        diff_threshold: float = 30.0,
        learning_rate: float = 0.05,
        person_learning_rate: float = 0.001,
        min_core_fraction: float = 0.55,
        arm_out_m: float = 0.12,
        same_body_m: float = 0.3,
        colour_margin: float = 30.0,
        sleeve_ratio: float = 0.6,
        sleeve_margin: float = 6.0,
    ) -> None:
        """Args:
        camera: The camera whose frames come in (its size and scale at shoulder height).
        background: A frame of the empty store; the first frame is used when None.
        downscale: Work on frames this many times smaller; 2 halves the cost four times over
            with people still 15+ pixels across, higher loses hands first.
        diff_threshold: Grey levels a pixel must differ from the background to be foreground;
            lower finds dull clothes on a dull floor but also noise and compression blocks.
        learning_rate: How fast the background follows changes where nobody is (per frame).
        person_learning_rate: The same under people: above 0, a bag left on the floor fades
            into the background; too high and people who stand still fade too.
        min_core_fraction: A body's core must be this share of the expected shoulder depth;
            lower finds people cut by the frame's edge, higher rejects arms and noise.
        arm_out_m: A hand must stick out this far beyond the body's outline to count.
        same_body_m: Two peaks closer than this on the floor are one person; larger splits
            fewer bodies but merges people who stand face to face.
        colour_margin: Where an arm region touches two bodies, a pixel goes to the body whose
            clothes it is this much nearer in colour (grey levels, BGR) than the other's;
            otherwise to the nearer body. Lower trusts noise and shading, higher falls back
            on distance, which gives an arm reaching past a neighbour's shoulder to them.
        sleeve_ratio: An arm whose pixels, each taken as sleeve over the floor behind it,
            fit another body's clothes at most this share as badly as its own body's (mean
            misfit, grey levels) is that body's, when that body is within an arm's reach of
            the hand. Higher moves arms on shading and mixed pixels, lower leaves an arm
            reaching past a neighbour with him when its hand ends nearer him; 0 never moves.
        sleeve_margin: ... and by at least this many grey levels (an arm fits its own
            clothes within 4-9, pixel noise).
        """
        self.colour_margin = colour_margin
        self.sleeve_ratio, self.sleeve_margin = sleeve_ratio, sleeve_margin
        self.same_body_m = same_body_m
        self.camera = camera
        self.size = (camera.width, camera.height)
        self.ds = downscale
        self.small = (camera.width // downscale, camera.height // downscale)
        self.diff_threshold = diff_threshold
        self.learning_rate = learning_rate
        self.person_learning_rate = person_learning_rate
        fx = camera.spec.intrinsics[0]
        depth = camera.C[2] - SHOULDER_Z_M
        self.core_px = fx * 0.13 / depth / downscale  # half the shoulders' front-to-back depth
        self.body_px = fx * 0.27 / depth / downscale  # half the shoulders' width, with margin
        self.min_core = min_core_fraction * self.core_px
        self.arm_px = fx * arm_out_m / depth / downscale
        self.head_px = fx * 0.15 / (camera.C[2] - HEAD_Z_M) / downscale  # head radius + margin
        self.bg: NDArray[np.float32] | None = None
        if background is not None:
            self.bg = self._shrink(check_frame(background, self.size)).astype(np.float32)
        k = max(3, int(2 * self.core_px) | 1)
        self._peak_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self.mask: NDArray[np.uint8] | None = None
        self._expected = np.zeros((0, 2))

    def expect(self, points: FloatArray) -> None:
        """Where tracked people stand now, in full-frame pixels (at shoulder height).

        The background does not learn there at all, so that someone who stands still for
        minutes does not fade into it; elsewhere what differs still fades slowly (a bag left
        on the floor). Optional: without it, people fade after about a minute.
        """
        self._expected = np.asarray(points, dtype=float).reshape(-1, 2)

    def _shrink(self, frame: Frame) -> Frame:
        if self.ds == 1:
            return frame
        out: Frame = cv2.resize(frame, self.small, interpolation=cv2.INTER_AREA)
        return out

    def detect(self, frame: Frame) -> Detections:
        """People and hands in the next frame of this camera."""
        small = self._shrink(check_frame(frame, self.size)).astype(np.float32)
        if self.bg is None:
            self.bg = small.copy()
            return Detections()
        gain = self._gain(small)
        norm = small / gain
        diff = np.max(np.abs(norm - self.bg), axis=2)
        mask = (diff > self.diff_threshold).astype(np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._open)
        # fill holes: a head or shirt the colour of the floor leaves a ring of shoulders
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(mask, contours, -1, 1, thickness=cv2.FILLED)
        held = self._held(mask.shape)
        cv2.accumulateWeighted(norm, self.bg, self.learning_rate, mask=(1 - mask) & (1 - held))
        if self.person_learning_rate > 0:
            cv2.accumulateWeighted(norm, self.bg, self.person_learning_rate, mask=mask & (1 - held))
        self.mask = mask
        return self._people(mask, norm)

    def _held(self, shape: tuple[int, ...]) -> NDArray[np.uint8]:
        """Where the background must not learn: around every expected person."""
        held = np.zeros(shape[:2], np.uint8)
        r = round(1.5 * self.body_px)
        for u, v in (self._expected + 0.5) / self.ds - 0.5:
            if np.isfinite(u) and np.isfinite(v):
                cv2.circle(held, (round(u), round(v)), r, 1, -1)
        return held

    def _gain(self, small: NDArray[np.float32]) -> float:
        """Overall brightness of the frame relative to the background (robust to people)."""
        assert self.bg is not None
        a = small[::4, ::4].sum(axis=2)
        b = self.bg[::4, ::4].sum(axis=2)
        ok = b > 30
        if not ok.any():
            return 1.0
        return float(np.median(a[ok] / b[ok]))

    def _people(self, mask: NDArray[np.uint8], norm: NDArray[np.float32]) -> Detections:
        if not mask.any():
            return Detections()
        dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
        peaks = (dist >= cv2.dilate(dist, self._peak_kernel)) & (dist >= self.min_core)
        n, _, _, cents = cv2.connectedComponentsWithStats(peaks.astype(np.uint8), connectivity=8)
        if n <= 1:
            return Detections()
        pts = cents[1:]
        depth = dist[np.round(pts[:, 1]).astype(int), np.round(pts[:, 0]).astype(int)]
        order = np.argsort(-depth)
        keep: list[int] = []
        for i in order:  # one peak per body: merge peaks closer than a body's half-width
            if all(np.hypot(*(pts[i] - pts[j])) > self.body_px * 0.9 for j in keep):
                keep.append(int(i))
        keep = self._drop_heads(pts, keep)
        centres = pts[keep]
        radii = depth[keep]
        if len(self._expected) >= 2:
            centres, radii = self._split(mask, dist, centres, radii)
        scores = np.clip(radii / self.core_px, 0.0, 1.0)
        colours = self._colours(mask, norm, centres)
        hands, owner = self._hands(mask, centres, norm, colours)
        return Detections(
            colours=colours,
            looks=self._looks(colours, self._head_colours(mask, norm, centres)),
            centres=(centres + 0.5) * self.ds - 0.5,
            scores=scores.astype(float),
            radii=radii.astype(float) * self.ds,
            hands=(hands + 0.5) * self.ds - 0.5,
            hand_owner=owner,
        )

    def _split(
        self, mask: NDArray[np.uint8], dist: NDArray[np.float32], centres: FloatArray,
        radii: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:  # fmt: skip
        """Blobs holding more tracked people than bodies found: cut by k-means on their pixels.

        Two people closer than a body width make one blob whose distance transform has one
        peak. When the tracks say k people walked into it and it is big enough for k bodies,
        its body pixels (arms left out) are clustered by ``cv2.kmeans`` starting from where
        each of them was, and each cluster's middle is a person.
        """
        _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        h, w = mask.shape
        exp = (self._expected + 0.5) / self.ds - 0.5
        exp = exp[(exp[:, 0] >= 0) & (exp[:, 0] <= w - 1) & (exp[:, 1] >= 0) & (exp[:, 1] <= h - 1)]
        if len(exp) < 2:
            return centres, radii
        exp_lab = labels[np.round(exp[:, 1]).astype(int), np.round(exp[:, 0]).astype(int)]
        cen_lab = labels[np.round(centres[:, 1]).astype(int), np.round(centres[:, 0]).astype(int)]
        body_area = np.pi * self.core_px * self.body_px  # the shoulders' ellipse, roughly
        core = dist >= 0.5 * self.core_px
        out_c, out_r = [centres], [radii]
        drop = np.zeros(len(centres), bool)
        for lab in np.unique(exp_lab[exp_lab > 0]):
            seeds = exp[exp_lab == lab]
            k = len(seeds)
            mine = cen_lab == lab
            if int(mine.sum()) >= k or stats[lab, cv2.CC_STAT_AREA] < 0.8 * k * body_area:
                continue
            ys, xs = np.nonzero((labels == lab) & core)
            if len(xs) < 4 * k:
                continue
            pix = np.column_stack([xs, ys]).astype(np.float32)
            near = np.argmin(np.linalg.norm(pix[:, None, :] - seeds[None, :, :], axis=2), axis=1)
            crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 0.5)
            _, lbl, cc = cv2.kmeans(
                pix, k, near.astype(np.int32).reshape(-1, 1), crit, 1,
                cv2.KMEANS_USE_INITIAL_LABELS,
            )  # fmt: skip
            counts = np.bincount(lbl.ravel(), minlength=k)
            if counts.min() < 0.2 * len(pix) / k:
                continue  # one of them is not really there
            floor = self.camera.to_plane((cc.astype(float) + 0.5) * self.ds - 0.5, SHOULDER_Z_M)
            gaps = np.linalg.norm(floor[:, None, :] - floor[None, :, :], axis=2)
            if (gaps + np.eye(k) * 9.0).min() < self.same_body_m:
                continue  # on top of each other: the tracks' own motion says more than a cut
            drop |= mine
            out_c.append(cc.astype(float))
            depth = float(radii[mine].max()) if mine.any() else self.core_px
            out_r.append(np.full(k, depth))
        if len(out_c) == 1:
            return centres, radii
        out_c[0], out_r[0] = centres[~drop], radii[~drop]
        return np.concatenate(out_c), np.concatenate(out_r)

    def _around(
        self, shape: tuple[int, ...], cx: float, cy: float
    ) -> tuple[slice, slice, NDArray[np.int64], NDArray[np.int64]]:
        """The square of a body's radius around a middle, cut to the frame: its rows and
        columns, and each pixel's y and x."""
        r = int(np.ceil(self.body_px))
        h, w = shape[:2]
        y0, y1 = max(int(cy) - r, 0), min(int(cy) + r + 1, h)
        x0, x1 = max(int(cx) - r, 0), min(int(cx) + r + 1, w)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        return slice(y0, y1), slice(x0, x1), yy, xx

    def _colours(
        self, mask: NDArray[np.uint8], norm: NDArray[np.float32], centres: FloatArray
    ) -> FloatArray:
        """Mean colour of each body's clothes: the foreground around the head, not on it."""
        out = np.full((len(centres), 3), np.nan)
        for i, (cx, cy) in enumerate(centres):
            rows, cols, yy, xx = self._around(mask.shape, cx, cy)
            d = np.hypot(xx - cx, yy - cy)
            sel = (mask[rows, cols] > 0) & (d > 0.85 * self.core_px) & (d <= self.body_px)
            if sel.sum() >= 4:
                out[i] = norm[rows, cols][sel].mean(axis=0)
        return out

    def _head_colours(
        self, mask: NDArray[np.uint8], norm: NDArray[np.float32], centres: FloatArray
    ) -> FloatArray:
        """Mean colour of each head's middle (hair, seen from above), NaN where not in view.

        The head is found where it would be at ``HEAD_Z_M`` above the body's floor point, as
        a camera off to the side sees it beside the shoulders, not on them."""
        out = np.full((len(centres), 3), np.nan)
        if not len(centres):
            return out
        full = (centres + 0.5) * self.ds - 0.5
        floor = self.camera.to_plane(full, SHOULDER_Z_M)
        heads = self.camera.project(np.column_stack([floor, np.full(len(floor), HEAD_Z_M)]))
        heads = (heads + 0.5) / self.ds - 0.5
        r = 0.4 * self.head_px  # well inside the head: people's heights vary +-0.1 m
        h, w = mask.shape
        for i, (cx, cy) in enumerate(heads):
            if np.isnan(cx) or np.isnan(cy):
                continue
            x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 2, w)
            y0, y1 = max(int(cy - r), 0), min(int(cy + r) + 2, h)
            if x0 >= x1 or y0 >= y1:
                continue
            yy, xx = np.mgrid[y0:y1, x0:x1]
            sel = (mask[y0:y1, x0:x1] > 0) & (np.hypot(xx - cx, yy - cy) <= r)
            if sel.sum() >= 3:
                out[i] = norm[y0:y1, x0:x1][sel].mean(axis=0)
        return out

    @staticmethod
    def _looks(shirts: FloatArray, heads: FloatArray) -> FloatArray:
        """Standardised Lab of shirt and head (``LOOK_SCALE``): NaN rows where either is unknown."""
        bgr = np.concatenate([shirts, heads]).reshape(-1, 1, 3)
        lab = cv2.cvtColor(np.clip(np.nan_to_num(bgr) / 255.0, 0, 1).astype(np.float32),
                           cv2.COLOR_BGR2Lab).reshape(-1, 3).astype(float)  # fmt: skip
        n = len(shirts)
        out = (np.hstack([lab[:n], lab[n:]]) - LOOK_CENTRE) / LOOK_SCALE
        out[np.isnan(shirts).any(axis=1) | np.isnan(heads).any(axis=1)] = np.nan
        return out

    def _drop_heads(self, pts: FloatArray, keep: list[int]) -> list[int]:
        """Drop peaks that are another peak's head (seen from the side, a head stands apart
        from its shoulders in the image, though right above them on the floor) or another
        part of the same body (a head the colour of the floor splits the shoulders)."""
        if len(keep) < 2:
            return keep
        full = (pts[keep] + 0.5) * self.ds - 0.5
        at_head = self.camera.to_plane(full, HEAD_Z_M)
        at_shoulders = self.camera.to_plane(full, SHOULDER_Z_M)
        d = np.linalg.norm(at_head[:, None, :] - at_shoulders[None, :, :], axis=2)
        np.fill_diagonal(d, np.inf)
        heads = {i for i in range(len(keep)) if np.nanmin(d[i]) < 0.15}
        # two peaks of one blob closer than two bodies can stand: one body cut in two
        apart = np.linalg.norm(at_shoulders[:, None, :] - at_shoulders[None, :, :], axis=2)
        for i in range(len(keep)):  # ``keep`` is deepest first: drop the shallower peak
            if i not in heads and any(
                j not in heads and apart[i, j] < self.same_body_m for j in range(i)
            ):
                heads.add(i)
        return [k for i, k in enumerate(keep) if i not in heads]

    def _hands(
        self, mask: NDArray[np.uint8], centres: FloatArray,
        norm: NDArray[np.float32] | None = None, colours: FloatArray | None = None,
    ) -> tuple[FloatArray, NDArray[np.int64]]:  # fmt: skip
        """Tips of what sticks out of the bodies: for each person at most two arms.

        What is left of the mask once every body's disk (and head) is taken out is cut into
        pieces, one per body it touches: two people within half a metre leave one piece
        holding both their arms (and the ends of their shoulders), whose single tip and single
        owner gave one of them the other's hand. Each pixel goes to the body it is coloured
        like, when the colours of the bodies it touches tell them apart (an arm is its
        sleeve's colour), else to the nearest body; each piece that touches its body and
        sticks out far enough is an arm.
        """
        bodies = np.zeros_like(mask)
        r = round(self.body_px)
        full = (centres + 0.5) * self.ds - 0.5
        floor = self.camera.to_plane(full, SHOULDER_Z_M)
        heads = self.camera.project(np.column_stack([floor, np.full(len(floor), HEAD_Z_M)]))
        heads = (heads + 0.5) / self.ds - 0.5
        for c, h in zip(centres, heads, strict=True):
            a = (round(c[0]), round(c[1]))
            cv2.circle(bodies, a, r, 1, -1)
            if not np.isnan(h).any():  # seen from the side the head sticks out: not an arm
                b = (round(h[0]), round(h[1]))
                cv2.line(bodies, a, b, 1, round(self.head_px * 2))
                cv2.circle(bodies, b, round(self.head_px), 1, -1)
        arms = mask & (1 - bodies)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(arms, connectivity=8)
        found: list[tuple[int, float, FloatArray]] = []
        min_area = max(4.0, 0.5 * self.arm_px)
        # colours for cutting a region two bodies share, blurred only once one is met (rare)
        smooth: NDArray[np.float32] | None = None
        shirts: FloatArray | None = None  # clothes without heads, for ``_by_sleeve``
        for lab in range(1, n):
            if stats[lab, cv2.CC_STAT_AREA] < min_area:
                continue
            ys, xs = np.nonzero(labels == lab)
            pix = np.stack([xs, ys], axis=1).astype(float)
            d = np.linalg.norm(pix[:, None, :] - centres[None, :, :], axis=2)
            touching = np.nonzero(d.min(axis=0) <= r + 2)[0]
            if len(touching) < 2:
                pieces = [(int(np.argmin(d.min(axis=0))), np.arange(len(pix)))]
            else:
                if smooth is None and norm is not None:
                    smooth = cv2.blur(norm, (3, 3))
                pieces = self._pieces(pix, d, touching, smooth, colours)
            for owner, sel in pieces:
                if len(sel) < min_area:
                    continue
                near = float(d[sel, owner].min())
                far = int(sel[np.argmax(d[sel, owner])])
                reach = float(d[far, owner])
                if near > r + 2 or reach < r + self.arm_px:
                    continue  # not attached to a body, or not sticking out far enough
                tip = pix[far]
                rivals = self._rivals(tip, owner, centres)
                if norm is not None and len(rivals):
                    if shirts is None:
                        shirts = self._shirts(mask, norm, centres, heads)
                    owner = self._by_sleeve(pix[sel], tip, owner, rivals, norm, shirts)
                    reach = float(d[far, owner])
                # the tip of the mask is the hand's far edge; step back to its middle
                back = centres[owner] - tip
                tip = tip + back / max(np.linalg.norm(back), 1e-6) * min(2.0, 0.3 * self.arm_px)
                found.append((owner, reach, tip))
        kept: list[tuple[int, float, FloatArray]] = []
        for person in range(len(centres)):
            mine = sorted((f for f in found if f[0] == person), key=lambda f: -f[1])
            kept += mine[:2]
        if not kept:
            return np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
        return np.array([k[2] for k in kept]), np.array([k[0] for k in kept], dtype=np.int64)

    def _shirts(
        self, mask: NDArray[np.uint8], norm: NDArray[np.float32], centres: FloatArray,
        heads: FloatArray,
    ) -> FloatArray:  # fmt: skip
        """Median colour of each body's shoulders, no head on them (NaN when too few).

        ``_colours``' ring around the middle takes in the heads of people standing close,
        seen from the side beside their shoulders (a neighbour's hair in a shirt's mean at
        0.4 m); here every head's disk is left out and the median taken."""
        out = np.full((len(centres), 3), np.nan)
        for i, (cx, cy) in enumerate(centres):
            rows, cols, yy, xx = self._around(mask.shape, cx, cy)
            sel = (mask[rows, cols] > 0) & (np.hypot(xx - cx, yy - cy) <= 0.8 * self.body_px)
            for hx, hy in heads:
                if np.isfinite(hx) and np.isfinite(hy):
                    sel &= np.hypot(xx - hx, yy - hy) > self.head_px
            if sel.sum() >= 6:
                out[i] = np.median(norm[rows, cols][sel], axis=0)
        return out

    def _rivals(self, tip: FloatArray, owner: int, centres: FloatArray) -> NDArray[np.int64]:
        """Bodies other than ``owner`` within an arm's reach of a hand tip: 0.9 m, and as much
        again for a hand below the shoulders seen off to the side (1.2 m at shoulder height)."""
        if not self.sleeve_ratio:
            return np.zeros(0, dtype=np.int64)
        near = np.linalg.norm(centres - tip, axis=1) <= 1.2 / 0.27 * self.body_px
        near[owner] = False
        return np.nonzero(near)[0]

    def _by_sleeve(
        self, arm: FloatArray, tip: FloatArray, owner: int, rivals: NDArray[np.int64],
        norm: NDArray[np.float32], shirts: FloatArray,
    ) -> int:  # fmt: skip
        """The body an arm grows out of, by its sleeve: ``owner`` unless a rival's fits.

        Two shoppers standing 0.4 m apart have their inner shoulders a few centimetres
        apart, so an arm that reaches out past the neighbour leaves the bodies where they
        meet and its line runs between their middles (busy seed 8 at 170.5 s: 13 and 15
        pixels from them); the piece it is cut into, and its tip, then go to the neighbour.
        What tells whose it is is the sleeve: an arm is its shirt's colour. At half
        resolution most arm pixels mix sleeve and the floor behind it, which the per-pixel
        cut of ``_pieces`` cannot read, so here each pixel is taken as a blend of a body's
        clothes (``shirts``) and the learnt background at that pixel, and the body whose
        blend fits the arm clearly best (``sleeve_ratio``, ``sleeve_margin``) is its owner.
        """
        if self.bg is None or np.isnan(shirts[owner]).any():
            return owner
        rivals = rivals[~np.isnan(shirts[rivals]).any(axis=1)]
        # the sleeve, not the hand: leave out the tip's skin
        arm = arm[np.linalg.norm(arm - tip, axis=1) > 0.08 / 0.27 * self.body_px]
        if not len(rivals) or len(arm) < 4:
            return owner
        xs, ys = arm[:, 0].astype(int), arm[:, 1].astype(int)
        px = norm[ys, xs].astype(float)
        floor = self.bg[ys, xs].astype(float)
        misfit = {}
        for j in [owner, *rivals.tolist()]:
            shirt = shirts[j] - floor  # (k, 3) from the floor to the clothes, per pixel
            a = ((px - floor) * shirt).sum(axis=1) / np.maximum((shirt * shirt).sum(axis=1), 1.0)
            a = np.clip(a, 0.0, 1.0)
            misfit[j] = float(np.linalg.norm(px - floor - a[:, None] * shirt, axis=1).mean())
        best = min(rivals.tolist(), key=misfit.__getitem__)
        fits = misfit[best] < self.sleeve_ratio * misfit[owner]
        return int(best) if fits and misfit[best] + self.sleeve_margin < misfit[owner] else owner

    def _pieces(
        self, pix: FloatArray, d: FloatArray, touching: NDArray[np.int64],
        smooth: NDArray[np.float32] | None, colours: FloatArray | None,
    ) -> list[tuple[int, NDArray[np.int64]]]:  # fmt: skip
        """Cut pixels of one arm region that touches several bodies into connected pieces,
        each with its body: by colour where the bodies' clothes differ, else the nearest."""
        own = touching[np.argmin(d[:, touching], axis=1)]
        if smooth is not None and colours is not None:
            cols = colours[touching]
            known = ~np.isnan(cols).any(axis=1)
            if known.sum() >= 2:
                px = smooth[pix[:, 1].astype(int), pix[:, 0].astype(int)].astype(float)
                cd = np.linalg.norm(px[:, None, :] - cols[None, known, :], axis=2)
                order = np.sort(cd, axis=1)
                clear = order[:, 1] - order[:, 0] > self.colour_margin
                own = np.where(clear, touching[known][np.argmin(cd, axis=1)], own)
        x0, y0 = pix.min(axis=0).astype(int)
        x1, y1 = pix.max(axis=0).astype(int)
        out: list[tuple[int, NDArray[np.int64]]] = []
        for body in touching:
            sel = np.nonzero(own == body)[0]
            if not len(sel):
                continue
            img = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
            img[pix[sel, 1].astype(int) - y0, pix[sel, 0].astype(int) - x0] = 1
            m, lab = cv2.connectedComponents(img, connectivity=8)
            part = lab[pix[sel, 1].astype(int) - y0, pix[sel, 0].astype(int) - x0]
            out += [(int(body), sel[part == k]) for k in range(1, m)]
        return out
