"""The harshness figures of a recording's shelves, for comparing real and simulated load cells.

``measure_recording`` reads any walkout recording (the imported AutoCheckout case or a simulator
run) into per-shelf arrays and applies the ``shelf_stats`` functions, so both sides of a
comparison are measured by one code path. Touches are located from truth.json's optional
``events`` list (``{"t", "plate" | "plates", "sku", ...}``); without it only the sensor-wide
figures (noise, drift, spikes, drops) are given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from walkout.importers.shelf_stats import (
    Transient,
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
from walkout.recording.files import RecordingError, iter_messages, read_store
from walkout.recording.models import Plate, StoreLayout, WeightMsg

FloatArray = NDArray[np.float64]

BAND_SDS = 5.0
"""A disturbance is a reading this many noise sds away from the level before it."""
MIN_BAND_G = 2.0
"""...and at least this many grams, so that a heavily quantised quiet cell is not all bursts."""
SPIKE_SDS = 10.0
MIN_SPIKE_G = 20.0
SEARCH_BEFORE_S = 1.5
"""Truth times may be late or truncated (the real labels are whole seconds)."""
SEARCH_AFTER_S = 5.0
ISOLATION_S = 6.0
"""Actions closer than this on one shelf (or stacked shelves) disturb each other's figures."""
STACK_RADIUS_M = 0.3
"""Shelves whose plates' centroids are this close on the floor are stacked in one gondola."""


@dataclass(frozen=True, slots=True)
class ShelfTraces:
    """One shelf's readings: times (n,) and grams (n, plates), NaN where null."""

    shelf: str
    plate_ids: tuple[str, ...]
    t: FloatArray
    g: FloatArray

    def __post_init__(self) -> None:
        if self.g.shape != (self.t.size, len(self.plate_ids)):
            raise ValueError(
                f"shelf {self.shelf}: g has shape {self.g.shape}, expected "
                f"({self.t.size}, {len(self.plate_ids)})"
            )

    def column(self, plate_id: str) -> FloatArray:
        return self.g[:, self.plate_ids.index(plate_id)]


@dataclass(frozen=True, slots=True)
class TrueAction:
    """One true shelf action from truth.json ``events``."""

    t: float
    plates: tuple[str, ...]
    sku: str
    qty: int = 1


def load_traces(folder: Path) -> tuple[StoreLayout, dict[str, ShelfTraces]]:
    """Read a recording's store and weight lines into per-shelf arrays, sorted by time.

    Lines delivered late are put back in order; a line delivered twice is kept once.
    """
    store = read_store(folder)
    shelves = store.shelves()
    known = {shelf: len(plates) for shelf, plates in shelves.items()}
    rows: dict[str, tuple[list[float], list[list[float | None]]]] = {s: ([], []) for s in shelves}
    for msg in iter_messages(folder, known_shelves=known):
        if isinstance(msg, WeightMsg):
            times, grams = rows[msg.shelf]
            times.append(msg.t)
            grams.append(msg.g)
    traces = {}
    for shelf, plates in shelves.items():
        times, grams = rows[shelf]
        t = np.asarray(times, dtype=np.float64)
        g = np.array(grams, dtype=np.float64).reshape(t.size, len(plates))
        order = np.argsort(t, kind="stable")
        t, g = t[order], g[order]
        if t.size:
            keep = np.r_[True, np.diff(t) > 1e-9]
            t, g = t[keep], g[keep]
        traces[shelf] = ShelfTraces(shelf, tuple(p.id for p in plates), t, g)
    return store, traces


def read_true_actions(folder: Path) -> list[TrueAction]:
    """The optional ``events`` of truth.json (empty when absent)."""
    path = Path(folder) / "truth.json"
    if not path.is_file():
        return []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        actions = []
        for ev in raw.get("events", []):
            plates = ev.get("plates") or ([ev["plate"]] if "plate" in ev else [])
            if not plates or "t" not in ev:
                continue
            actions.append(
                TrueAction(float(ev["t"]), tuple(plates), str(ev.get("sku", "")), ev.get("qty", 1))
            )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise RecordingError(f"{path}: malformed events: {exc}") from exc
    return sorted(actions, key=lambda a: a.t)


