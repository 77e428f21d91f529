"""Where people can walk: routes between points that keep out of the gondolas.

A generated store knows its aisles, so routes follow them; a user's own layout has no aisle
information, so people walk straight lines (valid recordings, less realistic paths).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Protocol

from walkout.recording.models import Gate, Plate, StoreLayout

Point = tuple[float, float]


class Floor(Protocol):
    """Walking geometry of a store."""

    def route(self, start: Point, end: Point) -> list[Point]:
        """Waypoints from ``start`` (excluded) to ``end`` (included)."""
        ...


@dataclass(frozen=True, slots=True)
class OpenFloor:
    """No known obstacles: straight lines (used for layouts given by the user)."""

    def route(self, start: Point, end: Point) -> list[Point]:
        return [end]


@dataclass(frozen=True, slots=True)
class AisleFloor:
    """Gondolas in a block between ``y_lo`` and ``y_hi`` with north-south aisles between them.

    Attributes:
        aisle_x: Centre line of each aisle (wall aisles included), west to east.
        aisle_edges: x extents of each aisle.
        y_lo: South end of the gondolas; the front cross aisle (with the gates) is below it.
        y_hi: North end of the gondolas; the back cross aisle is above it.
        y_front: Line people follow along the front cross aisle.
        y_back: Line people follow along the back cross aisle.
    """

    aisle_x: tuple[float, ...]
    aisle_edges: tuple[tuple[float, float], ...]
    y_lo: float
    y_hi: float
    y_front: float
    y_back: float

    def _where(self, p: Point) -> int | str:
        x, y = p
        if y < self.y_lo:
            return "front"
        if y > self.y_hi:
            return "back"
        best = min(
            range(len(self.aisle_x)),
            key=lambda i: max(self.aisle_edges[i][0] - x, x - self.aisle_edges[i][1], 0.0),
        )
        return best

    def route(self, start: Point, end: Point) -> list[Point]:
        a, b = self._where(start), self._where(end)
        if a == b:
            return [end]
        if isinstance(a, str) and isinstance(b, str):
            return self._best(
                [[(x, self._cross_y(a)), (x, self._cross_y(b))] for x in self.aisle_x], start, end
            )
        if isinstance(a, str):
            assert isinstance(b, int)
            return [(self.aisle_x[b], self._cross_y(a)), end]
        if isinstance(b, str):
            return [(self.aisle_x[a], self._cross_y(b)), end]
        options = [
            [(self.aisle_x[a], cy), (self.aisle_x[b], cy)] for cy in (self.y_front, self.y_back)
        ]
        return self._best(options, start, end)

    def _cross_y(self, area: str) -> float:
        return self.y_front if area == "front" else self.y_back

    @staticmethod
    def _best(options: list[list[Point]], start: Point, end: Point) -> list[Point]:
        def length(via: list[Point]) -> float:
            pts = [start, *via, end]
            return sum(math.dist(p, q) for p, q in itertools.pairwise(pts))

        return [*min(options, key=length), end]


def stand_point(plate: Plate, distance: float, along: float) -> Point:
    """Where a person stands to reach a plate: ``distance`` in front of its front edge."""
    fx, fy = plate.facing
    out = plate.size[1] / 2 + distance
    return (plate.center[0] + fx * out - fy * along, plate.center[1] + fy * out + fx * along)


def gate_inward(gate: Gate, store: StoreLayout) -> Point:
    """Unit vector from a gate into the store: towards the plates, snapped to an axis."""
    if not store.plates:
        return (0.0, 1.0)
    cx = sum(p.center[0] for p in store.plates) / len(store.plates) - gate.center[0]
    cy = sum(p.center[1] for p in store.plates) / len(store.plates) - gate.center[1]
    if abs(cy) >= abs(cx):
        return (0.0, 1.0 if cy >= 0 else -1.0)
    return (1.0 if cx >= 0 else -1.0, 0.0)
