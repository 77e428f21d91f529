"""Where the simulated store's ceiling cameras go: a grid over the floor, written to store.json.

store.json does not record the floor's walls, so the floor is recovered from the gondolas and
gates: aisles are as wide at both ends (the generator spaces them so), the back aisle is at
least ``BACK_AISLE_M`` deep, and the gates are on the south wall at y = 0.
"""

from __future__ import annotations

from walkout.recording.models import Camera, StoreLayout
from walkout.vision.camera import ceiling_grid

BACK_AISLE_M = 1.6
CEILING_M = 3.2


def floor_bounds(
    store: StoreLayout, min_size: tuple[float, float] = (0.0, 0.0)
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(x_min, x_max), (y_min, y_max) of the shop floor, metres, at least ``min_size``."""
    xs = [p.center[0] - p.size[1] / 2 for p in store.plates]
    xe = [p.center[0] + p.size[1] / 2 for p in store.plates]
    ye = [p.center[1] + p.size[0] / 2 for p in store.plates]
    gates_x = [g.center[0] + g.width for g in store.gates]
    width = max([min(xs, default=0.0) + max(xe, default=0.0), *gates_x, min_size[0], 1.0])
    depth = max(
        max(ye, default=0.0) + BACK_AISLE_M,
        max(g.center[1] for g in store.gates) + 1.0,
        min_size[1],
    )
    return (0.0, round(width, 3)), (0.0, round(depth, 3))


def place_cameras(
    store: StoreLayout, min_size: tuple[float, float] = (0.0, 0.0), fps: float = 10.0
) -> list[Camera]:
    """A ceiling grid whose views overlap at shoulder height over the whole floor (gates too)."""
    (x0, x1), (y0, y1) = floor_bounds(store, min_size)
    return ceiling_grid((x0, x1), (y0 - 0.5, y1), height_m=CEILING_M, fps=fps)