def stacks(store: StoreLayout) -> dict[str, list[str]]:
    """For each shelf, the other shelves of the same gondola section (stacked above or below).

    The format has no gondola; stacked shelves share their footprint on the floor and facing.
    """
    shelves = store.shelves()
    centroid = {s: np.mean([p.center[:2] for p in ps], axis=0) for s, ps in shelves.items()}
    facing = {s: np.mean([p.facing for p in ps], axis=0) for s, ps in shelves.items()}
    out: dict[str, list[str]] = {}
    for s in shelves:
        out[s] = [
            o
            for o in shelves
            if o != s
            and np.linalg.norm(centroid[o] - centroid[s]) < STACK_RADIUS_M
            and float(facing[o] @ facing[s]) > 0.9
        ]
    return out


# --- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Burst:
    """Disturbance of one untouched plate around a touch."""

    plate: str
    ptp_g: float
    duration_s: float
    step_g: float


@dataclass(frozen=True, slots=True)
class PickMeasure:
    """How one true action looked on the shelf."""

    action: TrueAction
    unit_g: float
    touch: Transient | None
    shelf_step_g: float
    neighbours: tuple[Burst, ...]
    stacked: tuple[Burst, ...]

    isolated: bool = True
    """No other true action on this shelf or a stacked one within ``ISOLATION_S``: its figures
    are its own (the summary uses only these)."""

    @property
    def gap_pct(self) -> float:
        """Step on the action's plates against the listed weight."""
        if self.touch is None:
            return float("nan")
        return unit_gap_pct(self.touch.step_g, self.unit_g, abs(self.action.qty))

    @property
    def shelf_gap_pct(self) -> float:
        """Step of the whole shelf (all plates summed) against the listed weight."""
        return unit_gap_pct(self.shelf_step_g, self.unit_g, abs(self.action.qty))


@dataclass(frozen=True, slots=True)
class Shock:
    """A moment when at least half the shelves (and 3) were disturbed at once.

    Attributes:
        start_s: Start of the moment.
        end_s: End of it.
        shelves: Most shelves disturbed together.
        median_ptp_g: Median over all plates of their peak-to-peak during the moment.
    """

    start_s: float
    end_s: float
    shelves: int
    median_ptp_g: float


@dataclass(frozen=True, slots=True)
class ShelfReport:
    """Every harshness figure of one recording (see ``measure_recording``).

    Per-plate arrays (one value per plate, store.json order): ``noise_sd_g``, ``level_sd_g``,
    ``drift_g_per_min``, ``active_share``.
    """

    name: str
    plates: int
    shelves: int
    duration_s: float
    rate_hz: float
    noise_sd_g: FloatArray
    level_sd_g: FloatArray
    drift_g_per_min: FloatArray
    active_share: FloatArray
    spikes: int
    isolated_spikes: int
    plate_hours: float
    missing_line_rate: float
    null_rate: float
    jitter_p99_ms: float
    shocks: tuple[Shock, ...] = ()
    picks: tuple[PickMeasure, ...] = field(default_factory=tuple)

    @property
    def spikes_per_plate_hour(self) -> float:
        return self.spikes / self.plate_hours if self.plate_hours else float("nan")

    @property
    def isolated_spikes_per_plate_hour(self) -> float:
        return self.isolated_spikes / self.plate_hours if self.plate_hours else float("nan")


def _rate(traces: dict[str, ShelfTraces], nominal: float) -> float:
    """The store's nominal rate, unless the readings clearly come at another one."""
    diffs = [np.diff(tr.t) for tr in traces.values() if tr.t.size > 1]
    steps = np.concatenate(diffs) if diffs else np.zeros(0)
    steps = steps[steps > 0]
    if not steps.size:
        return nominal
    measured = float(1.0 / np.median(steps))
    return nominal if abs(measured / nominal - 1.0) < 0.05 else measured


