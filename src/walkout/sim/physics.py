"""Load-cell signals: what each shelf's plates read, rendered in bulk with numpy, chunk by chunk.

A reading is the goods on the plate (steps of the script, each spread over ``step_ramp_s``), plus
hand effects (a press bump where the hand goes, damped ringing at each lift or placement and on
the neighbouring plates), leaning, slow drift, noise, rare spikes and dropped values. Hand
effects decay to zero, so a put-back restores exactly the unit's own weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter  # type: ignore[import-untyped]

from walkout.recording.models import Plate, StoreLayout
from walkout.sim.config import SimConfig
from walkout.sim.script import Script

DRIFT_TIME_S = 300.0  # drift reverts to zero over a few minutes: cells are re-tared nightly


@dataclass(frozen=True, slots=True)
class Effect:
    """A passing extra load on one plate of a shelf (``plate`` is the shelf-local index)."""

    kind: str  # press | ring | lean
    plate: int
    t0: float
    duration_s: float
    amp_g: float
    hz: tuple[float, ...] = ()
    phase: tuple[float, ...] = ()
    tau_s: float = 0.0  # rise time of a press

    def render(self, ts: np.ndarray) -> np.ndarray:
        """Values at times ``ts`` (all inside [t0, t0 + duration])."""
        x = ts - self.t0
        if self.kind == "press":
            return self.amp_g * (x / self.tau_s) * np.exp(1 - x / self.tau_s)
        if self.kind == "ring":
            onset = 1 - np.exp(-x / 0.03)
            decay = np.exp(-5 * x / self.duration_s)
            return self.amp_g * onset * decay * np.sin(2 * np.pi * self.hz[0] * x + self.phase[0])
        env = np.sin(np.pi * x / self.duration_s) ** 2
        wobble = sum(
            np.sin(2 * np.pi * f * x + p) for f, p in zip(self.hz, self.phase, strict=True)
        )
        return self.amp_g * env * (0.7 + 0.3 * wobble / len(self.hz))


@dataclass(frozen=True, slots=True)
class WeightChunk:
    """One shelf's readings over a chunk of time: ``g`` is (samples, plates), NaN where dropped."""

    shelf: str
    t: np.ndarray
    g: np.ndarray
    sent: np.ndarray  # bool per sample: False when the whole message was lost


class ShelfSignal:
    """The load cells of one shelf; ``render`` is called for consecutive chunks of time."""

    def __init__(
        self,
        shelf: str,
        plates: list[int],
        store: StoreLayout,
        initial: list[float],
        script: Script,
        effects: list[Effect],
        cfg: SimConfig,
        rng: np.random.Generator,
    ) -> None:
        self.shelf, self.cfg, self.rng = shelf, cfg, rng
        local = {p: i for i, p in enumerate(plates)}
        steps = [s for s in script.steps if s.plate in local]
        self.step_t = np.array([s.t - cfg.step_ramp_s / 2 for s in steps])
        self.step_plate = [local[s.plate] for s in steps]
        self.step_delta = [s.delta_g for s in steps]
        self.settled = np.array([initial[p] for p in plates])
        self.ptr = 0
        self.effects = sorted(effects, key=lambda e: e.t0)
        self.effect_t0 = np.array([e.t0 for e in self.effects])
        self.longest = max([e.duration_s for e in self.effects], default=0.0)
        self.noise = np.array([store.plates[p].noise_sd_g for p in plates])
        self.rate = store.sensor_rate_hz
        self.phase = float(rng.uniform(0, 1 / self.rate))
        n = len(plates)
        self.drift_a = math.exp(-1 / (self.rate * DRIFT_TIME_S))
        sd_stationary = cfg.drift_g_per_min / math.sqrt(2 * (1 - math.exp(-60 / DRIFT_TIME_S)))
        self.drift_sd = sd_stationary * math.sqrt(1 - self.drift_a**2)
        self.drift_zi = (self.drift_a * rng.normal(0, 0.5 * sd_stationary, n)).reshape(1, n)

    def render(self, c0: float, c1: float) -> WeightChunk:
        """Readings of samples with ``c0 <= t < c1``."""
        cfg, rng = self.cfg, self.rng
        k0 = math.ceil((c0 - self.phase) * self.rate - 1e-9)
        k1 = math.ceil((c1 - self.phase) * self.rate - 1e-9)
        ts = self.phase + np.arange(k0, k1) / self.rate
        n, m = len(ts), len(self.settled)
        g = np.tile(self.settled, (n, 1))
        ramp = cfg.step_ramp_s
        i = self.ptr
        while i < len(self.step_t) and self.step_t[i] < c1:
            x = np.clip((ts - self.step_t[i]) / ramp, 0.0, 1.0)
            g[:, self.step_plate[i]] += self.step_delta[i] * x * x * (3 - 2 * x)
            i += 1
        while self.ptr < len(self.step_t) and self.step_t[self.ptr] + ramp <= c1:
            self.settled[self.step_plate[self.ptr]] += self.step_delta[self.ptr]
            self.ptr += 1
        lo = int(np.searchsorted(self.effect_t0, c0 - self.longest))
        hi = int(np.searchsorted(self.effect_t0, c1))
        for e in self.effects[lo:hi]:
            a, b = np.searchsorted(ts, [e.t0, e.t0 + e.duration_s])
            if b > a:
                g[a:b, e.plate] += e.render(ts[a:b])
        g += rng.normal(0.0, 1.0, (n, m)) * self.noise
        if self.drift_sd > 0:
            walk, self.drift_zi = lfilter(
                [1.0],
                [1.0, -self.drift_a],
                rng.normal(0, self.drift_sd, (n, m)),
                axis=0,
                zi=self.drift_zi,
            )
            g += walk
        if cfg.spikes_per_plate_hour > 0:
            count = int(rng.poisson(cfg.spikes_per_plate_hour * m * n / self.rate / 3600))
            rows, cols = rng.integers(0, n, count), rng.integers(0, m, count)
            g[rows, cols] += rng.choice([-1.0, 1.0], count) * rng.uniform(*cfg.spike_g, count)
        if cfg.p_drop_value > 0:
            g[rng.random((n, m)) < cfg.p_drop_value] = np.nan
        sent = np.ones(n, dtype=bool)
        if cfg.p_drop_message > 0:
            sent = rng.random(n) >= cfg.p_drop_message
        return WeightChunk(self.shelf, ts, g, sent)


