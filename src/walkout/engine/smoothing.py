"""A streaming low-pass view of a shelf's load cells, so that shaking is not mistaken for moving.

Shelves ring when touched, shake when the floor or the gondola shakes, and a loose shelf shakes
hard for seconds; on a real cell that rings at 9-25 Hz read at 30 Hz, all of it lands at 5 Hz
and above. A unit lifted or set down is a step: most of its energy lies far below that. So the
detector reads each plate through a linear-phase FIR low-pass (scipy's ``firwin``, Hamming
window). A linear-phase filter
delays every frequency alike, by half its length: each filtered value is stamped with the time
of the raw sample at the middle of its window, so steps keep their times and only the decision
comes later. Dropped values (NaN) are filled with the plate's last reading before filtering.

No median or other non-linear step comes first: on a signal sampled only three times per cycle
(a 20 Hz ring read at 30 Hz is a 10 Hz one) a running median turns shaking into an offset. A
spike passes as a short bump that the detector sees settle back where it was.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.signal import firwin  # type: ignore[import-untyped]

FloatArray = NDArray[np.float64]


def design_low_pass(sample_rate_hz: float, cutoff_hz: float, length_s: float) -> FloatArray:
    """The filter's taps: an odd number (so the delay is a whole number of samples), at least 5."""
    taps = max(5, round(length_s * sample_rate_hz) | 1)
    cutoff = min(cutoff_hz, 0.45 * sample_rate_hz)
    return np.asarray(firwin(taps, cutoff, fs=sample_rate_hz, window="hamming"), dtype=float)


class LowPassView:
    """Filtered readings of several plates, fed chunk by chunk; output lags input by ``delay``."""

    def __init__(self, taps: FloatArray, n_plates: int, sample_rate_hz: float) -> None:
        self.taps = taps
        self._reversed = taps[::-1]  # a view, as before: a copy would change the sums
        self.delay = (len(taps) - 1) // 2  # a linear-phase FIR's delay: half its length
        self.noise_gain = float(np.sqrt(np.sum(taps**2)))
        self._n = n_plates
        self._period = 1.0 / sample_rate_hz
        self._tail: FloatArray | None = None  # the last len(taps) - 1 filled rows
        self._last: FloatArray = np.full(n_plates, np.nan)  # last reading of each plate
        self._times: FloatArray = np.empty(0)  # raw times not yet given out
        self._rows: FloatArray = np.empty((0, n_plates))  # ... and their (filled) readings

    def push(self, t: FloatArray, g: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Take raw rows; return the filtered rows now known, with their (centre) times and
        the raw readings (dropped values filled) taken at those times."""
        if not len(t):
            return self._nothing()
        if self._tail is None and not self._start(t, g):
            return self._nothing()
        assert self._tail is not None
        filled = self._fill(g)
        # the FIR over the rows before and these: each output row is a window of len(taps)
        # rows times the taps (one matrix product; scipy's lfilter loops per column here)
        stacked = np.concatenate((self._tail, filled))
        out = _windows(stacked, len(self.taps)) @ self._reversed
        self._tail = stacked[len(filled) :]
        times = np.concatenate((self._times, t))
        rows = np.concatenate((self._rows, filled))
        ready = max(len(times) - self.delay, 0)
        self._times, self._rows = times[ready:], rows[ready:]
        return times[:ready], out[len(out) - ready :], rows[:ready]

    def _nothing(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        return np.empty(0), np.empty((0, self._n)), np.empty((0, self._n))

    def pending(self) -> tuple[FloatArray, FloatArray]:
        """The raw rows taken in but not yet given out filtered (times, filled readings)."""
        return self._times, self._rows

    def drain(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """End of the stream: hold the last readings for half the filter, so the last raw
        samples come out too."""
        if self._tail is None or not len(self._times):
            return self._nothing()
        pending = self._times
        hold_t = pending[-1] + self._period * np.arange(1, self.delay + 1)
        out_t, out_g, out_raw = self.push(hold_t, np.tile(self._last, (self.delay, 1)))
        keep = out_t <= pending[-1]
        self._times, self._rows = np.empty(0), np.empty((0, self._n))
        return out_t[keep], out_g[keep], out_raw[keep]

    def _start(self, t: FloatArray, g: FloatArray) -> bool:
        """Begin at the first chunk where every plate has a reading: the filter starts as if
        each plate had read that level for ever (no start-up transient)."""
        with np.errstate(all="ignore"):
            first = np.nanmedian(g, axis=0) if np.isnan(g).any() else np.median(g, axis=0)
        if np.isnan(first).any():
            return False
        self._last = first.astype(float)
        self._tail = np.tile(self._last, (len(self.taps) - 1, 1))
        # the times of the rows that fill the filter before the first one: evenly spaced
        self._times = t[0] - self._period * np.arange(self.delay, 0, -1)
        self._rows = np.tile(self._last, (self.delay, 1))
        return True

    def _fill(self, g: FloatArray) -> FloatArray:
        """Each dropped value replaced by the plate's last reading."""
        if not np.isnan(g.sum()):  # one reduction: a sum is NaN where any value is
            self._last = g[-1].copy()
            return g
        # each gap takes the latest reading of its plate at or before its row (the row
        # itself where it read), or the last reading before the chunk where none: the same
        # values a row-by-row fill gives, in a few array operations, not four per row (on a
        # store with dropped samples a quarter of all chunks come here)
        have = ~np.isnan(g)
        latest = np.where(have, np.arange(len(g))[:, None], -1)
        np.maximum.accumulate(latest, axis=0, out=latest)
        cols = np.arange(g.shape[1])
        out = np.where(latest >= 0, g[np.maximum(latest, 0), cols], self._last)
        self._last = out[-1].copy()
        return out


def _windows(rows: FloatArray, length: int) -> FloatArray:
    """``sliding_window_view(rows, length, axis=0)`` of a C-contiguous 2-d array, built
    directly: the same strided view (so the same products, bit for bit) without numpy's
    argument checks, which cost more than the product on a one-second chunk."""
    n_rows, n_cols = rows.shape
    step, col = rows.strides
    return np.ndarray((n_rows - length + 1, n_cols, length), rows.dtype, rows, 0, (step, col, step))
