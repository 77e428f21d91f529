"""Delivery order of the lines: by time, or the way a real network delivers them.

Perturbed delivery makes some lines late (at most ``max_late_s`` after their ``t``) and
delivers a few twice, so the file is in delivery order, not time order. Lines are released
chunk by chunk: a line whose delivery time falls after the chunk waits for the next one.
"""

from __future__ import annotations

import numpy as np

from walkout.sim.config import SimConfig

BASE_JITTER_S = 0.02  # ordinary network latency, when a line is not particularly late


class Delivery:
    """Buffers lines and releases them in delivery order."""

    def __init__(self, cfg: SimConfig, rng: np.random.Generator) -> None:
        self.cfg, self.rng = cfg, rng
        self.perturbed = cfg.p_late > 0 or cfg.p_duplicate > 0
        self._when = np.empty(0)
        self._seq = np.empty(0, dtype=np.int64)
        self._lines: list[dict[str, object]] = []
        self._count = 0
        self.duplicates = 0

    def push(self, t: np.ndarray, lines: list[dict[str, object]]) -> None:
        """Add lines with times ``t``; they are assigned delivery times now."""
        cfg, rng = self.cfg, self.rng
        n = len(lines)
        when = np.asarray(t, dtype=float).copy()
        if self.perturbed and n:
            late = rng.random(n) < cfg.p_late
            lag = np.where(
                late, rng.uniform(0, cfg.max_late_s, n), rng.uniform(0, BASE_JITTER_S, n)
            )
            when += np.minimum(lag, cfg.max_late_s)
            dup = np.nonzero(rng.random(n) < cfg.p_duplicate)[0]
            if len(dup):
                room = np.maximum(cfg.max_late_s - (when[dup] - t[dup]), 0.0)
                when = np.concatenate([when, when[dup] + rng.uniform(0, 1, len(dup)) * room])
                lines = lines + [lines[int(i)] for i in dup]
                self.duplicates += len(dup)
        m = len(lines)
        self._when = np.concatenate([self._when, when])
        self._seq = np.concatenate([self._seq, np.arange(self._count, self._count + m)])
        self._count += m
        self._lines += lines

    def release(self, until: float | None = None) -> list[dict[str, object]]:
        """Lines delivered before ``until`` (all when None), in delivery order."""
        order = np.lexsort((self._seq, self._when))
        if until is not None:
            order = order[self._when[order] < until]
        keep = np.ones(len(self._lines), dtype=bool)
        keep[order] = False
        out = [self._lines[int(i)] for i in order]
        rest = np.nonzero(keep)[0]
        self._when, self._seq = self._when[rest], self._seq[rest]
        self._lines = [self._lines[int(i)] for i in rest]
        return out
