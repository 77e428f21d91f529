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


def detect_split(signal: np.ndarray, split_min_g: float) -> list[PlateChange]:
    """Like ``detect``, with runs cut into steps of at least ``split_min_g`` on every plate."""
    store = StoreIndex(small_store())
    shelf = store.shelves["S1"]
    det = ShelfDetector(shelf, store.noise_sd[list(shelf.plates)], EngineConfig(), RATE, 8.0)
    for col in range(len(shelf.plates)):
        det.set_split_min(col, split_min_g)
    out: list[PlateChange] = []
    for i, row in enumerate(signal):
        out.extend(det.add(i / RATE, [float(v) for v in row]))
    out.extend(det.close())
    return out


def press(sig: np.ndarray, plate: int, t0: float, amp: float, tau: float = 0.2) -> None:
    """A pressing hand: a bump that rises over ``tau`` and dies away over ten of them."""
    ts = np.arange(len(sig)) / RATE
    m = (ts >= t0) & (ts <= t0 + 10 * tau)
    x = ts[m] - t0
    sig[m, plate] += amp * (x / tau) * np.exp(1 - x / tau)


@pytest.mark.parametrize("gap_s", [0.5, 0.9, 2.0])
def test_two_steps_in_one_ringing_run_are_cut_apart(gap_s: float) -> None:
    """Two lifts on a plate that rings between them: two changes, each dated (cut out of one
    run while the steps come too close for the plate to be read as still between them)."""
    sig = base()
    ts = np.arange(len(sig)) / RATE
    sig[ts >= 5.0, 1] -= 368.0
    sig[ts >= 5.0 + gap_s, 1] -= 371.0
    touch(sig, 1, 4.8, 9.0, 60.0, hz=7.0)
    press(sig, 1, 4.6, 60.0)
    changes = detect_split(sig, 200.0)
    assert [round(c.delta_g / 370.0) for c in changes] == [-1, -1]
    assert sum(c.delta_g for c in changes) == pytest.approx(-739.0, abs=3.0)
    if gap_s < 1.0:
        assert all(c.split for c in changes)
    assert changes[0].t_step == pytest.approx(5.0, abs=0.15)
    assert changes[1].t_step == pytest.approx(5.0 + gap_s, abs=0.15)


def test_a_pressing_hand_does_not_cut_a_lift() -> None:
    """One lift with a hand pressing before and after it stays one change."""
    sig = base()
    ts = np.arange(len(sig)) / RATE
    sig[ts >= 5.0, 1] -= 368.0
    press(sig, 1, 4.5, 80.0, tau=0.25)
    touch(sig, 1, 4.5, 7.0, 40.0, hz=9.0)
    changes = detect_split(sig, 200.0)
    assert len(changes) == 1
    assert not changes[0].split
    assert changes[0].delta_g == pytest.approx(-368.0, abs=3.0)


def test_a_unit_set_down_and_another_lifted_in_one_run_back_where_it_began() -> None:
    """A unit set down and another lifted 0.9 s later on a ringing plate, by two hands: the
    run ends where it began, yet holds two steps, which no single cut finds (the means
    either side of any one cut differ by less than a unit)."""
    sig = base()
    ts = np.arange(len(sig)) / RATE
    sig[ts >= 5.0, 1] += 367.0
    sig[ts >= 5.9, 1] -= 369.0
    touch(sig, 1, 4.8, 8.0, 60.0, hz=7.0)
    press(sig, 1, 4.6, 60.0)
    changes = detect_split(sig, 200.0)
    assert [round(c.delta_g / 368.0) for c in changes] == [1, -1]
    assert changes[0].t_step == pytest.approx(5.0, abs=0.15)
    assert changes[1].t_step == pytest.approx(5.9, abs=0.15)


def test_a_plate_wobbling_hard_and_slowly_is_no_level_between_steps() -> None:
    """A loose shelf's plate wobbles by up to 250 g at 1.2 Hz for 4 s and nothing is taken
    (beats of ringing from stacked shelves): half a wobble lasts as long as a level must, but
    it is no flat level, so no unit was set down and lifted again."""
    sig = base()
    ts = np.arange(len(sig)) / RATE
    m = (ts >= 5.0) & (ts <= 9.0)
    x = ts[m] - 5.0
    sig[m, 1] += 250.0 * np.sin(2 * np.pi * 1.2 * x) * np.exp(-x / 3.0)
    assert detect_split(sig, 100.0) == []


def test_a_late_reading_takes_its_place_among_those_held_back() -> None:
    store = StoreIndex(small_store())
    shelf = store.shelves["S1"]
    det = ShelfDetector(shelf, store.noise_sd[list(shelf.plates)], EngineConfig(), 30.0, 20.0)
    width = len(shelf.plates)
    for t in (0.0, 1 / 30, 3 / 30):
        det.add(t, [100.0] * width)
    assert det.add_late(2 / 30, [200.0] * width) is True
    assert det.add_late(2 / 30, [200.0] * width) is False  # a copy of one held
    times, rows = det.intake
    assert times == [0.0, 1 / 30, 2 / 30, 3 / 30]
    assert rows[2 * width : 3 * width] == [200.0] * width
    # once the shelf has read past a time, a reading for it is too late
    det.flush(keep_after=1.5 / 30)
    assert times == [2 / 30, 3 / 30]
    assert det.add_late(1 / 30, [100.0] * width) is None
    assert det.add_late(2.5 / 30, [100.0] * width) is True
