"""Carts: the units each account holds, every change with its cause, and the receipt they make."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from walkout.engine.products import Unit
from walkout.engine.receipt import Receipt
from walkout.engine.store import StoreIndex


@dataclass(frozen=True, slots=True)
class PersonEvidence:
    """One candidate shopper for an event, with how near they were."""

    account: str | None
    pid: int
    hand_m: float
    body_m: float
    posterior: float


@dataclass(frozen=True, slots=True)
class ProductEvidence:
    """One candidate explanation of the weight, with its posterior."""

    description: str
    items: dict[str, int]
    expected_g: float
    posterior: float


@dataclass(frozen=True, slots=True)
class WeightEvent:
    """A settled change of one plate, or of two plates under a straddling product."""

    event_id: int
    shelf: str
    plates: tuple[str, ...]
    t_start: float
    t_step: float
    t_end: float
    delta_g: tuple[float, ...]

    @property
    def total_g(self) -> float:
        return sum(self.delta_g)


@dataclass(frozen=True, slots=True)
class CartChange:
    """Units added to (pick) or removed from (put-back) an account's cart, with the cause.

    ``parent_id`` links a put-back to the pick event whose unit came back, so every line of a
    receipt can be traced to the weight events behind it.
    """

    change_id: int
    parent_id: int | None
    account: str
    kind: str  # "pick" | "putback"
    items: dict[str, int]
    event: WeightEvent
    products: tuple[ProductEvidence, ...]
    people: tuple[PersonEvidence, ...]
    confidence: float


@dataclass(frozen=True, slots=True)
class StoreAlert:
    """Something staff should know that is on nobody's receipt (nobody near, unknown object)."""

    t: float
    kind: str
    message: str
    event: WeightEvent | None = None


@dataclass(frozen=True, slots=True)
class FinalReceipt:
    """An account's session is over: its receipt and the changes that made it."""

    receipt: Receipt
    changes: tuple[CartChange, ...]


@dataclass
class Cart:
    """One account's cart while its party is in the store."""

    account: str
    units: dict[int, tuple[Unit, int]] = field(default_factory=dict)  # uid -> (unit, change id)
    changes: list[CartChange] = field(default_factory=list)
    review_reasons: list[str] = field(default_factory=list)
    log_confidence: float = 0.0

    def add(self, units: tuple[Unit, ...], change: CartChange) -> None:
        for unit in units:
            self.units[unit.uid] = (unit, change.change_id)
        self._record(change)

    def remove(self, units: tuple[Unit, ...], change: CartChange) -> None:
        for unit in units:
            self.units.pop(unit.uid, None)
        self._record(change)

    def _record(self, change: CartChange) -> None:
        self.changes.append(change)
        self.log_confidence += math.log(max(change.confidence, 1e-9))

    def item_counts(self) -> dict[str, int]:
        """Units held per sku."""
        counts: dict[str, int] = {}
        for unit, _ in self.units.values():
            counts[unit.sku] = counts.get(unit.sku, 0) + 1
        return dict(sorted(counts.items()))

    def unit_list(self) -> list[Unit]:
        return [u for u, _ in sorted(self.units.values(), key=lambda x: x[0].uid)]

    def receipt(self, store: StoreIndex, extra_reasons: list[str]) -> Receipt:
        items: dict[str, int] = {}
        for unit, _ in self.units.values():
            items[unit.sku] = items.get(unit.sku, 0) + 1
        total = sum((store.products[s].price * n for s, n in items.items()), Decimal("0"))
        reasons = tuple(dict.fromkeys(self.review_reasons + extra_reasons))
        confidence = math.exp(self.log_confidence)
        if extra_reasons:
            confidence *= 0.5
        return Receipt(
            account=self.account,
            items=dict(sorted(items.items())),
            total=total,
            confidence=confidence,
            needs_review=bool(reasons),
            age_check_required=any(store.products[s].age_restricted for s in items),
            review_reasons=reasons,
        )
