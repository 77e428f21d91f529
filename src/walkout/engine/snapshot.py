"""Read-only views of the engine's current picture of the store, for live screens."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PersonView:
    """A shopper inside the store as last seen by the cameras."""

    pid: int
    account: str | None
    pos: tuple[float, float]
    hands: tuple[tuple[float, float, float], ...]
    seen_t: float


@dataclass(frozen=True, slots=True)
class LooseUnit:
    """A unit put back on a plate (``misplaced`` when the plate's planogram lacks its sku)."""

    uid: int
    sku: str
    weight_g: float
    misplaced: bool


@dataclass(frozen=True, slots=True)
class PlateView:
    """What lies on one plate: planogram units (estimated), its settled load, loose units."""

    plate: str
    shelf: str
    counts: dict[str, float]
    level_g: float | None
    loose: tuple[LooseUnit, ...]

    @property
    def units(self) -> float:
        """Planogram units on the plate, all skus together."""
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    """The engine's picture of the store at store time ``t``."""

    t: float
    people: tuple[PersonView, ...]
    plates: tuple[PlateView, ...]
    carts: dict[str, dict[str, int]]  # open accounts -> sku -> units
