"""From every camera's detections at one moment to people on the floor, each seen once.

Cameras overlap, so one person is usually detected two or more times. Each detection is a ray
from its camera; cut at shoulder height it gives a floor position. Detections of different
cameras closer than a body are one person (never two detections of one camera), and where two
or more cameras see one person their rays are triangulated, which cancels the error of
assuming everyone's shoulders are at one height.

Hands are rays too. Two cameras' hand rays that nearly meet give the hand in 3-D. A hand seen
by one camera only is placed where its ray enters a plate (store.json knows every plate's
height); a ray that enters none is a hand in the air, dropped, since the engine wants hands
only where they touch shelves. A hand seen by one camera over stacked plates is ambiguous: it
is put in the plate it is likeliest in (inside which plate's footprint its ray runs, and where
the body stands), and at the runner-up height too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.special import ndtr

from walkout.recording.models import StoreLayout
from walkout.vision.camera import PinholeCamera
from walkout.vision.detect import SHOULDER_Z_M, Detections

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FloorPerson:
    """One person found at one moment.

    Attributes:
        xy: Floor position (middle of the shoulders), metres.
        score: Confidence 0..1 (the best camera's).
        cameras: How many cameras saw the person.
        hands: (k, 3) hand points, k <= 2, metres.
        colour: Mean BGR of the clothes over the cameras that saw them (NaN when unknown).
        views: How many cameras have this spot in their frame (0 when not worked out).
        look: Appearance (``Detections.looks``) averaged over the cameras that measured it,
            which evens out each view's shading and partial sight; None when none did.
        whole: The best camera's score times how clear of its frame's edge the body is:
            low for a sliver of someone at the edge of the one camera that sees it there.
    """

    xy: FloatArray
    score: float
    cameras: int
    hands: FloatArray = field(default_factory=lambda: np.zeros((0, 3)))
    colour: FloatArray = field(default_factory=lambda: np.full(3, np.nan))
    views: int = 0
    look: FloatArray | None = None
    whole: float = 1.0


@dataclass(slots=True)
class _Seen:
    cam: int
    xy: FloatArray
    weight: float
    score: float
    origin: FloatArray
    ray: FloatArray
    hand_rays: list[FloatArray]
    colour: FloatArray
    look: FloatArray


def _key(members: list[_Seen]) -> tuple[tuple[int, float, float], ...]:
    """A cluster's identity: its detections (camera and floor point), for spotting no change."""
    return tuple(sorted((m.cam, float(m.xy[0]), float(m.xy[1])) for m in members))


def _centre(members: list[_Seen]) -> FloatArray:
    return np.average([m.xy for m in members], axis=0, weights=[m.weight for m in members])


def _spread(members: list[_Seen]) -> float:
    """Weighted sum of squared distances of a cluster's floor points from its middle."""
    c = _centre(members)
    return float(sum(m.weight * np.sum((m.xy - c) ** 2) for m in members))


def _swap_cameras(
    clusters: list[list[_Seen]], share: float, near_m: float = 1.0
) -> list[list[_Seen]]:
    """Swap one camera's detections between two people while that makes both tighter.

    Dealing each camera's detections to the nearest middles can stick in a crossed pairing:
    two people 0.44 m apart seen by two cameras, each cluster one person from the first
    camera and the other from the second (both within ``same_person_m`` of each other), so
    both middles lie between the two, and each detection is nearer its own crossed middle
    than the other (hard seed 5 at 113.3 s, stand gap 0.4 m). Swapping the second camera's
    two detections makes two tight clusters: their summed spread (the measure the dealing
    minimises) drops by 81 %. A swap is made when it removes at least ``share`` of the two
    clusters' spread: where two people pass 0.3-0.37 m apart, each camera's points scatter
    as much as that, neither pairing is clearly right, and swaps that removed 1-52 % moved
    the fused people for no receipt (busy seed 8, hard seeds 1, 2 and 5 with the gap; on
    hard seed 2 at 210.2 s the tracks of a walker and a stander then traded ids). Only
    clusters of two or more detections whose middles are within ``near_m`` are tried.
    """
    out = [list(ms) for ms in clusters]
    for _ in range(10):
        best: tuple[float, int, int, int, int] | None = None
        mid = [_centre(ms) for ms in out]
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                if len(out[i]) < 2 or len(out[j]) < 2:
                    continue  # a lone detection has no spread to weigh a swap against
                if np.linalg.norm(mid[i] - mid[j]) > near_m:
                    continue
                before = _spread(out[i]) + _spread(out[j])
                cams_j = {m.cam: k for k, m in enumerate(out[j])}
                for a, m in enumerate(out[i]):
                    b = cams_j.get(m.cam)
                    if b is None:
                        continue
                    ci = [*out[i][:a], out[j][b], *out[i][a + 1 :]]
                    cj = [*out[j][:b], m, *out[j][b + 1 :]]
                    gain = before - _spread(ci) - _spread(cj)
                    if gain >= share * before and gain > 1e-9 and (best is None or gain > best[0]):
                        best = (gain, i, j, a, b)
        if best is None:
            return out
        _, i, j, a, b = best
        out[i][a], out[j][b] = out[j][b], out[i][a]
    return out


def triangulate(origins: FloatArray, rays: FloatArray) -> tuple[FloatArray, float]:
    """Least-squares meeting point of rays (N >= 2) and the rms distance of the rays from it."""
    a = np.zeros((3, 3))
    b = np.zeros(3)
    projs = []
    for o, d in zip(origins, rays, strict=True):
        p = np.eye(3) - np.outer(d, d)
        projs.append((p, o))
        a += p
        b += p @ o
    x = np.linalg.lstsq(a, b, rcond=None)[0]
    res = [float(np.linalg.norm(p @ (x - o))) for p, o in projs]
    return x, float(np.sqrt(np.mean(np.square(res))))


class Fusion:
    """Merges detections of all cameras into people on the floor, one moment at a time."""

    def __init__(
        self,
        cameras: list[PinholeCamera],
        store: StoreLayout,
        same_person_m: float = 0.5,
        hand_meet_m: float = 0.15,
        max_reach_m: float = 1.0,
        edge_px: float = 12.0,
        min_reach_m: float = 0.4,
        arm_m: float = 0.6,
        stacked_both: bool = True,
        hand_nearer_m: float = 0.1,
        same_hand_m: float = 0.06,
        swap_cameras: float = 0.6,
        hand_rim_m: float = 0.045,
        tip_sd_m: float = 0.015,
        face_sd_m: float = 0.08,
        reach_sd_m: float = 0.15,
        aside: float = 0.5,
    ) -> None:
        """Args:
        cameras: The cameras, in the order detections will be given.
        store: Layout whose plates place hands seen by one camera.
        same_person_m: Detections of different cameras closer than this are one person;
            larger merges people who stand shoulder to shoulder, smaller splits one person in
            two where calibration or the height assumption is off.
        hand_meet_m: Two hand rays passing closer than this are one hand; smaller rejects
            more false pairs but also true ones whose tips were found a few pixels off.
        max_reach_m: A hand is never farther than this from its body on the floor.
        edge_px: Detections whose body touches the frame's edge count less (half a body seen).
        min_reach_m: Hands nearer the body than this (on the floor) hang at the sides: dropped.
        arm_m: Usual reach from the body to a hand in a plate, on the floor; picks among
            stacked plates for a hand one camera sees. 0 drops such hands instead.
        stacked_both: Report such a hand at the two likeliest heights, not one.
        hand_nearer_m: A fused hand this much nearer another fused body (on the floor) than
            its own is given to that body; 0 keeps each hand with the detection it came with.
            Smaller moves hands of two people reaching side by side into one plate.
        same_hand_m: Hand points of two bodies closer than this are one hand (two people's
            hands in one plate are a hand's width apart); it goes to the nearer body.
        swap_cameras: Where two people stand close, one camera's detections are swapped
            between two of them when that removes at least this share of the two clusters'
            spread (``_swap_cameras``); 0 never swaps.
        hand_rim_m, tip_sd_m, face_sd_m, reach_sd_m, aside: How a hand one camera sees over
            stacked plates is put at a height (``_stacked_odds``).
        """
        self.hand_rim_m, self.tip_sd_m = hand_rim_m, tip_sd_m
        self.face_sd_m, self.reach_sd_m = face_sd_m, reach_sd_m
        self.aside = aside
        self.swap_cameras = swap_cameras
        self.hand_nearer_m, self.same_hand_m = hand_nearer_m, same_hand_m
        self.min_reach_m = min_reach_m
        self.max_reach_m = max_reach_m
        self.arm_m, self.stacked_both = arm_m, stacked_both
        self.cameras = cameras
        self.same_person_m = same_person_m
        self.hand_meet_m = hand_meet_m
        self.edge_px = edge_px
        plates = store.plates
        self._pc = np.array([p.center for p in plates]).reshape(-1, 3)
        self._pf = np.array([p.facing for p in plates]).reshape(-1, 2)
        self._ps = np.array([p.size for p in plates]).reshape(-1, 2)

    def fuse(self, detections: list[Detections]) -> list[FloorPerson]:
        """People on the floor from one frame of every camera (same order as ``cameras``)."""
        seen = self._observations(detections)
        clusters: list[list[_Seen]] = []
        centres: list[FloatArray] = []
        for s in sorted(seen, key=lambda s: -s.weight):
            best, best_d = -1, self.same_person_m
            for i, members in enumerate(clusters):
                if any(m.cam == s.cam for m in members):
                    continue
                d = float(np.linalg.norm(centres[i] - s.xy))
                if d < best_d:
                    best, best_d = i, d
            if best < 0:
                clusters.append([s])
                centres.append(s.xy.copy())
            else:
                clusters[best].append(s)
                w = np.array([m.weight for m in clusters[best]])
                centres[best] = np.average([m.xy for m in clusters[best]], axis=0, weights=w)
        clusters, centres = self._refine(seen, clusters, centres)
        people = [self._person(members, c) for members, c in zip(clusters, centres, strict=True)]
        return self._nearest_hands(people)

    def _refine(
        self, seen: list[_Seen], clusters: list[list[_Seen]], centres: list[FloatArray]
    ) -> tuple[list[list[_Seen]], list[FloatArray]]:
        """Re-deal each camera's detections among the people found, where two stand close.

        Greedy clustering takes detections one by one, and its centres wander as they come:
        with two people 0.3 m apart, each seen by four cameras whose floor points scatter by
        0.1-0.2 m (height, parallax), a cluster takes one person's detection from one camera
        and the other's from the next, and both people come out in the middle, 0.15 m apart
        instead of 0.3 (the tracker then swaps them). Here each camera's detections are
        dealt to the centres by optimal assignment (one per person per camera), the centres
        recomputed, until nothing moves: a k-means that respects the cameras.
        """
        if len(centres) < 2:
            return clusters, centres
        pts = np.array(centres)
        gaps = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=2) + np.eye(len(pts)) * 9
        if gaps.min() >= 2 * self.same_person_m:
            return clusters, centres  # nobody close: the greedy clusters are right
        by_cam: dict[int, list[_Seen]] = {}
        for s in seen:
            by_cam.setdefault(s.cam, []).append(s)
        for _ in range(5):
            pts = np.array(centres)
            new: list[list[_Seen]] = [[] for _ in centres]
            extra: list[list[_Seen]] = []
            for dets in by_cam.values():
                xy = np.array([s.xy for s in dets])
                cost = np.linalg.norm(xy[:, None, :] - pts[None, :, :], axis=2)
                rows, cols = linear_sum_assignment(np.where(cost < self.same_person_m, cost, 1e6))
                got = set()
                for r, c in zip(rows, cols, strict=True):
                    if cost[r, c] < self.same_person_m:
                        new[c].append(dets[r])
                        got.add(int(r))
                extra += [[dets[r]] for r in range(len(dets)) if r not in got]
            new = [m for m in new if m] + extra
            if self.swap_cameras:
                new = _swap_cameras(new, self.swap_cameras, 2 * self.same_person_m)
            if sorted(map(_key, new)) == sorted(map(_key, clusters)):
                break
            clusters = new
            centres = [_centre(ms) for ms in clusters]
        return clusters, centres

    def _nearest_hands(self, people: list[FloorPerson]) -> list[FloorPerson]:
        """Each hand to the body it is clearly nearest on the floor, over all cameras.

        A camera gives an arm to the body nearest it in that camera's picture; with two people
        within half a metre that is often the neighbour (an arm rising between them, a body
        seen obliquely), and the hand then rides with the wrong person through fusion. On the
        floor, with every camera's bodies fused and triangulated, a hand more than
        ``hand_nearer_m`` nearer another body is that body's; and one hand reported on two
        bodies (points within ``same_hand_m``: two cameras gave it to different bodies) is
        the nearer body's only.
        """
        if len(people) < 2 or not self.hand_nearer_m:
            return people
        bodies = np.array([p.xy for p in people])
        points = [(i, h) for i, p in enumerate(people) for h in p.hands]
        given: list[list[FloatArray]] = [[] for _ in people]
        moved = False
        for i, h in points:
            d = np.linalg.norm(bodies - h[:2], axis=1)
            j = int(np.argmin(d))
            twin = any(k != i and np.linalg.norm(h - q) < self.same_hand_m for k, q in points)
            if j != i and (twin or d[i] - d[j] > self.hand_nearer_m):
                moved = True
            else:
                j = i
            if all(np.linalg.norm(h - q) > 0.12 for q in given[j]):
                given[j].append(h)
        if not moved:
            return people
        return [
            replace(p, hands=np.array(given[i][:2]).reshape(-1, 3)) for i, p in enumerate(people)
        ]

    def _observations(self, detections: list[Detections]) -> list[_Seen]:
        if len(detections) != len(self.cameras):
            raise ValueError(f"{len(detections)} detections for {len(self.cameras)} cameras")
        out: list[_Seen] = []
        for k, (cam, det) in enumerate(zip(self.cameras, detections, strict=True)):
            if not len(det):
                continue
            xy = cam.to_plane(det.centres, SHOULDER_Z_M)
            rays = cam.rays(det.centres)
            hand_rays = cam.rays(det.hands) if len(det.hands) else np.zeros((0, 3))
            u, v = det.centres[:, 0], det.centres[:, 1]
            border = np.minimum.reduce([u, v, cam.width - 1 - u, cam.height - 1 - v])
            edge = np.clip((border - det.radii) / self.edge_px, 0.1, 1.0)
            colours = det.colours if det.colours is not None else np.full((len(det), 3), np.nan)
            looks = det.looks if det.looks is not None else np.zeros((len(det), 0))
            for i in range(len(det)):
                if np.isnan(xy[i]).any():
                    continue
                mine = [hand_rays[j] for j in np.nonzero(det.hand_owner == i)[0]]
                out.append(
                    _Seen(
                        k, xy[i], float(det.scores[i] * edge[i]), float(det.scores[i]),
                        cam.C, rays[i], mine, colours[i], looks[i],
                    )
                )  # fmt: skip
        return out

    def _person(self, members: list[_Seen], centre: FloatArray) -> FloorPerson:
        xy = centre
        good = [m for m in members if m.weight >= 0.5]
        if len(good) >= 2:
            point, rms = triangulate(
                np.array([m.origin for m in good]), np.array([m.ray for m in good])
            )
            if rms < 0.1 and 1.1 < point[2] < 1.8:
                xy = point[:2]
        hands = self._hands(members, xy)
        known = [m.colour for m in members if not np.isnan(m.colour).any()]
        looks = [m.look for m in members if len(m.look) and np.isfinite(m.look).all()]
        dims = {len(v) for v in looks}
        return FloorPerson(
            xy=np.asarray(xy, dtype=float),
            score=max(m.score for m in members),
            cameras=len(members),
            hands=hands,
            colour=np.mean(known, axis=0) if known else np.full(3, np.nan),
            views=self._views(xy),
            look=np.mean(looks, axis=0) if looks and len(dims) == 1 else None,
            whole=max(m.weight for m in members),
        )

    def _views(self, xy: FloatArray) -> int:
        """Cameras whose frame holds a body at ``xy`` clear of the edges (could see it)."""
        point = np.array([[xy[0], xy[1], SHOULDER_Z_M]])
        return sum(bool(c.in_view(c.project(point), 2 * self.edge_px)[0]) for c in self.cameras)

    def _hands(self, members: list[_Seen], body: FloatArray) -> FloatArray:
        rays = [(m.cam, m.origin, r) for m in members for r in m.hand_rays]
        used = [False] * len(rays)
        points: list[tuple[FloatArray, int]] = []  # (point, rank: 2 two views, 1 one, 0 runner-up)
        for i in range(len(rays)):  # pairs of cameras whose hand rays meet
            for j in range(i + 1, len(rays)):
                if used[i] or used[j] or rays[i][0] == rays[j][0]:
                    continue
                o = np.array([rays[i][1], rays[j][1]])
                d = np.array([rays[i][2], rays[j][2]])
                p, rms = triangulate(o, d)
                near = np.linalg.norm(p[:2] - body) < self.max_reach_m
                if rms * 2 < self.hand_meet_m and 0.0 < p[2] < 1.7 and near:
                    points.append((p, 2))
                    used[i] = used[j] = True
        for i, (_, o, d) in enumerate(rays):
            if not used[i]:
                # each ray's likeliest height before any runner-up: two arms one camera sees
                # over stacked plates must not both be lost to one arm's two heights
                points += [
                    (p, 1 if k == 0 else 0) for k, p in enumerate(self._on_plate(o, d, body))
                ]
        merged: list[FloatArray] = []
        for p, _ in sorted(points, key=lambda pc: -pc[1]):  # two views, one, runner-ups
            if all(np.linalg.norm(p - q) > 0.12 for q in merged):
                merged.append(p)
        merged = [p for p in merged if np.linalg.norm(p[:2] - body) >= self.min_reach_m]
        return np.array(merged[:2]).reshape(-1, 3)

    def _on_plate(self, origin: FloatArray, ray: FloatArray, body: FloatArray) -> list[FloatArray]:
        """Where a hand ray enters a plate (just above its top): no point, one or two.

        Over stacked plates the ray crosses several footprints and one view cannot tell how
        high the hand is. The plate the hand is likeliest in (``_stacked_odds``) comes
        first; with ``stacked_both`` the runner-up at another
        height is reported too (the spec allows two hand points, and the shelf's weights say
        which plate moved), so that the shopper's claim on the right plate is not lost.
        """
        if not len(self._pc) or ray[2] >= -1e-6:
            return []
        z = self._pc[:, 2] + 0.08
        s = (z - origin[2]) / ray[2]
        pts = origin[None, :] + s[:, None] * ray[None, :]
        rel = pts[:, :2] - self._pc[:, :2]
        along = np.stack([-self._pf[:, 1], self._pf[:, 0]], axis=1)
        u = np.abs(np.sum(rel * along, axis=1)) / (self._ps[:, 0] / 2)
        v = np.abs(np.sum(rel * self._pf, axis=1)) / (self._ps[:, 1] / 2)
        inside = np.maximum(u, v)
        hits = np.nonzero(inside <= 1.0)[0]
        if not len(hits):
            return []
        if len(np.unique(self._pc[hits, 2])) == 1:
            return [pts[hits[np.argmin(inside[hits])]]]
        if not self.arm_m:
            return []  # stacked plates one view cannot tell apart
        score = self._stacked_odds(origin, ray, body, hits, pts)
        ranked = hits[np.argsort(-score, kind="stable")]
        best = ranked[0]
        other = [h for h in ranked[1:] if self._pc[h, 2] != self._pc[best, 2]]
        return [pts[best], pts[other[0]]] if self.stacked_both and other else [pts[best]]

    def _stacked_odds(
        self,
        origin: FloatArray,
        ray: FloatArray,
        body: FloatArray,
        hits: NDArray[np.int64],
        pts: FloatArray,
    ) -> FloatArray:
        """How likely the hand is in each of the stacked plates ``hits`` its ray enters.

        A hand taking something is inside a plate, a few centimetres over it and clear of its
        rim (``hand_rim_m``), anywhere over its area: so each plate gets the share of the ray,
        over the heights a hand in it takes (3-15 cm above), that lies over its inner
        footprint (edges softened by the tip's error), per square metre of that footprint.
        Where the ray crosses the middle of two levels this does not tell, and what people do
        does: they stand in front of what they reach for (within ``face_sd_m`` across the
        plate; a share ``aside`` of reaches come from anywhere within 0.7 m, as when a
        neighbour holds the spot), at their usual reach (``arm_m``, ``reach_sd_m``), and never
        into a plate from behind it. Hard seed 4 at 80 s: a ray entering the 0.4 m plate at its
        rim and the 0.9 m plate well inside is a hand in the 0.9 m plate, though the shopper
        stands in front of the other and it is nearer the usual reach.
        """
        c, f, size = self._pc[hits], self._pf[hits], self._ps[hits]
        along = np.stack([-f[:, 1], f[:, 0]], axis=1)
        zs = c[:, 2:3] + np.linspace(0.03, 0.15, 7)[None, :]  # (k, n) heights of a hand in it
        s = (zs - origin[2]) / ray[2]
        xy = origin[None, None, :2] + s[..., None] * ray[None, None, :2]  # (k, n, 2)
        rel = xy - c[:, None, :2]
        u = np.einsum("knd,kd->kn", rel, along)
        v = np.einsum("knd,kd->kn", rel, f)
        hu = np.maximum(size[:, 0] / 2 - self.hand_rim_m, 0.01)[:, None]
        hv = np.maximum(size[:, 1] / 2 - self.hand_rim_m, 0.01)[:, None]
        sd = self.tip_sd_m
        pu = ndtr((hu - u) / sd) - ndtr((-hu - u) / sd)
        pv = ndtr((hv - v) / sd) - ndtr((-hv - v) / sd)
        over = np.mean(pu * pv, axis=1) / (4 * hu[:, 0] * hv[:, 0])
        to_body = body[None, :] - c[:, :2]
        front = np.sum(to_body * f, axis=1) - size[:, 1] / 2 > 0
        side = np.abs(np.sum(to_body * along, axis=1)) / self.face_sd_m
        facing = (1 - self.aside) * np.exp(-0.5 * side**2) / self.face_sd_m + self.aside / 0.7
        reach = np.linalg.norm(pts[hits, :2] - body, axis=1) - self.arm_m
        return over * front * facing * np.exp(-0.5 * (reach / self.reach_sd_m) ** 2)
