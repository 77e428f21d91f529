"""Generated stores follow the planogram rules the engine relies on."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

from walkout.recording.models import Product
from walkout.sim import PRESETS
from walkout.sim.layout import generate_store, planogram_problems, unresolvable
from walkout.sim.stock import straddle_pairs


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_generated_store_follows_the_rules(preset: str) -> None:
    cfg = PRESETS[preset]
    store, _ = generate_store(cfg, np.random.default_rng(0))
    assert planogram_problems(store, cfg.resolvable_sigmas, cfg.weight_offset_frac) == []
    assert len(store.shelves()) == cfg.n_shelves
    for shelf, plates in store.shelves().items():
        assert re.fullmatch(r"G\d+-S\d+", shelf)
        assert cfg.plates_per_shelf[0] <= len(plates) <= cfg.plates_per_shelf[1]
        for p in plates:
            assert p.id.startswith(shelf + "-P")
            assert 1 <= len(p.skus) <= 2
            assert cfg.plate_width_m[0] - 1e-9 <= p.size[0] <= cfg.plate_width_m[1] + 1e-9
            assert math.isclose(math.hypot(*p.facing), 1.0)
    used = {s for p in store.plates for s in p.skus}
    assert used == {p.sku for p in store.products}
    for product in store.products:
        assert 30 <= product.weight_g <= 1500
        assert 0.009 <= product.weight_sd_g / product.weight_g <= 0.031
    ages = sum(p.age_restricted for p in store.products)
    assert cfg.age_restricted[0] <= ages <= cfg.age_restricted[1]
    assert cfg.straddlers[0] <= len(straddle_pairs(store)) <= cfg.straddlers[1]
    kinds = {g.kind for g in store.gates}
    assert kinds == {"entry", "exit"} and all(g.center[1] == 0.0 for g in store.gates)


def test_busy_store_size() -> None:
    store, _ = generate_store(PRESETS["busy"], np.random.default_rng(1))
    assert len(store.products) == 60
    assert any(len(p.skus) == 2 for p in store.plates)


def test_scale_store_has_about_a_thousand_plates() -> None:
    store, _ = generate_store(PRESETS["scale"], np.random.default_rng(0))
    assert 900 <= len(store.plates) <= 1100


def test_hard_store_has_near_equal_neighbours() -> None:
    store, _ = generate_store(PRESETS["hard"], np.random.default_rng(2))
    weight = {p.sku: p.weight_g for p in store.products}
    near = 0
    for plates in store.shelves().values():
        for a, b in itertools.pairwise(plates):
            if len(a.skus) == len(b.skus) == 1 and a.skus != b.skus:
                wa, wb = weight[a.skus[0]], weight[b.skus[0]]
                near += abs(wa - wb) <= 0.021 * wa
    assert near >= PRESETS["hard"].near_equal_neighbours


@pytest.mark.parametrize(
    ("w1", "w2", "bad"),
    [(100.0, 200.0, True), (300.0, 450.0, True), (100.0, 170.0, False), (500.0, 510.0, True)],
)
def test_unresolvable_pairs(w1: float, w2: float, bad: bool) -> None:
    a = Product(sku="a", price="1", weight_g=w1, weight_sd_g=w1 * 0.01)
    b = Product(sku="b", price="1", weight_g=w2, weight_sd_g=w2 * 0.01)
    assert unresolvable(a, b, 3.0, 0.0) is bad
