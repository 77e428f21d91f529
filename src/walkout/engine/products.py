"""Which products, and how many, explain a settled weight change: stock, unit weights, hypotheses.

Every plate holds its planogram products (units whose exact weight is unknown, spread around a
product mean that is learned from the picks seen, since real units run a few percent off their
listed weight) and possibly *loose* units: units put back on a plate not meant for them, whose
exact weight is known from when they were taken. A pick is explained by one or two unit types
times a count; a put-back by units from the cart of the person who made it, each restoring the
weight it took. What fits badly is left to the "unknown object" hypothesis, never forced.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

from walkout.engine.config import EngineConfig
from walkout.engine.store import StoreIndex

UNITS_PRIOR = {1: 0.75, 2: 0.15, 3: 0.07, 4: 0.03}
"""How often one reach takes k units, before the weight is seen."""

MIXED_PRIOR = 0.1
"""A reach taking two different products at once is rarer than one product."""

LOOSE_PRIOR = 0.3
"""Odds of a loose (misplaced) unit being taken, relative to a planogram product."""

MISPLACE_PRIOR = 0.25
"""Odds of a unit being put back on a plate that is not its own, against its own plate."""

UNKNOWN_DENSITY = 1.0 / 3000.0
"""Likelihood per gram of a change no product explains (flat over a few kilograms)."""


def normal_pdf(x: float, mean: float, sd: float) -> float:
    z = (x - mean) / sd
    return math.exp(-0.5 * z * z) / (sd * math.sqrt(2.0 * math.pi))


@dataclass(frozen=True, slots=True)
class Unit:
    """One physical unit whose weight has been measured (in a cart, or loose on a plate)."""

    uid: int
    sku: str
    weight_g: float
    weight_sd_g: float
    sku_confidence: float = 1.0  # below 1 when a put-back could have been another unit
    exists: float = 1.0  # below 1 for a unit that may lie here: an unsure put-back's rival


@dataclass(slots=True)
class PlateStock:
    """What lies on one plate."""

    counts: dict[str, float] = field(default_factory=dict)  # planogram skus, estimated units
    loose: dict[int, Unit] = field(default_factory=dict)  # misplaced units by uid


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """One way to explain a weight change.

    ``planogram`` maps sku to the count of planogram units; ``units`` lists known units (loose
    units taken, or cart units put back). ``unknown`` marks the catch-all explanation.
    """

    planogram: tuple[tuple[str, int], ...]
    units: tuple[Unit, ...]
    score: float
    expected_g: float
    unknown: bool = False

    def skus(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for sku, n in self.planogram:
            out[sku] = out.get(sku, 0) + n
        for unit in self.units:
            out[unit.sku] = out.get(unit.sku, 0) + 1
        return out

    def describe(self) -> str:
        if self.unknown:
            return "no product (unknown object or pressure)"
        parts = [f"{n} x {sku}" for sku, n in self.planogram]
        parts += [f"unit {u.uid} ({u.sku}, {u.weight_g:.0f} g)" for u in self.units]
        return " + ".join(parts)


class ProductModel:
    """Product mean weights (learned) and the stock of every plate."""

    def __init__(self, store: StoreIndex, config: EngineConfig) -> None:
        self.store = store
        self.config = config
        self.stock: list[PlateStock] = [
            PlateStock(counts={sku: 0.0 for sku in skus}) for skus in store.planogram
        ]
        self._sum: dict[str, float] = {}
        self._n: dict[str, int] = {}
        self._next_uid = 1
        self._initialised: set[int] = set()
        self._maybe: dict[int, int] = {}  # uid of a unit that may lie on a plate -> the plate

    # -- unit weights -----------------------------------------------------------------------

    def unit_sd(self, sku: str) -> float:
        return max(self.store.products[sku].weight_sd_g, 0.5)

    def mean_weight(self, sku: str) -> tuple[float, float]:
        """Posterior mean of a product's unit weight and its standard error."""
        product = self.store.products[sku]
        prior_sd = max(self.config.listed_weight_rel_sd * product.weight_g, 0.5)
        unit_sd = self.unit_sd(sku)
        n = self._n.get(sku, 0)
        precision = 1.0 / prior_sd**2 + n / unit_sd**2
        mean = (product.weight_g / prior_sd**2 + self._sum.get(sku, 0.0) / unit_sd**2) / precision
        return mean, math.sqrt(1.0 / precision)

    def learn(self, sku: str, unit_weight_g: float) -> None:
        """Fold in a confidently identified single unit's measured weight."""
        self._sum[sku] = self._sum.get(sku, 0.0) + unit_weight_g
        self._n[sku] = self._n.get(sku, 0) + 1

    def new_uid(self) -> int:
        uid = self._next_uid
        self._next_uid += 1
        return uid

    # -- stock ------------------------------------------------------------------------------

    def is_followed(self, plate: int) -> bool:
        """Is this plate's stock followed event by event (else only its load tells it)?"""
        return plate in self._initialised

    def counts_for_level(self, plate: int, level_g: float) -> dict[str, float]:
        """Planogram units a settled load suggests (equal numbers of each listed product)."""
        skus = self.store.planogram[plate]
        if not skus or not math.isfinite(level_g):
            return {sku: 0.0 for sku in skus}
        per_set = sum(self.store.products[s].weight_g for s in skus)
        n = round(max(level_g, 0.0) / per_set, 1)
        return {sku: n for sku in skus}

    def initialise_counts(self, plate: int, level_g: float) -> None:
        """Estimate a plate's starting stock from its first settled load (a prior only)."""
        if plate in self._initialised:
            return
        self._initialised.add(plate)
        if self.store.planogram[plate] and math.isfinite(level_g):
            self.stock[plate].counts.update(self.counts_for_level(plate, level_g))

    # -- hypotheses -------------------------------------------------------------------------

    def measure_sd(self, plates: tuple[int, ...], extra_sd_g: float = 0.0) -> float:
        """Error of a settled change summed over ``plates`` (``extra_sd_g``: more error, for a
        change read between the steps of one run of activity)."""
        return math.hypot(self._measure_sd(plates), extra_sd_g)

    def home_factor(self, plates: tuple[int, ...], units: tuple[Unit, ...]) -> float:
        """Prior odds of units being put back here: lower for each one not at home."""
        home = {s for p in plates for s in self.store.planogram[p]}
        factor = 1.0
        for unit in units:
            if unit.sku not in home:
                factor *= MISPLACE_PRIOR
        return factor

    def _measure_sd(self, plates: tuple[int, ...]) -> float:
        noise = sum(float(self.store.noise_sd[p]) ** 2 for p in plates)
        return math.sqrt(self.config.measure_sd_g**2 + noise)

    def pick_hypotheses(
        self,
        plates: tuple[int, ...],
        removed_g: float,
        deltas: tuple[float, ...] | None = None,
        extra_sd_g: float = 0.0,
    ) -> list[Hypothesis]:
        """Explanations of ``removed_g`` grams taken from neighbouring ``plates`` together.

        With several plates, a product is likelier the more of the weight came off the plates
        it belongs on (``deltas``, one per plate): a unit leaning onto the next plate still
        takes most of its weight from its own.
        """
        cfg = self.config
        meas_sd = self.measure_sd(plates, extra_sd_g)
        skus: list[str] = []
        for p in plates:
            skus.extend(s for s in self.store.planogram[p] if s not in skus)
        share = dict.fromkeys(skus, 1.0)
        if len(plates) > 1 and deltas is not None:
            total = sum(abs(d) for d in deltas) or 1.0
            for s in skus:
                on = sum(
                    abs(d)
                    for p, d in zip(plates, deltas, strict=True)
                    if s in self.store.planogram[p]
                )
                share[s] = max(on / total, 0.05)
        loose = [u for p in plates for u in self.stock[p].loose.values()]
        types: list[tuple[str, Unit | None]] = [(s, None) for s in skus]
        types += [(u.sku, u) for u in loose]
        out: list[Hypothesis] = []
        max_k = cfg.max_units_per_reach
        for i, (sku_a, unit_a) in enumerate(types):
            w_a = share.get(sku_a, 1.0) if unit_a is None else 1.0
            for k_a in range(1, (1 if unit_a else max_k) + 1):
                out.append(self._pick(((sku_a, unit_a, k_a),), removed_g, meas_sd, w_a))
                for sku_b, unit_b in types[i + 1 :]:
                    w_b = share.get(sku_b, 1.0) if unit_b is None else 1.0
                    for k_b in range(1, (1 if unit_b else max_k - k_a) + 1):
                        if k_a + k_b > max_k:
                            break
                        parts = ((sku_a, unit_a, k_a), (sku_b, unit_b, k_b))
                        out.append(self._pick(parts, removed_g, meas_sd, w_a * w_b))
        out.append(self.unknown())
        return _ranked(out)

    def _pick(
        self,
        parts: tuple[tuple[str, Unit | None, int], ...],
        removed_g: float,
        meas_sd: float,
        weight: float = 1.0,
    ) -> Hypothesis:
        mean = 0.0
        var = meas_sd**2
        prior = weight * UNITS_PRIOR.get(sum(k for _, _, k in parts), 0.01)
        if len(parts) > 1:
            prior *= MIXED_PRIOR
        planogram: list[tuple[str, int]] = []
        units: list[Unit] = []
        for sku, unit, k in parts:
            if unit is not None:
                mean += unit.weight_g
                var += unit.weight_sd_g**2
                # a rival of a put-back, if there, was set down last, on top where the next
                # hand goes: as likely taken as a unit of the plate's own products
                prior *= LOOSE_PRIOR if unit.exists >= 1.0 else unit.exists
                units.append(unit)
            else:
                mu, se = self.mean_weight(sku)
                mean += k * mu
                var += k * self.unit_sd(sku) ** 2 + (k * se) ** 2
                planogram.append((sku, k))
        score = prior * normal_pdf(removed_g, mean, math.sqrt(var))
        return Hypothesis(tuple(planogram), tuple(units), score, mean)

    def putback_hypotheses(
        self, plates: tuple[int, ...], added_g: float, cart: list[Unit], extra_sd_g: float = 0.0
    ) -> list[Hypothesis]:
        """Explanations of ``added_g`` grams put on ``plates`` from the units in one cart."""
        meas_sd = self.measure_sd(plates, extra_sd_g)
        out: list[Hypothesis] = []
        for n in (1, 2, 3):
            for combo in itertools.combinations(cart, n):
                mean = sum(u.weight_g for u in combo)
                sd = math.sqrt(meas_sd**2 + sum(u.weight_sd_g**2 for u in combo))
                score = UNITS_PRIOR[n] * normal_pdf(added_g, mean, sd)
                score *= self.home_factor(plates, combo)
                out.append(Hypothesis((), tuple(combo), score, mean))
            if len(cart) > 8:
                break  # a big cart: pairs and triples of units would swamp the search
        return out

    def unknown(self) -> Hypothesis:
        """The catch-all: a change no product explains (a bag, a hand), picked or put."""
        return Hypothesis(
            (), (), self.config.unknown_object_prior * UNKNOWN_DENSITY, 0.0, unknown=True
        )

    # -- applying decisions ----------------------------------------------------------------

    def take(self, plates: tuple[int, ...], hyp: Hypothesis) -> None:
        for sku, k in hyp.planogram:
            for p in plates:
                if sku in self.stock[p].counts:
                    self.stock[p].counts[sku] = max(0.0, self.stock[p].counts[sku] - k)
        for unit in hyp.units:
            self._maybe.pop(unit.uid, None)
            for p in plates:
                self.stock[p].loose.pop(unit.uid, None)

    def put(self, plates: tuple[int, ...], units: tuple[Unit, ...], sure: float = 1.0) -> None:
        """Units back on a plate: planogram stock at home, else loose units of known weight.

        ``sure`` is how sure the put-back was of which units these are; a loose unit carries
        that doubt to whoever takes it next.
        """
        for unit in units:
            self.forget_maybe(unit.uid)
            home = [p for p in plates if unit.sku in self.stock[p].counts]
            if home:
                for p in home:
                    self.stock[p].counts[unit.sku] += 1.0 / len(home)
            else:
                loose = replace(unit, sku_confidence=unit.sku_confidence * sure)
                self.stock[plates[0]].loose[unit.uid] = loose

    def maybe_here(self, plate: int, unit: Unit, chance: float) -> None:
        """A unit that may lie on ``plate`` (``chance``): the rival of an unsure put-back that
        went home. Whoever takes that much weight from the plate may hold it."""
        self.stock[plate].loose[unit.uid] = replace(unit, exists=chance)
        self._maybe[unit.uid] = plate

    def forget_maybe(self, uid: int) -> None:
        """The unit was seen elsewhere (put back again): it does not lie where it might."""
        plate = self._maybe.pop(uid, None)
        if plate is not None:
            self.stock[plate].loose.pop(uid, None)


def _ranked(hyps: list[Hypothesis]) -> list[Hypothesis]:
    return sorted(hyps, key=lambda h: (-h.score, h.describe()))


def posterior(scores: list[float]) -> list[float]:
    total = sum(scores)
    if total <= 0:
        return [1.0 / len(scores)] * len(scores) if scores else []
    return [s / total for s in scores]
