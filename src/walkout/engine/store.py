"""The store layout compiled into arrays and lookups that the engine's hot paths index directly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from walkout.recording.models import Gate, Product, StoreLayout

FloatArray = NDArray[np.float64]

STAND_OFF_M = 0.4
"""How far in front of a plate's front edge a shopper stands to reach into it."""


@dataclass(frozen=True, slots=True)
class ShelfIndex:
    """One shelf: its id and the store-wide indices of its plates, in weight-message order."""

    id: str
    plates: tuple[int, ...]


class StoreIndex:
    """Read-only, array-shaped view of a :class:`StoreLayout`."""

    def __init__(self, layout: StoreLayout) -> None:
        self.layout = layout
        self.products: dict[str, Product] = {p.sku: p for p in layout.products}
        self.plate_ids: list[str] = [p.id for p in layout.plates]
        self.plate_index: dict[str, int] = {pid: i for i, pid in enumerate(self.plate_ids)}
        self.center: FloatArray = np.array([p.center for p in layout.plates], dtype=float)
        self.size: FloatArray = np.array([p.size for p in layout.plates], dtype=float)
        facing = np.array([p.facing for p in layout.plates], dtype=float).reshape(-1, 2)
        norms = np.linalg.norm(facing, axis=1, keepdims=True)
        self.facing: FloatArray = np.divide(
            facing, norms, out=np.zeros_like(facing), where=norms > 0
        )
        self.noise_sd: FloatArray = np.array([p.noise_sd_g for p in layout.plates], dtype=float)
        self.planogram: list[tuple[str, ...]] = [tuple(p.skus) for p in layout.plates]
        self.stand_point: FloatArray = self.center[:, :2] + self.facing * (
            self.size[:, 1:2] / 2.0 + STAND_OFF_M
        )

        shelves: dict[str, list[int]] = {}
        for i, plate in enumerate(layout.plates):
            shelves.setdefault(plate.shelf, []).append(i)
        self.shelves: dict[str, ShelfIndex] = {
            sid: ShelfIndex(sid, tuple(ix)) for sid, ix in shelves.items()
        }
        self.shelf_of_plate: list[str] = [p.shelf for p in layout.plates]
        self.position_on_shelf: list[int] = [0] * len(layout.plates)
        for shelf in self.shelves.values():
            for pos, index in enumerate(shelf.plates):
                self.position_on_shelf[index] = pos

        # Neighbouring plates of one shelf that share a sku: a wide product straddles them.
        self.straddle: dict[tuple[int, int], tuple[str, ...]] = {}
        for shelf in self.shelves.values():
            for a, b in zip(shelf.plates, shelf.plates[1:], strict=False):
                shared = tuple(s for s in self.planogram[a] if s in self.planogram[b])
                if shared:
                    self.straddle[(a, b)] = shared

        self.entry_gates: dict[str, Gate] = {g.id: g for g in layout.gates if g.kind == "entry"}
        self.exit_gates: dict[str, Gate] = {g.id: g for g in layout.gates if g.kind == "exit"}
        self.lightest_g = min((p.weight_g for p in layout.products), default=100.0)

    def distance_to_plates(self, plates: list[int], points: FloatArray) -> FloatArray:
        """Distance from 3-D points (N, 3) to the volume just above each plate's top surface,
        as a (len(plates), N) array: all of a shelf's plates in one array operation.

        Hands reach into the space above the tray, so the box spans the plate's footprint and
        0-0.3 m above it. The footprint is taken axis-aligned along ``facing``.
        """
        c = self.center[plates]  # (P, 3)
        f = self.facing[plates]  # (P, 2)
        along = np.stack([-f[:, 1], f[:, 0]], axis=1)
        rel = points[None, :, :2] - c[:, None, :2]  # (P, N, 2)
        u = np.abs(rel[..., 0] * along[:, None, 0] + rel[..., 1] * along[:, None, 1])
        u = u - self.size[plates, 0][:, None] / 2.0
        v = np.abs(rel[..., 0] * f[:, None, 0] + rel[..., 1] * f[:, None, 1])
        v = v - self.size[plates, 1][:, None] / 2.0
        dz = points[None, :, 2] - c[:, None, 2]
        w = np.maximum(np.maximum(-dz, dz - 0.3), 0.0)
        d: FloatArray = np.sqrt(np.maximum(u, 0.0) ** 2 + np.maximum(v, 0.0) ** 2 + w**2)
        return d