def _band(x: FloatArray) -> float:
    return max(BAND_SDS * noise_sd(x), MIN_BAND_G)


def _burst(plate: str, t: FloatArray, x: FloatArray, t_from: float, t_to: float) -> Burst:
    tr = find_transient(t, x, t_from, t_to, _band(x))
    if tr is None:
        return Burst(plate, window_ptp(t, x, t_from, t_to), 0.0, 0.0)
    return Burst(plate, tr.ptp_g, tr.duration_s, tr.step_g)


def measure_pick(
    store: StoreLayout,
    traces: dict[str, ShelfTraces],
    action: TrueAction,
    stack_of: dict[str, list[str]],
) -> PickMeasure | None:
    """Measure one true action: its step and transient, and the bursts it caused around it."""
    plate_by_id: dict[str, Plate] = {p.id: p for p in store.plates}
    plates = [plate_by_id[p] for p in action.plates if p in plate_by_id]
    products = {p.sku: p for p in store.products}
    if not plates or action.sku not in products:
        return None
    shelf = traces[plates[0].shelf]
    touched = [p.id for p in plates if p.shelf == shelf.shelf]
    cols = [shelf.plate_ids.index(p) for p in touched]
    total = shelf.g[:, cols].sum(axis=1)
    t = shelf.t
    t_from, t_to = action.t - SEARCH_BEFORE_S, action.t + SEARCH_AFTER_S
    touch = find_transient(t, total, t_from, t_to, _band(total), prefer="step")
    whole = shelf.g.sum(axis=1)
    shelf_touch = find_transient(t, whole, t_from, t_to, _band(whole), prefer="step")
    shelf_step = shelf_touch.step_g if shelf_touch else 0.0
    if touch is None:
        return PickMeasure(action, products[action.sku].weight_g, None, shelf_step, (), ())
    w_from, w_to = touch.start_s - 1.0, touch.end_s + 2.0
    neighbours = tuple(
        _burst(pid, t, shelf.g[:, i], w_from, w_to)
        for i, pid in enumerate(shelf.plate_ids)
        if pid not in touched
    )
    stacked = tuple(
        _burst(pid, traces[other].t, traces[other].g[:, i], w_from, w_to)
        for other in stack_of.get(shelf.shelf, [])
        for i, pid in enumerate(traces[other].plate_ids)
    )
    return PickMeasure(
        action, products[action.sku].weight_g, touch, shelf_step, neighbours, stacked
    )


