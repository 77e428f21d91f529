"""Generate a store: gondolas of shelves of plates, a planogram, products and gates.

Gondolas run north-south with aisles between them; gates sit on the south wall. Each gondola
side holds sections of stacked shelves. The planogram puts one or two products on a plate, a few
wide products across two neighbouring plates, and never two products on one plate whose unit
counts could weigh the same (``unresolvable``), because then no engine could tell them apart.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from walkout.recording.models import Gate, Plate, Product, StoreLayout
from walkout.sim.catalogue import ITEMS, make_product, new_sku, pick_template, product_like
from walkout.sim.config import SimConfig
from walkout.sim.floor import AisleFloor

SPINE_M = 0.04  # gap between the two back-to-back sides of a gondola
PLATE_GAP_M = 0.01


@dataclass(frozen=True, slots=True)
class _ShelfPlan:
    height: float
    widths: tuple[float, ...]

    @property
    def length(self) -> float:
        return sum(self.widths) + PLATE_GAP_M * (len(self.widths) - 1)


@dataclass(frozen=True, slots=True)
class _Slot:
    """One product's place in the planogram: its plates and its role."""

    plates: tuple[int, ...]
    kind: str  # single | pair_a | pair_b | straddle | near_a | near_b


def unresolvable(a: Product, b: Product, sigmas: float, offset_frac: float) -> bool:
    """True when k units of ``a`` and m units of ``b`` (k, m <= 3) could weigh the same."""
    for k in range(1, 4):
        for m in range(1, 4):
            diff = abs(k * a.weight_g - m * b.weight_g)
            tol = sigmas * math.sqrt(k * a.weight_sd_g**2 + m * b.weight_sd_g**2)
            tol += offset_frac * max(k * a.weight_g, m * b.weight_g)
            if diff <= tol:
                return True
    return False


def planogram_problems(store: StoreLayout, sigmas: float, offset_frac: float = 0.0) -> list[str]:
    """Plates whose two products cannot be told apart by weight alone."""
    products = {p.sku: p for p in store.products}
    problems = []
    for plate in store.plates:
        for i, sku_a in enumerate(plate.skus):
            for sku_b in plate.skus[i + 1 :]:
                if unresolvable(products[sku_a], products[sku_b], sigmas, offset_frac):
                    problems.append(f"{plate.id}: {sku_a} and {sku_b} weigh alike")
    return problems


def generate_store(cfg: SimConfig, rng: np.random.Generator) -> tuple[StoreLayout, AisleFloor]:
    """A complete store.json layout and its walking geometry, drawn from ``rng``."""
    sections = _plan_sections(cfg, rng)
    plates, floor, width = _place_plates(cfg, rng, sections)
    slots = _plan_slots(cfg, rng, plates)
    products, plate_skus = _stock_products(cfg, rng, slots, len(plates))
    plates = [p.model_copy(update={"skus": plate_skus[i]}) for i, p in enumerate(plates)]
    gates = _gates(cfg, width)
    if cfg.loose_shelf_frac > 0:  # drawn last, so the rest of the store is as without loose shelves
        plates = _loosen(cfg, rng, plates)
    store = StoreLayout(
        store_id=cfg.store_id,
        products=products,
        plates=plates,
        gates=gates,
        sensor_rate_hz=cfg.sensor_rate_hz,
    )
    problems = planogram_problems(store, cfg.resolvable_sigmas, cfg.weight_offset_frac)
    if problems:  # the generator resamples, so this is a bug, not bad luck
        raise RuntimeError("generated an unresolvable planogram: " + "; ".join(problems))
    return store, floor


def _loosen(cfg: SimConfig, rng: np.random.Generator, plates: list[Plate]) -> list[Plate]:
    """Give ``loose_shelf_frac`` of the shelves (at least one) the noise of a loose shelf, as
    measured at installation and written to store.json."""
    shelf_ids = list(dict.fromkeys(p.shelf for p in plates))
    k = max(1, round(cfg.loose_shelf_frac * len(shelf_ids)))
    loose = {shelf_ids[int(i)] for i in rng.permutation(len(shelf_ids))[:k]}
    return [
        p.model_copy(update={"noise_sd_g": round(float(rng.uniform(*cfg.loose_noise_sd_g)), 2)})
        if p.shelf in loose
        else p
        for p in plates
    ]


