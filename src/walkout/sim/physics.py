"""Load-cell signals: what each shelf's plates read, rendered in bulk with numpy, chunk by chunk.

A reading is the goods on the plate (steps of the script, each spread over ``step_ramp_s``), plus
hand effects (a press bump where the hand goes, damped ringing at each lift or placement, on the
other plates of the shelf and on the shelves stacked above and below), leaning, store-wide
shocks, slow drift, noise, rare spikes, dropped values and timestamp jitter. Hand effects and
shocks decay to zero, so a put-back restores exactly the unit's own weight. The one lasting
effect besides the goods is a *shift*: a reach may leave an untouched plate of its shelf resting
a little heavier or lighter for good (``p_shift``), never more than ``max_shift_g`` in all, and
never on a plate anyone touches within ``SHIFT_CLEAR_S``; it is noise, not an action, and is not
in the truth.

Ringing and shocks at 9-25 Hz (``ring_hz``, ``shock_hz``, as measured on real shelves sampled at
60 Hz) are sampled at ``sensor_rate_hz`` without any anti-alias filter: at 30 Hz whatever is
above 15 Hz folds back (20 Hz reads as 10 Hz, 25 Hz as 5 Hz), as it would on a real cell read
that slowly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter  # type: ignore[import-untyped]

from walkout.recording.models import Plate, StoreLayout
from walkout.sim.config import Range, SimConfig
from walkout.sim.layout import loose_shelves
from walkout.sim.script import Script

DRIFT_TIME_S = 300.0  # drift reverts to zero over a few minutes: cells are re-tared nightly
SHOCK_GAP_S = 0.7  # a store-wide shock dies down at least this long before the next one
SHIFT_CLEAR_S = 3.0  # no lasting shift on a plate touched this close to the reach
P_SHIFT_NEXT = 0.8  # when a shelf shifts: each plate beside the touched one shifts this often
P_SHIFT_FAR = 0.3  # ...and each plate further along the shelf this often


@dataclass(frozen=True, slots=True)
class Effect:
    """A passing extra load on one plate of a shelf (``plate`` is the shelf-local index)."""

    kind: str  # press | ring | lean | shake
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
        if self.kind == "shake":  # sudden onset, steady, fading over the last third
            env = np.minimum(np.minimum(x / 0.1, 1.0), 3 * (self.duration_s - x) / self.duration_s)
            return (
                self.amp_g
                * np.clip(env, 0.0, 1.0)
                * np.sin(2 * np.pi * self.hz[0] * x + self.phase[0])
            )
        env = np.sin(np.pi * x / self.duration_s) ** 2
        wobble = sum(
            np.sin(2 * np.pi * f * x + p) for f, p in zip(self.hz, self.phase, strict=True)
        )
        return self.amp_g * env * (0.7 + 0.3 * wobble / len(self.hz))


@dataclass(frozen=True, slots=True)
class Shift:
    """A lasting change of an untouched plate's reading (``plate`` is the shelf-local index),
    spread over ``ramp_s`` from ``t0``."""

    plate: int
    t0: float
    delta_g: float
    ramp_s: float


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
        shifts: list[Shift] | None = None,
    ) -> None:
        self.shelf, self.cfg, self.rng = shelf, cfg, rng
        local = {p: i for i, p in enumerate(plates)}
        ramp = cfg.step_ramp_s
        steps = [
            (s.t - ramp / 2, local[s.plate], s.delta_g, ramp)
            for s in script.steps
            if s.plate in local
        ]
        steps += [(f.t0, f.plate, f.delta_g, f.ramp_s) for f in shifts or []]
        steps.sort(key=lambda s: s[0])  # stable: the script's own order among equal times
        self.step_t = np.array([s[0] for s in steps])
        self.step_plate = [s[1] for s in steps]
        self.step_delta = [s[2] for s in steps]
        self.step_ramp = np.array([s[3] for s in steps])
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
        i = self.ptr
        while i < len(self.step_t) and self.step_t[i] < c1:
            x = np.clip((ts - self.step_t[i]) / self.step_ramp[i], 0.0, 1.0)
            g[:, self.step_plate[i]] += self.step_delta[i] * x * x * (3 - 2 * x)
            i += 1
        while (
            self.ptr < len(self.step_t) and self.step_t[self.ptr] + self.step_ramp[self.ptr] <= c1
        ):
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
        if cfg.time_jitter_ms > 0:  # the reading is of ts; its timestamp is a little off
            jitter = rng.uniform(-cfg.time_jitter_ms, cfg.time_jitter_ms, n) / 1000.0
            ts = np.maximum(ts + jitter, 0.0)
        return WeightChunk(self.shelf, ts, g, sent)


def shelf_effects(
    store: StoreLayout, script: Script, cfg: SimConfig, rng: np.random.Generator
) -> dict[str, list[Effect]]:
    """Hand and body effects of the script, grouped by shelf (plates as shelf-local indices)."""
    shelves = store.shelves()
    index = {p.id: i for i, p in enumerate(store.plates)}
    local = _local_indices(store)
    out: dict[str, list[Effect]] = {s: [] for s in shelves}
    loose = loose_shelves(store, cfg) if cfg.loose_shake > 1 else set()

    def ring(plate: int, t0: float, amp: float, span: Range | None = None) -> None:
        if amp != 0:
            hz = (float(rng.uniform(*cfg.ring_hz)),)
            phase = (float(rng.uniform(0, 2 * np.pi)),)
            duration = float(rng.uniform(*(span or cfg.ring_s)))
            shelf = store.plates[plate].shelf
            out[shelf].append(Effect("ring", local[plate], t0, duration, amp, hz, phase))

    stacked = _stacked(shelves) if cfg.section_ring_g[1] > 0 else {}
    reaches = sorted((r for p in script.persons for r in p.reaches), key=lambda r: (r.t0, r.person))
    for r in reaches:
        shelf = store.plates[r.plate].shelf
        for other in stacked.get(shelf, []):
            t0 = r.t0 + float(rng.uniform(0.0, 0.3))
            gain = cfg.loose_shake if other in loose else 1.0
            for p in shelves[other]:
                amp = _draw(rng, cfg.section_ring_g) * _sign(rng) * gain
                ring(index[p.id], t0, amp, cfg.section_ring_s)
        press = _draw(rng, cfg.press_g)
        if press > 0:
            tau = float(rng.uniform(0.1, 0.25))
            t0 = r.t0 + float(rng.uniform(0.0, 0.15))
            out[shelf].append(Effect("press", local[r.plate], t0, 10 * tau, press, tau_s=tau))
        row = shelves[shelf]
        here = local[r.plate]
        for j in (here - 1, here + 1):
            if 0 <= j < len(row):
                amp = _draw(rng, cfg.neighbour_ring_g) * _sign(rng)
                ring(index[row[j].id], r.t0 + float(rng.uniform(0.0, 0.3)), amp)
        if cfg.shelf_ring_g[1] > 0:
            for j in range(len(row)):
                if abs(j - here) > 1:
                    amp = _draw(rng, cfg.shelf_ring_g) * _sign(rng)
                    ring(index[row[j].id], r.t0 + float(rng.uniform(0.0, 0.4)), amp)
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


def shock_effects(
    store: StoreLayout, script: Script, cfg: SimConfig, rng: np.random.Generator
) -> dict[str, list[Effect]]:
    """Store-wide shocks, by shelf: while anyone is inside, the floor or the fixtures shake now
    and then (``shocks_per_min`` on average, one at a time: at least ``SHOCK_GAP_S`` of calm, then
    a random wait) and every plate of the store vibrates at once for a moment, each at its own
    frequency, loose shelves ``loose_shake`` times harder."""
    shelves = store.shelves()
    out: dict[str, list[Effect]] = {s: [] for s in shelves}
    if cfg.shocks_per_min <= 0:
        return out
    inside = _union([(p.enter_t, p.cross_t or p.end_t) for p in script.persons])
    total = sum(b - a for a, b in inside)
    if total <= 0:
        return out
    loose = loose_shelves(store, cfg)
    mean_s = (cfg.shock_s[0] + cfg.shock_s[1]) / 2
    calm_s = max(60.0 / cfg.shocks_per_min - mean_s - SHOCK_GAP_S, 0.0)
    u = float(rng.uniform(0.0, 60.0 / cfg.shocks_per_min))
    while u < total:
        t0 = _position(inside, u)
        duration = float(rng.uniform(*cfg.shock_s))
        u += duration + SHOCK_GAP_S + (float(rng.exponential(calm_s)) if calm_s > 0 else 0.0)
        base = float(rng.uniform(*cfg.shock_g))
        for shelf, plates in shelves.items():
            gain = cfg.loose_shake if shelf in loose else 1.0
            amps = base * gain * rng.uniform(0.5, 1.5, len(plates))
            hzs = rng.uniform(*cfg.shock_hz, len(plates))
            phases = rng.uniform(0, 2 * np.pi, len(plates))
            for i in range(len(plates)):
                hz, phase = (float(hzs[i]),), (float(phases[i]),)
                out[shelf].append(Effect("shake", i, t0, duration, float(amps[i]), hz, phase))
    return out


def lasting_shifts(
    store: StoreLayout, script: Script, cfg: SimConfig, rng: np.random.Generator
) -> dict[str, list[Shift]]:
    """Lasting shifts of untouched plates, by shelf (see the module docstring).

    With ``p_shift`` a reach unsettles its shelf: each plate beside the touched one then shifts
    with ``P_SHIFT_NEXT``, each further one with ``P_SHIFT_FAR`` (at least one plate), by
    ``shift_g`` either way, with the jolt that starts the ringing. A plate's shifts add up to at
    most ``max_shift_g`` either way (a shift that would go beyond goes the other way), and a
    plate that anyone touches within ``SHIFT_CLEAR_S`` of the reach is left alone.
    """
    shelves = store.shelves()
    out: dict[str, list[Shift]] = {s: [] for s in shelves}
    if cfg.p_shift <= 0:
        return out
    index = {p.id: i for i, p in enumerate(store.plates)}
    local = _local_indices(store)
    busy: dict[int, list[tuple[float, float]]] = {}
    for person in script.persons:
        for r in person.reaches:
            busy.setdefault(r.plate, []).append((r.t0, r.t1))
    for st in script.steps:
        busy.setdefault(st.plate, []).append((st.t, st.t))
    offset = [0.0] * len(store.plates)
    reaches = sorted((r for p in script.persons for r in p.reaches), key=lambda r: (r.t0, r.person))
    for r in reaches:
        if rng.random() >= cfg.p_shift:
            continue
        shelf = store.plates[r.plate].shelf
        here = local[r.plate]
        free = [
            index[p.id]
            for p in shelves[shelf]
            if not any(
                a - SHIFT_CLEAR_S < r.t1 and b + SHIFT_CLEAR_S > r.t0
                for a, b in busy.get(index[p.id], [])
            )
        ]
        if not free:
            continue
        chosen = [
            p
            for p in free
            if rng.random() < (P_SHIFT_NEXT if abs(local[p] - here) == 1 else P_SHIFT_FAR)
        ]
        if not chosen:
            chosen = [free[int(rng.integers(len(free)))]]
        for p in chosen:
            delta = round(float(rng.uniform(*cfg.shift_g)) * _sign(rng), 1)
            if abs(offset[p] + delta) > cfg.max_shift_g:
                delta = -delta
            offset[p] += delta
            t0 = r.t0 + float(rng.uniform(0.0, 0.3))  # the jolt that starts the ringing
            ramp = float(rng.uniform(0.05, 0.2))
            out[shelf].append(Shift(local[p], t0, delta, ramp))
    return out


def _local_indices(store: StoreLayout) -> list[int]:
    """Each plate's index within its shelf (store.json order)."""
    index = {p.id: i for i, p in enumerate(store.plates)}
    local = [0] * len(store.plates)
    for plates in store.shelves().values():
        for i, p in enumerate(plates):
            local[index[p.id]] = i
    return local


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping (start, end) spans merged, in time order."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif b > a:
            out.append((a, b))
    return out


def _position(spans: list[tuple[float, float]], u: float) -> float:
    """The time ``u`` seconds into the concatenation of ``spans``."""
    for a, b in spans:
        if u < b - a:
            return a + u
        u -= b - a
    return spans[-1][1]


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