def measure_recording(folder: Path, name: str | None = None) -> ShelfReport:
    """All the figures of one recording folder.

    Noise, drift and spikes are measured per plate over the whole recording with robust
    statistics (so the shopping in it barely counts); picks come from truth.json ``events``.
    """
    folder = Path(folder)
    store, traces = load_traces(folder)
    rate = _rate(traces, store.sensor_rate_hz)
    noise, level, drift, share = [], [], [], []
    spikes, isolated, plate_samples = 0, 0, 0
    missing, expected, nulls, values = 0, 0, 0, 0
    jitters = []
    shelf_spans: dict[str, list[tuple[float, float]]] = {}
    near = max(round(0.25 * rate), 1)
    for tr in traces.values():
        gaps = sample_gaps(tr.t, tr.g, rate)
        missing += gaps.missing_lines
        expected += gaps.expected
        nulls += gaps.null_values
        values += gaps.values
        jitters.append(gaps.jitter_p99_s)
        window = max(round(rate), 4)
        active = np.zeros(tr.g.shape, dtype=bool)
        sds = []
        for i in range(tr.g.shape[1]):
            x = tr.g[:, i]
            sd = noise_sd(x)
            sds.append(sd)
            active[:, i] = activity(tr.t, x, max(BAND_SDS * sd, MIN_BAND_G))
            noise.append(sd)
            level.append(level_sd(x, window))
            drift.append(drift_rate(x, rate))
            share.append(active_share(tr.t, active[:, i]))
            plate_samples += gaps.expected
        for i, sd in enumerate(sds):
            for j in np.flatnonzero(spike_mask(tr.g[:, i], max(SPIKE_SDS * sd, MIN_SPIKE_G))):
                spikes += 1
                others = np.delete(active[max(j - near, 0) : j + near + 1], i, axis=1)
                isolated += int(not others.any())
        shelf_spans[tr.shelf] = disturbed_spans(tr.t, active.any(axis=1))
    stack_of = stacks(store)
    actions = read_true_actions(folder)
    shelf_of = {p.id: p.shelf for p in store.plates}
    measured = []
    for a in actions:
        m = measure_pick(store, traces, a, stack_of)
        if m is None:
            continue
        home = shelf_of.get(a.plates[0], "")
        nearby = {home, *stack_of.get(home, [])}
        crowded = any(
            b is not a
            and abs(b.t - a.t) < ISOLATION_S
            and any(shelf_of.get(p) in nearby for p in b.plates)
            for b in actions
        )
        measured.append(replace(m, isolated=not crowded))
    picks = tuple(measured)
    duration = max((float(tr.t[-1] - tr.t[0]) for tr in traces.values() if tr.t.size), default=0)
    return ShelfReport(
        name=name or folder.name,
        plates=len(store.plates),
        shelves=len(traces),
        duration_s=duration,
        rate_hz=rate,
        noise_sd_g=np.asarray(noise),
        level_sd_g=np.asarray(level),
        drift_g_per_min=np.asarray(drift),
        active_share=np.asarray(share),
        spikes=spikes,
        isolated_spikes=isolated,
        plate_hours=plate_samples / rate / 3600.0,
        missing_line_rate=missing / expected if expected else 0.0,
        null_rate=nulls / values if values else 0.0,
        jitter_p99_ms=1000.0 * max(jitters, default=0.0),
        shocks=tuple(
            Shock(a, b, n, _median(_ptps(traces, a, b))) for a, b, n in shocks(shelf_spans)
        ),
        picks=picks,
    )


def _median(values: FloatArray) -> float:
    """Median of the finite values; NaN (and no warning) when there are none, as for a shock
    shorter than one sample period."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


def _ptps(traces: dict[str, ShelfTraces], t_from: float, t_to: float) -> FloatArray:
    return np.array(
        [
            window_ptp(tr.t, tr.g[:, i], t_from, t_to)
            for tr in traces.values()
            for i in range(tr.g.shape[1])
        ]
    )


def shocks(
    shelf_spans: dict[str, list[tuple[float, float]]], bin_s: float = 0.1, join_s: float = 0.5
) -> tuple[tuple[float, float, int], ...]:
    """Moments when at least half of the shelves (and at least 3) are disturbed at once.

    One person touches one shelf, perhaps two; half the store moving together is the floor or
    the whole fixture shaking, which the simulator should know how often to expect.
    """
    spans = [sp for sp in shelf_spans.values() if sp]
    if len(shelf_spans) < 3 or not spans:
        return ()
    need = max(3, int(np.ceil(0.5 * len(shelf_spans))))
    t_end = max(b for sp in spans for _, b in sp)
    t_start = min(a for sp in spans for a, _ in sp)
    n_bins = int((t_end - t_start) / bin_s) + 2
    count = np.zeros(n_bins, dtype=int)
    for sp in spans:
        covered = np.zeros(n_bins, dtype=bool)
        for a, b in sp:
            covered[int((a - t_start) / bin_s) : int((b - t_start) / bin_s) + 1] = True
        count += covered
    hot = count >= need
    centres = t_start + (np.arange(n_bins) + 0.5) * bin_s
    out = []
    for a, b in disturbed_spans(centres, hot, join_s, lag_s=0.0):
        inside = (centres >= a) & (centres <= b)
        out.append((round(a, 2), round(b, 2), int(count[inside].max())))
    return tuple(out)
