"""Small rendered scenes for the vision tests: a tiny store, four cameras, scripted people."""

from __future__ import annotations

import math

from walkout.recording.models import Gate, Plate, Product, StoreLayout
from walkout.sim.render import Scene
from walkout.sim.script import PersonPath, Reach
from walkout.vision.camera import ceiling_grid

FLOOR = ((0.0, 6.0), (0.0, 4.0))


def tiny_store() -> StoreLayout:
    """One shelf of two plates along the north wall, facing south, and two gates."""
    plates = [
        Plate(id=f"S1-P{i + 1}", shelf="S1", center=(2.5 + 0.4 * i, 3.6, 1.0), size=(0.38, 0.4),
              facing=(0.0, -1.0), skus=["111"])
        for i in range(2)
    ]  # fmt: skip
    store = StoreLayout(
        products=[Product(sku="111", name="can", price="1.00", weight_g=350.0)],
        plates=plates,
        gates=[
            Gate(id="in-1", kind="entry", center=(1.0, 0.0), width=0.9),
            Gate(id="out-1", kind="exit", center=(5.0, 0.0), width=0.9),
        ],
    )
    cams = ceiling_grid(FLOOR[0], FLOOR[1], height_m=3.2, overlap=0.8)
    return store.model_copy(update={"cameras": cams})


def walker(index: int, start: tuple[float, float], end: tuple[float, float], t0: float,
           speed: float = 1.2) -> PersonPath:  # fmt: skip
    """A person walking a straight line at ``speed`` from ``t0``."""
    heading = math.atan2(end[1] - start[1], end[0] - start[0])
    path = PersonPath(index, f"acct-{index + 1}", "in-1", t0, t0)
    path.at(t0, *start, heading)
    path.at(t0 + math.dist(start, end) / speed, *end, heading)
    return path


def crossing(delay_s: float = 0.4) -> list[PersonPath]:
    """Two people crossing diagonally; the second a little behind (0.4 s: 0.45 m at closest)."""
    return [
        walker(0, (1.0, 0.8), (5.0, 3.0), 0.6),
        walker(1, (1.0, 3.0), (5.0, 0.8), 0.6 + delay_s),
    ]


def reacher(store: StoreLayout) -> PersonPath:
    """A person who walks to the shelf, reaches into plate 0 from t=3 to 4 s, and stands."""
    plate = store.plates[0]
    stand = (plate.center[0], plate.center[1] - 0.6)
    path = walker(0, (plate.center[0], 1.0), stand, 0.5, speed=1.0)
    path.at(5.0, *stand, math.pi / 2)
    hand = (plate.center[0], plate.center[1] + 0.05, plate.center[2] + 0.08)
    path.reaches.append(Reach(0, 0, 3.0, 4.0, hand))
    return path


def scene(persons: list[PersonPath], store: StoreLayout | None = None, **kw: object) -> Scene:
    store = store or tiny_store()
    assert store.cameras
    return Scene(store, store.cameras, persons, seed=1, floor=FLOOR, duration_s=10, **kw)  # type: ignore[arg-type]


def _side_by_side(
    store: StoreLayout,
    stand_plate: int,
    reach_plate: int,
    gap_m: float,
    neighbour_from_x: float,
    neighbour_turns: tuple[float, ...],
) -> list[PersonPath]:
    """A reacher standing 0.6 m before ``stand_plate`` (walking up from the south) who reaches
    into ``reach_plate`` from 3.5 to 4.5 s, and a neighbour ``gap_m`` to their west who walks
    in along the shelf from ``neighbour_from_x`` and stands, facing it from ``neighbour_turns``
    on."""
    stand_at, reach_into = store.plates[stand_plate], store.plates[reach_plate]
    stand = (stand_at.center[0], stand_at.center[1] - 0.6)
    a = walker(0, (stand[0], 1.0), stand, 0.3, speed=1.0)
    a.at(6.0, *stand, math.pi / 2)
    hand = (reach_into.center[0], reach_into.center[1] + 0.05, reach_into.center[2] + 0.08)
    a.reaches.append(Reach(0, 0, 3.5, 4.5, hand))
    beside = (stand[0] - gap_m, stand[1])
    b = walker(1, (neighbour_from_x, stand[1]), beside, 0.3, speed=1.0)
    for t in neighbour_turns:
        b.at(t, *beside, math.pi / 2)
    return [a, b]


def reacher_with_neighbour(store: StoreLayout, gap_m: float = 0.3) -> list[PersonPath]:
    """Two people standing side by side ``gap_m`` apart in front of the shelf, facing it.

    The first walks up from the south and reaches into plate 0 from 3.5 to 4.5 s with the
    hand on the neighbour's side, so the arm rises between the two bodies; the neighbour
    walks in from the east and only stands there.
    """
    return _side_by_side(store, 0, 0, gap_m, 5.8, (6.0,))


def reach_past_neighbour(store: StoreLayout, gap_m: float = 0.4) -> list[PersonPath]:
    """Two people side by side ``gap_m`` apart in front of the shelf, facing it; the first
    reaches diagonally past the second into the plate in front of the second.

    The first stands before plate 1 and reaches into plate 0 from 3.5 to 4.5 s, so the hand
    ends nearer the neighbour's body than the reacher's and the arm runs along the
    neighbour's shoulder; the neighbour walks in from the west and only stands there, turned
    to the shelf before the reach.
    """
    return _side_by_side(store, 1, 0, gap_m, 0.3, (3.0, 6.0))