def loose_shelves(store: StoreLayout, cfg: SimConfig) -> set[str]:
    """Shelves whose plates are noisier than a firm shelf's (median above ``noise_sd_g``): they
    sit loose and shake harder. Works on any layout, generated or given."""
    return {
        shelf
        for shelf, plates in store.shelves().items()
        if float(np.median([p.noise_sd_g for p in plates])) > cfg.noise_sd_g[1]
    }


def _plan_sections(cfg: SimConfig, rng: np.random.Generator) -> list[list[_ShelfPlan]]:
    levels = len(cfg.shelf_heights_m)
    n_sec = math.ceil(cfg.n_shelves / levels)
    base, extra = divmod(cfg.n_shelves, n_sec)
    by_eye = sorted(cfg.shelf_heights_m, key=lambda h: (abs(h - 1.0), h))
    sections = []
    for s in range(n_sec):
        k = base + (1 if s < extra else 0)
        shelves = []
        for height in sorted(by_eye[:k]):
            n = int(rng.integers(cfg.plates_per_shelf[0], cfg.plates_per_shelf[1] + 1))
            lo, hi = cfg.plate_width_m
            widths = np.clip(np.round(rng.uniform(lo, hi, n) / 0.05) * 0.05, lo, hi)
            shelves.append(_ShelfPlan(height, tuple(round(float(w), 3) for w in widths)))
        sections.append(shelves)
    return sections


def _place_plates(
    cfg: SimConfig, rng: np.random.Generator, sections: list[list[_ShelfPlan]]
) -> tuple[list[Plate], AisleFloor, float]:
    per_gondola = 2 * cfg.sections_per_side
    n_g = math.ceil(len(sections) / per_gondola)
    sec_len = [max(s.length for s in sec) for sec in sections]
    lengths = []
    for g in range(n_g):
        for side in range(2):
            first = g * per_gondola + side * cfg.sections_per_side
            chunk = sec_len[first : first + cfg.sections_per_side]
            lengths.append(sum(chunk) + 0.1 * max(len(chunk) - 1, 0))
    gondola_len = max(lengths)
    depth = 2 * cfg.plate_depth_m + SPINE_M
    gate_room = (cfg.n_entry_gates + cfg.n_exit_gates) * 1.4 + 1.5
    width = max(cfg.floor_min_x_m, n_g * depth + (n_g + 1) * cfg.aisle_width_m, gate_room)
    aisle = (width - n_g * depth) / (n_g + 1)
    y_lo = cfg.front_aisle_m
    y_hi = y_lo + gondola_len
    height = max(cfg.floor_min_y_m, y_hi + cfg.back_aisle_m)
    plates: list[Plate] = []
    for g in range(n_g):
        gx = aisle * (g + 1) + depth * (g + 0.5)
        shelf_no = 0
        for side, sign in enumerate((-1.0, 1.0)):
            x = gx + sign * (SPINE_M / 2 + cfg.plate_depth_m / 2)
            y0 = y_lo
            for j in range(cfg.sections_per_side):
                idx = g * per_gondola + side * cfg.sections_per_side + j
                if idx >= len(sections):
                    break
                for shelf in sections[idx]:
                    shelf_no += 1
                    plates += _shelf_plates(
                        cfg,
                        rng,
                        f"G{g + 1}-S{shelf_no}",
                        shelf,
                        x,
                        sign,
                        y0 + (sec_len[idx] - shelf.length) / 2,
                    )
                y0 += sec_len[idx] + 0.1
    aisle_x = tuple(aisle / 2 + i * (aisle + depth) for i in range(n_g + 1))
    edges = tuple((c - aisle / 2, c + aisle / 2) for c in aisle_x)
    floor = AisleFloor(
        aisle_x=aisle_x,
        aisle_edges=edges,
        y_lo=y_lo,
        y_hi=y_hi,
        y_front=round(y_lo * 0.55, 3),
        y_back=round((y_hi + height) / 2, 3),
    )
    return plates, floor, width


def _shelf_plates(
    cfg: SimConfig,
    rng: np.random.Generator,
    shelf_id: str,
    shelf: _ShelfPlan,
    x: float,
    sign: float,
    y_start: float,
) -> list[Plate]:
    out = []
    y = y_start
    for p, w in enumerate(shelf.widths):
        out.append(
            Plate(
                id=f"{shelf_id}-P{p + 1}",
                shelf=shelf_id,
                center=(round(x, 3), round(y + w / 2, 3), shelf.height),
                size=(w, cfg.plate_depth_m),
                facing=(sign, 0.0),
                noise_sd_g=round(float(rng.uniform(*cfg.noise_sd_g)), 2),
            )
        )
        y += w + PLATE_GAP_M
    return out


