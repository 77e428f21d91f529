"""The shelf measurements on synthetic signals whose true figures are known."""

from __future__ import annotations

import numpy as np
import pytest

from walkout.importers.shelf_stats import (
    active_share,
    activity,
    disturbed_spans,
    drift_rate,
    find_transient,
    level_sd,
    noise_sd,
    sample_gaps,
    spike_mask,
    unit_gap_pct,
    window_ptp,
)

RATE = 60.0


def quiet(n: int, sd: float, seed: int = 0) -> np.ndarray:
    return 1000.0 + np.random.default_rng(seed).normal(0.0, sd, n)


@pytest.mark.parametrize("sd", [0.3, 1.0, 5.0])
def test_noise_sd_of_white_noise_within_10_percent(sd: float) -> None:
    x = quiet(6000, sd)
    assert noise_sd(x) == pytest.approx(sd, rel=0.1)
    assert level_sd(x, 60) == pytest.approx(sd, rel=0.1)


def test_noise_sd_ignores_steps_drift_bursts_and_nulls() -> None:
    x = quiet(6000, 2.0)
    x += np.linspace(0, 50, x.size)  # drift
    x[3000:] -= 538.0  # a pick
    x[1000:1300] += 80 * np.sin(np.arange(300) / 2.0)  # a burst, 5 % of the record
    x[::97] = np.nan  # dropped samples
    assert noise_sd(x) == pytest.approx(2.0, rel=0.1)
    assert level_sd(x, 60) == pytest.approx(2.0, rel=0.15)


def test_quantised_quiet_cell_has_a_small_nonzero_noise() -> None:
    x = np.round(quiet(3000, 0.1) / 0.241) * 0.241  # mostly identical readings
    assert 0 < noise_sd(x) < 0.3


def test_level_sd_sees_correlated_noise_that_differences_miss() -> None:
    white = np.random.default_rng(1).normal(0, 1.0, 6000)
    slow = np.convolve(white, np.ones(10) / np.sqrt(10), mode="same")  # sd 1, low-pass
    assert level_sd(slow, 60) > 2 * noise_sd(slow)


@pytest.mark.parametrize("g_per_min", [-3.0, 0.0, 1.5, 10.0])
def test_drift_rate(g_per_min: float) -> None:
    t = np.arange(0, 120, 1 / RATE)
    x = quiet(t.size, 1.0) + g_per_min * t / 60.0
    x[t > 60] -= 300.0  # a step does not count as drift
    x[5400:5700] += 80 * np.sin(np.arange(300) / 2.0)  # nor does a burst
    assert drift_rate(x, RATE) == pytest.approx(g_per_min, abs=0.2)


def test_spikes_isolated_only() -> None:
    x = quiet(3000, 1.0)
    x[500] += 300.0
    x[1500] -= 250.0
    x[2000:2400] -= 400.0  # a step is not a spike
    burst = 60 * np.cos(np.arange(60) * np.pi)  # a vibration alternating sample by sample
    x[2600:2660] += burst
    mask = spike_mask(x, 20.0)
    assert np.flatnonzero(mask).tolist() == [500, 1500]


def test_sample_gaps_counts_missing_lines_and_nulls() -> None:
    t = np.arange(1000) / RATE
    t = np.delete(t, [100, 101, 500])  # three lines lost
    g = np.ones((t.size, 4))
    g[10, 2] = np.nan
    gaps = sample_gaps(t, g, RATE)
    assert (gaps.expected, gaps.missing_lines, gaps.null_values) == (1000, 3, 1)
    assert gaps.line_rate == pytest.approx(0.003)
    assert gaps.null_rate == pytest.approx(1 / (997 * 4))


def test_late_samples_that_catch_up_are_jitter_not_losses() -> None:
    t = np.arange(1000) / RATE
    t[500] += 0.015  # late by almost a period; the next one is on time
    gaps = sample_gaps(t, np.ones((t.size, 2)), RATE)
    assert gaps.missing_lines == 0
    assert gaps.jitter_p99_s == pytest.approx(0.0, abs=1e-9)  # 2 intervals of 999 are off
    t[100:400:2] += 0.012  # every other sample late: 300 intervals off by 12 ms
    assert sample_gaps(t, np.ones((t.size, 2)), RATE).jitter_p99_s == pytest.approx(0.012, abs=1e-6)


