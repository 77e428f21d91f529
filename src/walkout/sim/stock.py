"""The physical units on the shelves, each with its own weight, so put-backs are exact.

A unit keeps the weight drawn for it once. A straddling unit (a wide product standing across two
neighbouring plates) splits its weight between the pair in its own proportion; it keeps that
split when it goes back onto the same pair, and weighs whole on any other plate.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from walkout.recording.models import StoreLayout
from walkout.sim.config import SimConfig


@dataclass(frozen=True, slots=True, eq=False)
class Unit:
    """One physical item.

    Attributes:
        uid: Unique number of the unit in the recording.
        sku: Its real product (what it is charged as, wherever it lies).
        weight_g: Its own weight.
        pair: The two plates it straddles when at home, else None.
        split: Share of its weight on ``pair[0]`` when it straddles.
    """

    uid: int
    sku: str
    weight_g: float
    pair: tuple[int, int] | None = None
    split: float = 1.0


def straddle_pairs(store: StoreLayout) -> dict[tuple[int, int], str]:
    """Neighbouring plates of one shelf that list the same sku: that sku stands across them."""
    pairs: dict[tuple[int, int], str] = {}
    for plates in _shelf_indices(store).values():
        used: set[int] = set()
        for a, b in itertools.pairwise(plates):
            if a in used:
                continue
            common = [s for s in store.plates[a].skus if s in store.plates[b].skus]
            if common:
                pairs[(a, b)] = common[0]
                used.update((a, b))
    return pairs


def _shelf_indices(store: StoreLayout) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, plate in enumerate(store.plates):
        out.setdefault(plate.shelf, []).append(i)
    return out


class Stock:
    """Where every unit is; moves return the load change of each plate touched."""

    def __init__(self, store: StoreLayout, cfg: SimConfig, rng: np.random.Generator) -> None:
        self.store = store
        self._on: list[list[Unit]] = [[] for _ in store.plates]
        self._where: dict[int, tuple[int, ...]] = {}
        self._next_uid = 0
        products = {p.sku: p for p in store.products}
        offset = {
            p.sku: float(rng.uniform(-cfg.weight_offset_frac, cfg.weight_offset_frac))
            for p in store.products
        }

        def draw(sku: str) -> float:
            prod = products[sku]
            mean = prod.weight_g * (1 + offset[sku])
            return round(max(float(rng.normal(mean, prod.weight_sd_g)), 0.5 * mean), 1)

        pairs = straddle_pairs(store)
        in_pair = {(p, sku) for (a, b), sku in pairs.items() for p in (a, b)}
        for (a, b), sku in pairs.items():
            for _ in range(int(rng.integers(*cfg.stock_per_sku_shared, endpoint=True))):
                split = round(float(rng.uniform(*cfg.straddle_split)), 3)
                self._add(Unit(self._uid(), sku, draw(sku), (a, b), split), (a, b))
        for i, plate in enumerate(store.plates):
            whole = [s for s in plate.skus if (i, s) not in in_pair]
            span = cfg.stock_per_plate if len(plate.skus) == 1 else cfg.stock_per_sku_shared
            for sku in whole:
                for _ in range(int(rng.integers(*span, endpoint=True))):
                    self._add(Unit(self._uid(), sku, draw(sku)), (i,))

    def _uid(self) -> int:
        self._next_uid += 1
        return self._next_uid

    def _add(self, unit: Unit, plates: tuple[int, ...]) -> None:
        self._where[unit.uid] = plates
        for p in plates:
            self._on[p].append(unit)

    def loads(self) -> list[float]:
        """Goods on each plate now, grams (straddlers counted by their split)."""
        out = [0.0] * len(self._on)
        for i, units in enumerate(self._on):
            for u in units:
                out[i] += self.share(u, i)
        return out

    def share(self, unit: Unit, plate: int) -> float:
        """How much of ``unit`` weighs on ``plate`` where it lies now."""
        if len(self._where.get(unit.uid, ())) == 2 and unit.pair is not None:
            frac = unit.split if plate == unit.pair[0] else 1 - unit.split
            return unit.weight_g * frac
        return unit.weight_g

    def units_on(self, plate: int) -> list[Unit]:
        """Units resting (wholly or partly) on a plate, oldest first."""
        return list(self._on[plate])

    def count(self, plate: int) -> int:
        return len(self._on[plate])

    def is_misplaced(self, unit: Unit, plate: int) -> bool:
        """A unit whose sku is not in the plate's planogram."""
        return unit.sku not in self.store.plates[plate].skus

    def misplaced_plates(self) -> list[int]:
        """Plates holding at least one unit that does not belong there."""
        return [
            i for i, units in enumerate(self._on) if any(self.is_misplaced(u, i) for u in units)
        ]

    def remove(self, unit: Unit) -> dict[int, float]:
        """Take a unit off the shelf; returns the load change per plate (negative)."""
        where = self._where[unit.uid]
        deltas = {i: -self.share(unit, i) for i in where}
        for i in where:
            self._on[i].remove(unit)
        del self._where[unit.uid]
        return deltas

    def place(self, unit: Unit, plate: int) -> dict[int, float]:
        """Put a unit on a plate (across its home pair if that is where it goes)."""
        plates = unit.pair if unit.pair is not None and plate in unit.pair else (plate,)
        self._add(unit, plates)
        return {i: self.share(unit, i) for i in plates}
