"""The plate change detector against ringing, spikes, drops, drift and leaning."""

from __future__ import annotations

import numpy as np
import pytest
from tests.engine.scenes import small_store

from walkout.engine.config import EngineConfig
from walkout.engine.store import StoreIndex
from walkout.engine.weights import PlateChange, ShelfDetector

RATE = 30.0


def detect(signal: np.ndarray) -> list[PlateChange]:
    store = StoreIndex(small_store())
    shelf = store.shelves["S1"]
    det = ShelfDetector(shelf, store.noise_sd[list(shelf.plates)], EngineConfig(), RATE, 8.0)
    out: list[PlateChange] = []
    for i, row in enumerate(signal):
        vals = [None if np.isnan(v) else float(v) for v in row]
        out.extend(det.add(i / RATE, vals))
    out.extend(det.close())
    return out


def base(seconds: float = 12.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    return 2000.0 + rng.normal(0.0, 1.5, (n, 4))


def touch(sig: np.ndarray, plate: int, t0: float, t1: float, amp: float, hz: float = 4.0) -> None:
    ts = np.arange(len(sig)) / RATE
    m = (ts >= t0) & (ts <= t1)
    decay = np.exp(-(ts[m] - t0) * 1.5)
    sig[m, plate] += amp * decay * np.sin(2 * np.pi * hz * (ts[m] - t0))


def test_pick_with_ringing_neighbours_is_one_change() -> None:
    sig = base()
    ts = np.arange(len(sig)) / RATE
    sig[ts >= 5.0, 1] -= 368.0
    touch(sig, 1, 4.3, 6.0, 60.0)
    touch(sig, 0, 4.3, 6.5, 150.0, hz=3.0)
    touch(sig, 2, 4.3, 6.5, 120.0, hz=5.0)
    changes = detect(sig)
    assert len(changes) == 1
    c = changes[0]
    assert c.plate == 1
    assert c.delta_g == pytest.approx(-368.0, abs=3.0)
    assert 4.2 <= c.t_start <= 5.1
    assert c.t_end >= 5.0


@pytest.mark.parametrize("kind", ["spikes", "drops", "drift", "lean"])
def test_disturbances_alone_give_no_change(kind: str) -> None:
    sig = base(20.0)
    ts = np.arange(len(sig)) / RATE
    rng = np.random.default_rng(1)
    if kind == "spikes":
        for i in rng.choice(len(sig), 8, replace=False):
            sig[i, rng.integers(0, 4)] += rng.choice([-400.0, 500.0])
    elif kind == "drops":
        sig[rng.random(sig.shape) < 0.05] = np.nan
    elif kind == "drift":
        sig += (ts * 5.0 / 60.0)[:, None]  # 5 g per minute
    else:
        m = (ts > 4) & (ts < 9)
        sig[m, 2] += 120.0 + 60.0 * np.sin(2 * np.pi * 1.3 * ts[m]) + rng.normal(0, 25.0, m.sum())
    assert detect(sig) == []


def test_putback_restores_weight() -> None:
    sig = base()
    ts = np.arange(len(sig)) / RATE
    sig[(ts >= 3.0), 0] -= 160.0
    sig[(ts >= 8.0), 0] += 160.0
    changes = detect(sig)
    assert [round(c.delta_g / 10) * 10 for c in changes] == [-160, 160]