def _plan_slots(cfg: SimConfig, rng: np.random.Generator, plates: list[Plate]) -> list[_Slot]:
    by_shelf: dict[str, list[int]] = {}
    for i, p in enumerate(plates):
        by_shelf.setdefault(p.shelf, []).append(i)
    shelf_ids = list(by_shelf)
    role: dict[int, str] = {}
    straddle_first: set[int] = set()
    n_str = int(rng.integers(cfg.straddlers[0], cfg.straddlers[1] + 1))
    for s in rng.permutation(len(shelf_ids))[: min(n_str, len(shelf_ids))]:
        members = by_shelf[shelf_ids[int(s)]]
        j = int(rng.integers(len(members) - 1))
        straddle_first.add(members[j])
        role[members[j]] = role[members[j + 1]] = "straddle"
    free = [i for i in range(len(plates)) if i not in role]
    pairs = [
        (a, b)
        for members in by_shelf.values()
        for a, b in itertools.pairwise(members)
        if a not in role and b not in role
    ]
    near: dict[int, int] = {}
    for k in rng.permutation(len(pairs)):
        if len(near) >= cfg.near_equal_neighbours:
            break
        a, b = pairs[int(k)]
        if all(a not in (x, y) and b not in (x, y) for x, y in near.items()):
            near[a] = b
    in_near = set(near) | set(near.values())
    n_double = min(
        max(cfg.n_products - n_str - len(free), 0), len([i for i in free if i not in in_near])
    )
    doubles = {int(i) for i in rng.permutation([i for i in free if i not in in_near])[:n_double]}
    slots = []
    for i in range(len(plates)):
        if i in straddle_first:
            slots.append(_Slot((i, i + 1), "straddle"))
        elif role.get(i) == "straddle":
            continue
        elif i in near:
            slots.append(_Slot((i,), "near_a"))
        elif i in near.values():
            slots.append(_Slot((i,), "near_b"))
        elif i in doubles:
            slots += [_Slot((i,), "pair_a"), _Slot((i,), "pair_b")]
        else:
            slots.append(_Slot((i,), "single"))
    return slots


def _stock_products(
    cfg: SimConfig, rng: np.random.Generator, slots: list[_Slot], n_plates: int
) -> tuple[list[Product], list[list[str]]]:
    eligible = [i for i, s in enumerate(slots) if s.kind in ("single", "pair_a", "pair_b")]
    n_age = int(rng.integers(cfg.age_restricted[0], cfg.age_restricted[1] + 1))
    age = {int(i) for i in rng.permutation(eligible)[:n_age]}
    taken: set[str] = set()
    products: list[Product] = []
    plate_skus: list[list[str]] = [[] for _ in range(n_plates)]
    for i, slot in enumerate(slots):
        sku = new_sku(rng, taken)
        if slot.kind == "near_b":
            prev = products[-1]
            template = next(t for t in ITEMS if prev.name.endswith(t.item))
            factor = 1 + float(rng.choice([-1.0, 1.0])) * float(rng.uniform(0.01, 0.02))
            product = product_like(
                rng, template, sku, round(prev.weight_g * factor, 1), cfg.weight_sd_frac
            )
        else:
            product = _fresh(cfg, rng, sku, i in age, slot.kind == "straddle")
            tries = 0
            while slot.kind == "pair_b" and unresolvable(
                products[-1], product, cfg.resolvable_sigmas, cfg.weight_offset_frac
            ):
                tries += 1
                if tries > 500:
                    raise RuntimeError("no product fits beside " + products[-1].name)
                product = _fresh(cfg, rng, sku, i in age and tries < 50, False)
        products.append(product)
        for p in slot.plates:
            plate_skus[p].append(sku)
    return products, plate_skus


def _fresh(cfg: SimConfig, rng: np.random.Generator, sku: str, age: bool, wide: bool) -> Product:
    return make_product(rng, pick_template(rng, age=age, wide=wide), sku, cfg.weight_sd_frac)


def _gates(cfg: SimConfig, width: float) -> list[Gate]:
    gates = [
        Gate(id=f"in-{i + 1}", kind="entry", center=(round(1.0 + 1.4 * i, 3), 0.0), width=0.9)
        for i in range(cfg.n_entry_gates)
    ]
    gates += [
        Gate(
            id=f"out-{i + 1}", kind="exit", center=(round(width - 1.0 - 1.4 * i, 3), 0.0), width=0.9
        )
        for i in range(cfg.n_exit_gates)
    ]
    return gates
