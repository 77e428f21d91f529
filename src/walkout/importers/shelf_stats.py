"""How harsh a shelf's load cells are, measured the same way on real and simulated readings.

Pure functions on numpy arrays (one plate's readings, or one shelf's timestamps): no files, no
store layout. ``shelf_report`` feeds them from a recording, so a simulated recording is measured
with exactly the code that measured the real shelves, and the two sets of figures compare.

Readings are grams with ``NaN`` where a sample was dropped. Every figure is robust (medians,
median absolute deviations), because the real signals carry bursts and steps that would dominate
any mean or standard deviation.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

MAD_TO_SD = 1.4826
"""Median absolute deviation to standard deviation, for Gaussian noise."""

FloatArray = NDArray[np.float64]


def _finite(x: ArrayLike) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    return arr[np.isfinite(arr)]


def noise_sd(x: ArrayLike) -> float:
    """Sample-to-sample noise of one plate, robust to steps, drift and short bursts.

    The first differences remove the level, the drift and every step but one sample each; their
    median absolute deviation ignores bursts as long as they cover under half the record. For
    white noise of sd ``s`` the differences have sd ``s * sqrt(2)``, hence the division.
    Correlated (low-pass) noise is under-estimated: compare with ``level_sd``.

    Returns 0.0 when fewer than three finite readings remain.
    """
    arr = np.asarray(x, dtype=np.float64)
    d = np.diff(arr)
    d = d[np.isfinite(d)]
    if d.size < 2:
        return 0.0
    mad = float(np.median(np.abs(d - np.median(d))))
    if mad == 0.0:
        # Heavily quantised quiet cells: most differences are exactly zero, so fall back on the
        # plain standard deviation of the differences (still drift-free).
        return float(np.std(d) / np.sqrt(2.0))
    return mad * MAD_TO_SD / float(np.sqrt(2.0))


def level_sd(x: ArrayLike, window: int = 60) -> float:
    """Noise of the level itself: the median, over windows of ``window`` samples, of each window's
    standard deviation around its own straight-line fit.

    Unlike ``noise_sd`` this sees correlated noise (slow wobble) that a step detector averaging
    over a few tenths of a second also sees; the median over windows skips bursts and steps when
    they touch fewer than half of the windows. Windows holding a dropped sample are skipped.
    """
    arr = np.asarray(x, dtype=np.float64)
    n = arr.size // window
    if n == 0:
        return float("nan")
    blocks = arr[: n * window].reshape(n, window)
    blocks = blocks[np.all(np.isfinite(blocks), axis=1)]
    if blocks.shape[0] == 0:
        return float("nan")
    u = np.arange(window, dtype=np.float64) - (window - 1) / 2.0
    centred = blocks - blocks.mean(axis=1, keepdims=True)
    slope = centred @ u / float(u @ u)
    resid = centred - slope[:, None] * u[None, :]
    return float(np.median(np.sqrt((resid**2).sum(axis=1) / (window - 2))))


def drift_rate(x: ArrayLike, rate_hz: float, block_s: float = 1.0, jump_sds: float = 6.0) -> float:
    """Drift in grams per minute: one slope fitted across the calm stretches of the record.

    The record is cut into blocks of ``block_s``; blocks much noisier than usual (bursts) are
    dropped, and a jump between neighbouring block means of more than ``jump_sds`` times their
    noise (an item taken or put) starts a new stretch. Each stretch keeps its own level and all
    share one slope (least squares), so steps and bursts do not pass for drift. Returns NaN
    when no stretch has two blocks.
    """
    arr = np.asarray(x, dtype=np.float64)
    n_per = max(round(block_s * rate_hz), 2)
    n = arr.size // n_per
    if n < 2:
        return float("nan")
    blocks = arr[: n * n_per].reshape(n, n_per)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(blocks, axis=1)
        sds = np.nanstd(blocks, axis=1)
    good = np.isfinite(means) & np.isfinite(sds)
    if good.sum() < 2:
        return float("nan")
    typical = float(np.median(sds[good]))
    good &= sds <= 3.0 * typical + 1e-9
    jump = jump_sds * np.sqrt(2.0) * max(typical, 1e-6) / np.sqrt(n_per)
    num, den = 0.0, 0.0
    stretch: list[int] = []
    for i in range(n + 1):
        extend = i < n and good[i] and (not stretch or abs(means[i] - means[stretch[-1]]) <= jump)
        if extend and stretch and i != stretch[-1] + 1:
            extend = False  # a dropped (noisy) block in between may hide a step
        if extend:
            stretch.append(i)
            continue
        if len(stretch) >= 2:
            tc = np.asarray(stretch, dtype=np.float64) * block_s
            tc -= tc.mean()
            mc = means[stretch] - means[stretch].mean()
            num += float(tc @ mc)
            den += float(tc @ tc)
        stretch = [i] if i < n and good[i] else []
    if den == 0.0:
        return float("nan")
    return num / den * 60.0


def spike_mask(x: ArrayLike, threshold_g: float, calm: int = 6) -> NDArray[np.bool_]:
    """Isolated one-sample glitches: a reading that jumps more than ``threshold_g`` away from both
    neighbours, in the same direction, while the two neighbours agree within a quarter of that
    and the ``calm`` readings on each side of it stay within ``threshold_g`` peak-to-peak.

    A real step stays; a burst (the shelf swinging or vibrating, which on real shelves can
    alternate sample by sample) moves the readings around it too; neither is a spike.
    """
    arr = np.asarray(x, dtype=np.float64)
    mask = np.zeros(arr.shape, dtype=bool)
    if arr.size < 3:
        return mask
    prev, mid, nxt = arr[:-2], arr[1:-1], arr[2:]
    with np.errstate(invalid="ignore"):
        up = (mid - prev > threshold_g) & (mid - nxt > threshold_g)
        down = (prev - mid > threshold_g) & (nxt - mid > threshold_g)
        agree = np.abs(prev - nxt) < threshold_g / 4.0
    for i in (np.flatnonzero((up | down) & agree) + 1).tolist():
        around = np.r_[arr[max(i - calm, 0) : i], arr[i + 1 : i + 1 + calm]]
        around = around[np.isfinite(around)]
        if around.size and around.max() - around.min() <= threshold_g:
            mask[i] = True
    return mask


def activity(t: ArrayLike, x: ArrayLike, band_g: float, lag_s: float = 0.1) -> NDArray[np.bool_]:
    """Readings that changed by more than ``band_g`` since the reading ``lag_s`` earlier.

    The load on a plate only changes when something touches the shelf (or the floor shakes), so
    this marks hands, bursts and steps alike while ignoring a steady level however far it drifts.
    """
    times = np.asarray(t, dtype=np.float64)
    arr = np.asarray(x, dtype=np.float64)
    out = np.zeros(arr.shape, dtype=bool)
    if times.size < 2:
        return out
    dt = float(np.median(np.diff(times)))
    lag = max(1, round(lag_s / dt)) if dt > 0 else 1
    with np.errstate(invalid="ignore"):
        out[lag:] = np.abs(arr[lag:] - arr[:-lag]) > band_g
    return out


def disturbed_spans(
    t: ArrayLike, active: ArrayLike, join_s: float = 0.5, lag_s: float = 0.1
) -> list[tuple[float, float]]:
    """Join active readings less than ``join_s`` apart into (start, end) spans, in seconds.

    Each span starts ``lag_s`` before its first active reading, where the change began.
    """
    times = np.asarray(t, dtype=np.float64)
    hits = times[np.asarray(active, dtype=bool)]
    if hits.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(hits) > join_s)
    firsts, lasts = np.r_[0, breaks + 1], np.r_[breaks, hits.size - 1]
    return [
        (float(hits[a]) - lag_s, float(hits[b]))
        for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True)
    ]


def active_share(t: ArrayLike, active: ArrayLike, join_s: float = 0.5, lag_s: float = 0.1) -> float:
    """Share of the record a plate spends disturbed (see ``disturbed_spans``)."""
    times = np.asarray(t, dtype=np.float64)
    if times.size < 2:
        return 0.0
    spans = disturbed_spans(times, active, join_s, lag_s)
    return sum(b - a for a, b in spans) / float(times[-1] - times[0])


@dataclass(frozen=True, slots=True)
class Gaps:
    """Samples a shelf did not deliver (whole lines and nulls), and how irregular the rest came."""

    expected: int
    missing_lines: int
    null_values: int
    values: int
    jitter_p99_s: float = 0.0
    """99th percentile of |interval - nominal period|: late samples that the next one catches
    up, which are not losses."""

    @property
    def line_rate(self) -> float:
        """Share of expected sample times with no line at all."""
        return self.missing_lines / self.expected if self.expected else 0.0

    @property
    def null_rate(self) -> float:
        """Share of delivered plate values that are null."""
        return self.null_values / self.values if self.values else 0.0


def sample_gaps(t: ArrayLike, g: ArrayLike, rate_hz: float) -> Gaps:
    """Count dropped samples of one shelf.

    Args:
        t: Sample times of the shelf's lines, sorted, seconds.
        g: Readings, shape (samples, plates), NaN where null.
        rate_hz: Nominal sensor rate. The lines expected are the span times the rate, so a
            sample that comes late and is followed by one that catches up is jitter, not a loss.
    """
    times = np.asarray(t, dtype=np.float64)
    values = np.asarray(g, dtype=np.float64)
    nulls, total = int(np.isnan(values).sum()), int(values.size)
    if times.size < 2:
        return Gaps(int(times.size), 0, nulls, total)
    expected = round(float(times[-1] - times[0]) * rate_hz) + 1
    jitter = np.abs(np.diff(times) - 1.0 / rate_hz)
    return Gaps(
        expected=max(expected, int(times.size)),
        missing_lines=max(expected - int(times.size), 0),
        null_values=nulls,
        values=total,
        jitter_p99_s=float(np.percentile(jitter, 99)),
    )


@dataclass(frozen=True, slots=True)
class Transient:
    """One disturbance of a plate (or of the sum of several plates).

    Attributes:
        start_s: First reading outside the band around the level before.
        end_s: Settle time: the last reading that still changed by more than the band.
        before_g: Level before the disturbance (median).
        after_g: Level once settled (median of the settled window).
        low_g: Lowest reading between start and end (and the levels before and after).
        high_g: Highest reading, likewise.
        settled: False when the record ends before ``settle_s`` of calm followed.
    """

    start_s: float
    end_s: float
    before_g: float
    after_g: float
    low_g: float
    high_g: float
    settled: bool

    @property
    def step_g(self) -> float:
        """Lasting change of load (negative when something was taken)."""
        return self.after_g - self.before_g

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def ptp_g(self) -> float:
        """Peak-to-peak amplitude of the disturbance, grams."""
        return self.high_g - self.low_g


def find_transient(
    t: ArrayLike,
    x: ArrayLike,
    t_from: float,
    t_to: float,
    band_g: float,
    settle_s: float = 0.5,
    pre_s: float = 1.0,
    lag_s: float = 0.1,
    prefer: Literal["change", "step"] = "change",
) -> Transient | None:
    """The main disturbance of ``x`` that is active inside [t_from, t_to], or None.

    A reading is *active* when it differs by more than ``band_g`` from the reading ``lag_s``
    earlier; active readings less than ``settle_s`` apart form one disturbance (it may run on
    past ``t_to``). Of several, ``prefer="change"`` takes the one with the largest change (the
    burst on a plate nobody took from) and ``prefer="step"`` the one with the largest lasting
    step (the pick, rather than a stray blip or a hand pressing before a light item is lifted).
    The level before is the median over ``pre_s`` seconds before it; it starts at the first
    reading more than ``band_g`` from that level and ends at its last active reading (so
    durations are about ``lag_s`` long); the level after is the median over the next
    ``settle_s``. ``t`` must be sorted. Choose ``band_g`` as a few noise sds of the plate: lower
    finds fainter disturbances, but noise then joins them and lengthens them.
    """
    times = np.asarray(t, dtype=np.float64)
    arr = np.asarray(x, dtype=np.float64)
    n = times.size
    if n < 3:
        return None
    dt = float(np.median(np.diff(times)))
    lag = max(1, round(lag_s / dt)) if dt > 0 else 1
    change = np.zeros(n)
    change[lag:] = np.abs(arr[lag:] - arr[:-lag])
    change[~np.isfinite(change)] = 0.0
    active = np.flatnonzero(activity(times, arr, band_g, lag_s))
    if active.size == 0:
        return None
    breaks = np.flatnonzero(np.diff(times[active]) > settle_s)
    firsts, lasts = np.r_[0, breaks + 1], np.r_[breaks, active.size - 1]
    inside = (times[active] >= t_from) & (times[active] <= t_to)
    best: Transient | None = None
    best_score = -1.0
    for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True):
        members = active[a : b + 1]
        hits = members[inside[a : b + 1]]
        if not hits.size:
            continue
        first, last = int(members[0]), int(members[-1])
        found = _transient(times, arr, first, last, lag, band_g, pre_s, settle_s)
        score = abs(found.step_g) if prefer == "step" else float(change[hits].max())
        if score > best_score:
            best, best_score = found, score
    return best


def _transient(
    times: FloatArray,
    arr: FloatArray,
    first: int,
    last: int,
    lag: int,
    band_g: float,
    pre_s: float,
    settle_s: float,
) -> Transient:
    """The disturbance whose active readings run from index ``first`` to ``last``."""
    i0 = max(first - lag, 0)  # the change began after this reading
    pre = _finite(arr[(times >= times[i0] - pre_s) & (times <= times[i0])])
    before = float(np.median(pre)) if pre.size else float(arr[i0])
    with np.errstate(invalid="ignore"):
        left = np.abs(arr[i0 : last + 1] - before) > band_g
    start = i0 + int(np.argmax(left)) if left.any() else first
    post = _finite(arr[(times > times[last]) & (times <= times[last] + settle_s)])
    after = float(np.median(post)) if post.size else float(arr[last])
    during = _finite(arr[start : last + 1])
    return Transient(
        start_s=float(times[start]),
        end_s=float(times[last]),
        before_g=before,
        after_g=after,
        low_g=float(min(during.min(initial=before), before, after)),
        high_g=float(max(during.max(initial=before), before, after)),
        settled=bool(times[-1] >= times[last] + settle_s and post.size > 0),
    )


def window_ptp(t: ArrayLike, x: ArrayLike, t_from: float, t_to: float) -> float:
    """Peak-to-peak of the finite readings in [t_from, t_to] (NaN when there are none)."""
    times = np.asarray(t, dtype=np.float64)
    vals = _finite(np.asarray(x, dtype=np.float64)[(times >= t_from) & (times <= t_to)])
    return float(vals.max() - vals.min()) if vals.size else float("nan")


def unit_gap_pct(step_g: float, unit_weight_g: float, units: int = 1) -> float:
    """How far a measured step is from the listed weight of the units moved, in percent.

    Positive when the step is heavier than listed. The sign of the step is ignored (a pick is a
    negative step, a put-back a positive one).
    """
    listed = unit_weight_g * units
    return (abs(step_g) - listed) / listed * 100.0