def shelf_effects(
    store: StoreLayout, script: Script, cfg: SimConfig, rng: np.random.Generator
) -> dict[str, list[Effect]]:
    """Hand and body effects of the script, grouped by shelf (plates as shelf-local indices)."""
    shelves = store.shelves()
    index = {p.id: i for i, p in enumerate(store.plates)}
    local = [0] * len(store.plates)
    for plates in shelves.values():
        for i, p in enumerate(plates):
            local[index[p.id]] = i
    out: dict[str, list[Effect]] = {s: [] for s in shelves}

    def ring(plate: int, t0: float, amp: float) -> None:
        if amp != 0:
            hz = (float(rng.uniform(*cfg.ring_hz)),)
            phase = (float(rng.uniform(0, 2 * np.pi)),)
            duration = float(rng.uniform(*cfg.ring_s))
            shelf = store.plates[plate].shelf
            out[shelf].append(Effect("ring", local[plate], t0, duration, amp, hz, phase))

    stacked = _stacked(shelves) if cfg.section_ring_g[1] > 0 else {}
    reaches = sorted((r for p in script.persons for r in p.reaches), key=lambda r: (r.t0, r.person))
    for r in reaches:
        shelf = store.plates[r.plate].shelf
        for other in stacked.get(shelf, []):
            t0 = r.t0 + float(rng.uniform(0.0, 0.3))
            for p in shelves[other]:
                ring(index[p.id], t0, _draw(rng, cfg.section_ring_g) * _sign(rng))
        press = _draw(rng, cfg.press_g)
        if press > 0:
            tau = float(rng.uniform(0.1, 0.25))
            t0 = r.t0 + float(rng.uniform(0.0, 0.15))
            out[shelf].append(Effect("press", local[r.plate], t0, 10 * tau, press, tau_s=tau))
        row = shelves[shelf]
        for j in (local[r.plate] - 1, local[r.plate] + 1):
            if 0 <= j < len(row):
                amp = _draw(rng, cfg.neighbour_ring_g) * _sign(rng)
                ring(index[row[j].id], r.t0 + float(rng.uniform(0.0, 0.3)), amp)
    for s in script.steps:
        amp = _draw(rng, cfg.ring_amplitude_g)
        if amp > 0:
            amp += cfg.ring_step_frac * abs(s.delta_g)
        ring(s.plate, s.t - cfg.step_ramp_s / 2, amp * _sign(rng))
    for lean in script.leans:
        hz = tuple(float(f) for f in rng.uniform(0.4, 2.0, 3))
        phase = tuple(float(p) for p in rng.uniform(0, 2 * np.pi, 3))
        shelf = store.plates[lean.plate].shelf
        out[shelf].append(
            Effect("lean", local[lean.plate], lean.t0, lean.duration_s, lean.peak_g, hz, phase)
        )
    return out


def _stacked(shelves: dict[str, list[Plate]]) -> dict[str, list[str]]:
    """Shelves above or below each other (same spot on the floor, same facing)."""
    spot = {
        s: (
            sum(p.center[0] for p in ps) / len(ps),
            sum(p.center[1] for p in ps) / len(ps),
            ps[0].facing,
        )
        for s, ps in shelves.items()
    }
    return {
        s: [
            o
            for o, (x, y, f) in spot.items()
            if o != s and f == spot[s][2] and math.hypot(x - spot[s][0], y - spot[s][1]) < 0.5
        ]
        for s in shelves
    }


def _draw(rng: np.random.Generator, span: tuple[float, float]) -> float:
    return float(rng.uniform(*span)) if span[1] > 0 else 0.0


def _sign(rng: np.random.Generator) -> float:
    return 1.0 if rng.random() < 0.5 else -1.0
