"""The low-pass view fills dropped readings in whole-array operations: the same values as
filling row by row with each plate's last reading."""

from __future__ import annotations

import numpy as np

from walkout.engine.smoothing import FloatArray, LowPassView


def _row_by_row(last: FloatArray, g: FloatArray) -> tuple[FloatArray, FloatArray]:
    out = np.array(g, dtype=float)
    for row in out:
        gaps = np.isnan(row)
        row[gaps] = last[gaps]
        last = row.copy()
    return out, last


def test_gaps_filled_as_row_by_row() -> None:
    rng = np.random.default_rng(7)
    for _ in range(500):
        n, m = int(rng.integers(1, 7)), int(rng.integers(1, 40))
        g = rng.normal(size=(m, n)) * 100
        g[rng.random((m, n)) < rng.random()] = np.nan
        last = rng.normal(size=n)
        if rng.random() < 0.2:
            last[0] = np.nan  # a plate that never read yet
        view = LowPassView(np.ones(5) / 5, n, 30.0)
        view._last = last.copy()
        filled = view._fill(g.copy())
        expected, expected_last = _row_by_row(last.copy(), g)
        assert np.array_equal(filled, expected, equal_nan=True)
        assert np.array_equal(view._last, expected_last, equal_nan=True)