def pick_signal(
    step: float = -538.0, ring: float = 20.0, ring_s: float = 1.0, sd: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Quiet, then at t=10 s a 0.15 s ramp by ``step`` with damped ringing for ``ring_s``."""
    t = np.arange(0, 20, 1 / RATE)
    x = quiet(t.size, sd)
    ramp = np.clip((t - 10.0) / 0.15, 0, 1)
    x += step * ramp
    after = (t >= 10.15) & (t < 10.15 + ring_s)
    x[after] += ring * np.sin(2 * np.pi * 4 * (t[after] - 10.15))
    return t, x


def test_find_transient_measures_step_start_and_duration() -> None:
    t, x = pick_signal()
    x[(t > 8.0) & (t < 8.02)] += 12.0  # a stray blip earlier in the window is not the pick
    tr = find_transient(t, x, 7.5, 14.0, band_g=5.0)
    assert tr is not None
    assert tr.step_g == pytest.approx(-538.0, abs=2.0)
    assert tr.start_s == pytest.approx(10.0, abs=0.05)
    assert tr.duration_s == pytest.approx(1.15, abs=0.2)
    assert tr.ptp_g == pytest.approx(538 + 20, abs=25)
    assert tr.settled
    assert unit_gap_pct(tr.step_g, 538.0) == pytest.approx(0.0, abs=0.5)


def test_find_transient_on_a_neighbour_without_step() -> None:
    t, x = pick_signal(step=0.0, ring=15.0, ring_s=1.5)
    tr = find_transient(t, x, 9.0, 13.0, band_g=5.0)
    assert tr is not None
    assert tr.step_g == pytest.approx(0.0, abs=1.0)
    assert tr.ptp_g == pytest.approx(30.0, abs=6.0)
    assert tr.duration_s == pytest.approx(1.5, abs=0.25)


def test_find_transient_quiet_is_none() -> None:
    t, x = pick_signal(step=0.0, ring=0.0)
    assert find_transient(t, x, 5.0, 15.0, band_g=6.0) is None
    assert window_ptp(t, x, 5.0, 15.0) < 12.0


def test_activity_spans_and_share() -> None:
    t, x = pick_signal(step=-100.0, ring=20.0, ring_s=2.0)
    active = activity(t, x, 5.0)
    spans = disturbed_spans(t, active)
    assert len(spans) == 1
    (a, b) = spans[0]
    assert a == pytest.approx(10.0, abs=0.1)
    assert b == pytest.approx(12.15, abs=0.2)
    assert active_share(t, active) == pytest.approx((b - a) / 20.0, rel=0.01)


def test_unit_gap_sign_convention() -> None:
    assert unit_gap_pct(-557.0, 538.0) == pytest.approx(3.53, abs=0.01)
    assert unit_gap_pct(84.8, 105.53) == pytest.approx(-19.64, abs=0.01)
    assert unit_gap_pct(-200.0, 100.0, units=2) == 0.0


def test_find_transient_prefers_the_step_over_a_bigger_press() -> None:
    t = np.arange(0, 20, 1 / RATE)
    x = quiet(t.size, 0.5)
    press = (t >= 9.0) & (t < 9.3)
    x[press] += 60.0  # the hand presses first, harder than the item weighs
    x[t >= 10.0] -= 44.0  # then lifts a light item
    by_change = find_transient(t, x, 8.0, 12.0, band_g=3.0)
    by_step = find_transient(t, x, 8.0, 12.0, band_g=3.0, prefer="step")
    assert by_change is not None and by_step is not None
    assert by_change.start_s == pytest.approx(9.0, abs=0.05)
    assert by_step.step_g == pytest.approx(-44.0, abs=1.0)
    assert by_step.start_s == pytest.approx(10.0, abs=0.05)
