"""Finding the net weight changes of each plate in a noisy, ringing, drifting load-cell signal.

A touch makes a plate (and its neighbours) ring for a second or two, and on a busy floor whole
shelves shake now and then; what matters is only the level the plate settles at afterwards. So
the detector reads each plate through a low-pass filter (``smoothing.LowPassView``) that takes
the shaking out and keeps the steps, and each plate is a two-state machine: *quiet*, following
slow drift, until a sample leaves the baseline by more than the activity threshold; then *active*
until a window of ``settle_s`` holds still (a few spikes allowed), when the settled level minus
the level before gives the net change. Ringing neighbours and spikes settle back where they were
and yield nothing. Samples are handled in small chunks with numpy, since a quiet plate, the usual
case, needs one comparison per chunk.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from walkout.engine.config import EngineConfig
from walkout.engine.smoothing import LowPassView, design_low_pass
from walkout.engine.store import ShelfIndex

FloatArray = NDArray[np.float64]


BUMP_SPREAD = 0.5
"""A level a run leaves and comes back to counts only if its spread (robust sd) is below this
share of its height: a held unit's level rings far less than that, a plate wobbling hard and
slowly (beats of ringing on a loose shelf) does not, though half a wobble lasts long enough."""


@dataclass(frozen=True, slots=True)
class PlateChange:
    """A settled net change of one plate's load.

    Attributes:
        plate: Store-wide plate index.
        t_start: First sample off the baseline (the hand arrived about then).
        t_step: When the load crossed halfway to its new level for the last time (the unit
            was lifted or set down about then).
        t_end: First sample of the still window (the hand had left by then).
        t_settled: Last sample of the still window (when the change became known).
        delta_g: New level minus the level before the activity.
        level_before_g: The baseline before the activity.
        peak_dev_g: Largest deviation from the baseline during the activity.
        level_sd_g: Extra error of ``delta_g`` when it is one step of several inside one run
            of activity (levels read between steps, while the plate still rang); 0 for a
            change read between two still windows.
        split: One of several steps cut out of one run of activity (its steps share
            ``plate`` and ``t_settled``).
    """

    plate: int
    t_start: float
    t_step: float
    t_end: float
    t_settled: float
    delta_g: float
    level_before_g: float
    peak_dev_g: float
    level_sd_g: float = 0.0
    split: bool = False


@dataclass(slots=True)
class DetectorStats:
    activations: int = 0
    changes: int = 0
    null_changes: int = 0
    forced_rezero: int = 0
    splits: int = 0


@dataclass
class ShelfDetector:
    """Net-change detector for the plates of one shelf, fed one weight message at a time."""

    shelf: ShelfIndex
    noise_sd: FloatArray
    config: EngineConfig
    sample_rate_hz: float
    min_step_g: float
    stats: DetectorStats = field(default_factory=DetectorStats)

    def __post_init__(self) -> None:
        n = len(self.shelf.plates)
        cfg = self.config
        self._chunk = cfg.chunk_samples  # read per message: a plain int is cheaper
        taps = design_low_pass(self.sample_rate_hz, cfg.smooth_hz, cfg.smooth_s)
        self._view = LowPassView(taps, n, self.sample_rate_hz)
        # thresholds are on the filtered reading, whose noise is the cell's times the gain
        filtered_sd = self.noise_sd * self._view.noise_gain
        self._settle_n = max(3, round(cfg.settle_s * self.sample_rate_hz))
        self._activity = np.maximum(cfg.activity_sigma * filtered_sd, cfg.activity_min_g)
        self._tolerance = np.maximum(
            cfg.settle_tolerance_sigma * filtered_sd, cfg.settle_tolerance_min_g
        )
        self._raw_activity = np.maximum(cfg.activity_sigma * self.noise_sd, cfg.activity_min_g)
        self._raw_tolerance = np.maximum(
            cfg.settle_tolerance_sigma * self.noise_sd, cfg.settle_tolerance_min_g
        )
        # readings held back for chunking: their times, and their values row after row in one
        # flat list (numpy builds an array from a flat list of floats 2-5x faster than from
        # a list of rows); cleared in place, so a caller may hold them (see ``intake``)
        self._pending_t: list[float] = []
        self._pending_g: list[float | None] = []
        self._flushed_t = -np.inf  # newest time handed on from the intake (see ``add_late``)
        self._width = n
        self.baseline: FloatArray = np.full(n, np.nan)
        self.active = np.zeros(n, dtype=bool)
        self._trigger_abs = np.zeros(n, dtype=np.int64)
        self._checked_abs = np.zeros(n, dtype=np.int64)
        self._hist_t: FloatArray = np.empty(0)
        self._hist_g: FloatArray = np.empty((0, n))  # filtered readings
        self._hist_raw: FloatArray = np.empty((0, n))  # raw readings at the same times
        self._hist_start = 0  # absolute sample index of history row 0
        self._baselines_set = False
        # A settled change is held for ``confirm_s``: if the plate moves again by then (a
        # pressing hand held still for a moment), the two activities are one change.
        self._tentative: dict[int, list[PlateChange]] = {}
        self._origin: dict[int, tuple[float, float, float]] = {}  # col -> (t_start, t_step, peak)
        # A held run that the next run continues: its earlier steps are kept as they are, its
        # last one's level (and when it was reached) starts the next run's levels.
        self._prefix: dict[int, list[PlateChange]] = {}
        self._held_level: dict[int, tuple[float, float]] = {}
        self._split_min = np.full(n, np.inf)
        # runs that ended where they began: (plate, t_start, t_end, peak deviation), for the
        # engine to look at (it takes them after each reading; see ``take_null_runs``)
        self.null_runs: list[tuple[int, float, float, float]] = []

    # -- input -----------------------------------------------------------------------------

    def add(self, t: float, grams: list[float | None]) -> Sequence[PlateChange]:
        """Take one reading of every plate; returns the changes that settled."""
        pending_t = self._pending_t
        pending_t.append(t)
        self._pending_g.extend(grams)
        if len(pending_t) >= self._chunk:
            return self.flush()
        return ()  # no list built for each reading held back

    @property
    def intake(self) -> tuple[list[float], list[float | None]]:
        """The lists ``add`` appends to (times; readings, row after row), for a caller that
        feeds many readings: appending itself, then calling ``flush`` once ``chunk`` times
        are held, does what ``add`` does without a call per reading."""
        return self._pending_t, self._pending_g

    @property
    def chunk(self) -> int:
        """Readings held back before they are processed together."""
        return self._chunk

    def add_late(self, t: float, grams: list[float | None]) -> bool | None:
        """A reading that came after later ones of this shelf (a live feed's late line):
        placed in time order among the readings held back. True if taken; False if it is a
        copy of one held; None if the shelf has already read past its time (too late)."""
        if t <= self._flushed_t:
            return None
        if len(grams) != self._width:
            raise ValueError(
                f"shelf {self.shelf.id!r}: {len(grams)} readings for {self._width} plates"
            )
        pending_t = self._pending_t
        i = bisect.bisect_left(pending_t, t)
        if i < len(pending_t) and pending_t[i] == t:
            return False
        pending_t.insert(i, t)
        at = i * self._width
        self._pending_g[at:at] = grams
        return True

    def flush(self, keep_after: float | None = None) -> list[PlateChange]:
        """Process the samples held back for chunking (as far as the filter lets them out).
        ``keep_after``: readings newer than this stay held, so that late ones still find
        their place among them (``add_late``)."""
        pending_t, pending_g = self._pending_t, self._pending_g
        if not pending_t:
            return []
        if len(pending_g) != len(pending_t) * self._width:
            raise ValueError(
                f"shelf {self.shelf.id!r}: {len(pending_g)} readings for {len(pending_t)} "
                f"times of {self._width} plates"
            )
        n = len(pending_t) if keep_after is None else bisect.bisect_right(pending_t, keep_after)
        if not n:
            return []
        t = np.array(pending_t[:n], dtype=float)
        g = np.array(pending_g[: n * self._width], dtype=float).reshape(n, -1)
        del pending_t[:n]  # in place: the engine holds these lists (``intake``)
        del pending_g[: n * self._width]
        self._flushed_t = float(t[-1])
        t, g, raw = self._view.push(t, g)
        return self._process(t, g, raw) if len(t) else []

    def active_since(self, col: int) -> float | None:
        """When the plate at ``col`` started moving, while it moves or its change awaits
        confirmation; None while it is quiet."""
        if self.active[col]:
            return float(self._hist_t[self._trigger_abs[col] - self._hist_start])
        held = self._tentative.get(col)
        return None if held is None else held[0].t_start

    def raw_calm_through(self, col: int, t: float) -> bool:
        """Has the plate at ``col`` read calm (raw, within the activity threshold of its
        baseline) up to time ``t``, in the samples still inside the filter? Then no activity
        begun before ``t`` can come out of it, and nobody need wait half a filter to know."""
        if self.active[col] or col in self._tentative or not self._baselines_set:
            return False
        if self.processed_t >= t:
            return True
        times, rows = self._view.pending()
        upto = times <= t
        if not upto.any() or times[upto][-1] < t - 2.0 / self.sample_rate_hz:
            return False  # the samples up to t have not all arrived
        off = np.abs(rows[upto, col] - self.baseline[col]) > self._raw_activity[col]
        return not off.any()

    def take_null_runs(self) -> list[tuple[int, float, float, float]]:
        """Runs of activity that ended where they began since last asked (and forget them)."""
        runs, self.null_runs = self.null_runs, []
        return runs

    def set_split_min(self, col: int, grams: float) -> None:
        """Smallest step that may be cut out of a run of activity on the plate at ``col``
        (infinite: runs are never cut, only their net change counts)."""
        self._split_min[col] = grams

    @property
    def processed_t(self) -> float:
        """Time of the last sample processed (samples held for chunking are not)."""
        return float(self._hist_t[-1]) if len(self._hist_t) else -np.inf

    @property
    def levels(self) -> FloatArray:
        """Current settled level of each plate (NaN before the first reading)."""
        return self.baseline

    # -- core -------------------------------------------------------------------------------

    def _process(self, t: FloatArray, g: FloatArray, raw: FloatArray) -> list[PlateChange]:
        if self._all_quiet(t, g, raw):
            return []
        first_new = self._hist_start + len(self._hist_t)
        self._hist_t = np.concatenate([self._hist_t, t])
        self._hist_g = np.concatenate([self._hist_g, g])
        self._hist_raw = np.concatenate([self._hist_raw, raw])
        if not self._baselines_set:
            self._init_baselines(g)

        out: list[PlateChange] = []
        quiet = ~self.active
        if quiet.any():
            self._scan_quiet(first_new, {int(c): first_new for c in np.flatnonzero(quiet)}, out)
            self._follow_drift(g, quiet & ~self.active)
        # A plate that settles inside this chunk may start moving again before its end:
        # scan the rest of the chunk for it, until no plate changes state.
        waiting = [int(c) for c in np.flatnonzero(self.active)]
        while waiting:
            resumed: dict[int, int] = {}
            for col in waiting:
                end = self._try_settle(col)
                if end is not None and end + 1 < self._hist_start + len(self._hist_t):
                    resumed[col] = end + 1
            if not resumed:
                break
            self._scan_quiet(min(resumed.values()), resumed, out)
            waiting = [c for c in resumed if self.active[c]]
        now = float(self._hist_t[-1])
        if self._tentative:
            for col, changes in sorted(self._tentative.items()):
                if now >= changes[-1].t_settled + self.config.confirm_s:
                    out.extend(self._tentative.pop(col))
        self._trim()
        return out

    def _all_quiet(self, t: FloatArray, g: FloatArray, raw: FloatArray) -> bool:
        """The usual case, cheaply: no plate moving, none leaving its baseline, none held.

        Then only drift is followed and the last ``settle_n`` samples are kept.
        """
        if not self._baselines_set or self._tentative or self.active.any():
            return False
        baseline = self.baseline
        if (np.abs(g - baseline) > self._activity).any():
            return False
        # _follow_drift for every plate without its masks, at half the numpy calls. Its masked
        # copy is column-major, so each column is summed pairwise: the Fortran-order copy here
        # keeps those sums (and the baselines) the same to the last bit.
        mean = np.asfortranarray(g).sum(axis=0) / len(g)
        baseline += self.config.baseline_follow * (mean - baseline)
        keep = self._settle_n
        self._hist_start += len(self._hist_t) + len(t) - min(keep, len(self._hist_t) + len(t))
        if len(t) >= keep:  # the chunk alone holds what is kept (copies: no shared memory)
            self._hist_t, self._hist_g = t[-keep:].copy(), g[-keep:].copy()
            self._hist_raw = raw[-keep:].copy()
        else:
            self._hist_t = np.concatenate([self._hist_t, t])[-keep:]
            self._hist_g = np.concatenate([self._hist_g, g])[-keep:]
            self._hist_raw = np.concatenate([self._hist_raw, raw])[-keep:]
        return True

    def close(self) -> list[PlateChange]:
        """End of the stream: every change still held for confirmation is final."""
        out = self.flush()
        t, g, raw = self._view.drain()
        if len(t):
            out.extend(self._process(t, g, raw))
        out.extend(ch for c in sorted(self._tentative) for ch in self._tentative[c])
        self._tentative.clear()
        return out

    def _init_baselines(self, g: FloatArray) -> None:
        # the filtered view starts once every plate has read, and fills dropped values
        self.baseline[:] = np.median(g, axis=0)
        self._baselines_set = True

    def _scan_quiet(self, from_abs: int, plates: dict[int, int], out: list[PlateChange]) -> None:
        """Look for quiet plates leaving their baseline, each from its own absolute row on."""
        rows = self._hist_g[from_abs - self._hist_start :]
        cols = np.fromiter(plates, dtype=np.int64)
        off = np.abs(rows[:, cols] - self.baseline[cols]) > self._activity[cols]
        starts = np.fromiter(plates.values(), dtype=np.int64) - from_abs
        off &= np.arange(len(rows))[:, None] >= starts[None, :]
        for k in np.flatnonzero(off.any(axis=0)):
            col = int(cols[k])
            trigger = from_abs + int(np.argmax(off[:, k]))
            held_run = self._tentative.pop(col, None)
            if held_run is not None:
                held = held_run[-1]
                t_trigger = float(self._hist_t[trigger - self._hist_start])
                if t_trigger <= held.t_settled + self.config.confirm_s:
                    self.baseline[col] = held.level_before_g
                    self._origin[col] = (held.t_start, held.t_step, held.peak_dev_g)
                    self._prefix[col] = held_run[:-1]
                    self._held_level[col] = (held.level_before_g + held.delta_g, held.t_step)
                else:
                    out.extend(held_run)
            self.active[col] = True
            self._trigger_abs[col] = trigger
            self._checked_abs[col] = trigger
            self.stats.activations += 1

    def _follow_drift(self, g: FloatArray, follow: NDArray[np.bool_]) -> None:
        """Let the baselines of plates that stayed quiet follow slow drift."""
        if not follow.any():
            return
        mean = g[:, follow].mean(axis=0)  # the view never holds NaN: gaps are filled
        idx = np.flatnonzero(follow)
        self.baseline[idx] += self.config.baseline_follow * (mean - self.baseline[idx])

    def _try_settle(self, col: int) -> int | None:
        """Look for the first still window after the trigger, among windows not yet checked.

        A window is still when the raw readings hold still (a few spikes allowed), as on a
        calm shelf, or when the filtered ones do, as on a shaking shelf whose level has not
        changed: whichever comes first. Returns the absolute row of the still window's last
        sample when the plate settled.
        """
        n = self._settle_n
        trig = self._trigger_abs[col] - self._hist_start
        values = self._hist_g[trig + 1 :, col]  # the view never holds NaN: gaps are filled
        times = self._hist_t[trig + 1 :]
        raw = self._hist_raw[trig + 1 :, col]
        if len(values) < n:
            self._maybe_force(col)
            return None
        checked = max(0, self._checked_abs[col] - self._trigger_abs[col])
        start = max(0, checked - n + 1)
        self._checked_abs[col] = self._hist_start + len(self._hist_t) - 1
        tol_raw, tol = self._raw_tolerance[col], self._tolerance[col]
        # raw windows only from half a filter after the trigger: the filtered reading leaves
        # the baseline up to that much before the raw one does
        raw_from = max(start, self._view.delay)
        w_raw = _first_still(raw, n, raw_from, tol_raw, self.config.settle_outliers)
        w_filtered = _first_still(values, n, start, tol, 0)
        if w_raw is None and w_filtered is None:
            self._maybe_force(col)
            return None
        if w_filtered is None or (w_raw is not None and w_raw <= w_filtered):
            w = int(w_raw)  # type: ignore[arg-type]
            window = raw[w : w + n]
            med_w = float(np.median(window))
            inliers = window[np.abs(window - med_w) <= tol_raw]
            level = float(inliers.mean()) if len(inliers) else med_w
            t_still = float(times[w])
        else:
            w = int(w_filtered)
            level = float(np.median(values[w : w + n]))
            # the filtered reading at times[w] already saw half a filter ahead: the raw one
            # was still from about then on
            t_still = float(times[w]) - self._view.delay / self.sample_rate_hz
        end_abs = self._hist_start + trig + 1 + w + n - 1
        before = float(self.baseline[col])
        active_vals = values[: w + 1]
        peak = float(np.max(np.abs(active_vals - before))) if len(active_vals) else 0.0
        t_start, t_step, earlier_peak = self._origin.pop(
            col, (float(self._hist_t[trig]), float(times[0]), 0.0)
        )
        prefix = self._prefix.pop(col, [])
        held_level = self._held_level.pop(col, None)
        # last sample still on the old side of the halfway mark: the step came right after it
        # (when this run never was on the old side, the step was in the run it continues)
        side = (active_vals - (before + level) / 2.0) * np.sign(level - before)
        old_side = np.flatnonzero(side < 0)
        if len(old_side):
            t_step = float(times[min(int(old_side[-1]) + 1, w)])
        self.active[col] = False
        delta = level - before
        whole = PlateChange(
            plate=self.shelf.plates[col],
            t_start=t_start,
            t_step=t_step,
            t_end=max(t_still, t_step),
            t_settled=float(times[w + n - 1]),
            delta_g=delta,
            level_before_g=before,
            peak_dev_g=max(peak, earlier_peak),
        )
        null = abs(delta) < self.min_step_g
        parts = self._split(
            whole, held_level, raw[: w + 1], times[: w + 1], self._split_min[col], flat_only=null
        )
        if null and len(parts) != 2:
            # Back where it was, or a hand resting still for a moment: keep the old baseline
            # (slow drift is followed while quiet), so a press that looked still is no step.
            # (A run back where it began that held one flat level a unit away for a while, a
            # unit set down and another lifted by two hands, is cut into its two steps; more
            # levels than that are a plate wobbling, not units coming and going.)
            self.stats.null_changes += 1
            self.null_runs.append((whole.plate, whole.t_start, whole.t_end, whole.peak_dev_g))
            if prefix:  # the held run's earlier steps stand
                t_settled = float(times[w + n - 1])
                self._tentative[col] = [replace(c, t_settled=t_settled) for c in prefix]
            return int(end_abs)
        self.baseline[col] = level
        self.stats.changes += 1
        self._tentative[col] = [replace(c, t_settled=whole.t_settled) for c in prefix] + parts
        return int(end_abs)

    def _split(
        self,
        whole: PlateChange,
        held: tuple[float, float] | None,
        values: FloatArray,
        times: FloatArray,
        min_step: float,
        flat_only: bool = False,
    ) -> list[PlateChange]:
        """Cut a run of activity into the steps it holds: levels that lasted a while between
        them, however much the plate rang, each at least ``min_step`` from the next.

        ``flat_only``: cut only if every level between the steps held flat (for a run that
        ends where it began, which a plate wobbling hard and slowly makes too).

        ``held``: the level a held run settled at, and when it was reached, if this run
        continues it (the run starts there, not at the baseline).
        """
        cfg = self.config
        min_len = max(3, round(cfg.split_min_s * self.sample_rate_hz))
        if not np.isfinite(min_step) or len(values) == 0:
            return [whole]
        # the run is framed by the levels known before and after it, so a step right at its
        # start or end is found like any other
        before = whole.level_before_g
        after = before + whole.delta_g
        front = before if held is None else held[0]
        padded = np.concatenate([np.full(min_len, front), values, np.full(min_len, after)])
        cuts = find_steps(padded, min_step, min_len)
        if not cuts and held is None:
            return [whole]
        guard = max(1, round(cfg.split_guard_s * self.sample_rate_hz))
        bounds = [0, *cuts, len(padded)]
        # one level per stretch between cuts, read away from the steps: first the baseline
        # (and a held run's level), last the settled level. at[i]: when level i was reached.
        levels: list[float] = [before]
        errs: list[float] = [0.0]
        spreads: list[float] = [0.0]  # robust sd of the readings of each level between cuts
        at: list[float] = [whole.t_start]
        span: list[int] = [min_len]
        if held is not None:
            levels.append(held[0])
            errs.append(0.0)
            spreads.append(0.0)
            at.append(held[1])
            span.append(min_len)
        last = len(bounds) - 2
        for i in range(1, last + 1):
            lo, hi = bounds[i], bounds[i + 1]
            if i == last:
                levels.append(after)
                errs.append(0.0)
                spreads.append(0.0)
            else:
                part = (
                    padded[lo + guard : hi - guard] if hi - lo >= 2 * guard + 3 else padded[lo:hi]
                )
                levels.append(float(np.median(part)))
                spreads.append(_robust_sd(part, levels[-1]))
                noise = float(np.std(part)) / math.sqrt(max(len(part) / 3.0, 1.0))
                errs.append(math.hypot(noise, cfg.split_level_sd_g))
            at.append(float(times[min(max(lo - min_len, 0), len(times) - 1)]))
            span.append(hi - lo)
        if not cuts:  # the held level, then straight to the settled one
            gap = np.abs(values - front) > abs(after - front) / 2.0
            levels.append(after)
            errs.append(0.0)
            spreads.append(0.0)
            at.append(float(times[int(np.argmax(gap))]) if gap.any() else float(times[-1]))
            span.append(len(values))
        # merge levels too close to be a unit apart, the closest pair first (never the
        # baseline or the settled level)
        while len(levels) > 2:
            gaps = [abs(levels[k] - levels[k - 1]) for k in range(1, len(levels))]
            k = 1 + int(np.argmin(gaps))
            if gaps[k - 1] >= min_step:
                break
            if k - 1 == 0:
                drop = k
            elif k == len(levels) - 1:
                drop = k - 1
            else:
                drop = k if span[k] <= span[k - 1] else k - 1
            # the steps into and out of the dropped level become one, at the bigger one's time
            into = abs(levels[drop] - levels[drop - 1])
            out_of = abs(levels[drop + 1] - levels[drop])
            if into > out_of:
                at[drop + 1] = at[drop]
            for seq in (levels, errs, at, span, spreads):
                del seq[drop]
        if len(levels) < 3:
            return [whole]
        if flat_only and any(
            spreads[k]
            > BUMP_SPREAD * min(abs(levels[k] - levels[k - 1]), abs(levels[k + 1] - levels[k]))
            for k in range(1, len(levels) - 1)
        ):
            return [whole]
        out = []
        last = len(levels) - 1
        for k in range(1, len(levels)):
            out.append(
                PlateChange(
                    plate=whole.plate,
                    t_start=whole.t_start if k == 1 else at[k - 1],
                    t_step=at[k],
                    t_end=whole.t_end if k == last else at[k + 1],
                    t_settled=whole.t_settled,
                    delta_g=levels[k] - levels[k - 1],
                    level_before_g=levels[k - 1],
                    peak_dev_g=whole.peak_dev_g,
                    level_sd_g=math.hypot(errs[k], errs[k - 1]),
                    split=True,
                )
            )
        self.stats.splits += 1
        return out

    def _maybe_force(self, col: int) -> None:
        """Re-zero a plate that has not held still for ``max_active_s`` (a stuck or broken cell)."""
        trig = self._trigger_abs[col] - self._hist_start
        if self._hist_t[-1] - self._hist_t[trig] > self.config.max_active_s:
            self.baseline[col] = float(np.median(self._hist_g[-self._settle_n :, col]))
            self.active[col] = False
            self.stats.forced_rezero += 1

    def _trim(self) -> None:
        """Keep only the history that an active plate or the next still window may need."""
        keep_from = self._hist_start + len(self._hist_t) - self._settle_n
        if self.active.any():
            keep_from = min(keep_from, int(self._trigger_abs[self.active].min()))
        drop = keep_from - self._hist_start
        if drop > 0:
            self._hist_t = self._hist_t[drop:]
            self._hist_g = self._hist_g[drop:]
            self._hist_raw = self._hist_raw[drop:]
            self._hist_start = keep_from


def _first_still(
    values: FloatArray, n: int, start: int, tolerance: float, outliers: int
) -> int | None:
    """First window of ``n`` values, from ``start`` on, with at most ``outliers`` values
    farther than ``tolerance`` from the window's median."""
    if len(values) - start < n:
        return None
    cand = sliding_window_view(values[start:], n)
    med = np.median(cand, axis=1)
    off = (np.abs(cand - med[:, None]) > tolerance).sum(axis=1)
    still = np.flatnonzero(off <= outliers)
    return start + int(still[0]) if len(still) else None


def find_steps(values: FloatArray, min_step: float, min_len: int) -> list[int]:
    """Where a run's level changes by ``min_step`` or more, by binary segmentation.

    Each stretch is cut where splitting it into two means explains it best; a cut stands if
    the two means are at least ``min_step`` apart and both sides last ``min_len`` samples.
    Ringing around a level averages out of the means, so a level need not hold still.
    """
    cuts: list[int] = []
    stack = [(0, len(values))]
    while stack:
        a, b = stack.pop()
        m = b - a
        if m < 2 * min_len:
            continue
        cs = np.cumsum(values[a:b])
        k = np.arange(min_len, m - min_len + 1)
        left = cs[k - 1] / k
        right = (cs[-1] - cs[k - 1]) / (m - k)
        gain = k * (m - k) * (left - right) ** 2
        i = int(np.argmax(gain))
        if abs(left[i] - right[i]) < min_step:
            bump = _find_bump(values[a:b], min_step, min_len)
            if bump is not None:  # no single cut, but a level in the middle: two cuts
                lo, hi = a + bump[0], a + bump[1]
                cuts.extend([lo, hi])
                stack.extend([(a, lo), (lo, hi), (hi, b)])
            continue
        cut = a + int(k[i])
        cuts.append(cut)
        stack.extend([(a, cut), (cut, b)])
    return sorted(cuts)


def _find_bump(values: FloatArray, min_step: float, min_len: int) -> tuple[int, int] | None:
    """The stretch ``[i, j)`` whose level stands out most from the rest, if it stands out by
    ``min_step`` from both sides, each side lasting ``min_len`` samples, itself too.

    One cut cannot find a level that a run leaves and comes back to (a unit set down and
    another lifted a second later, by two hands): the means either side of any single cut
    differ by less than the level does.
    """
    m = len(values)
    if m < 3 * min_len:
        return None
    cs = np.concatenate([[0.0], np.cumsum(values)])
    i = np.arange(min_len, m - 2 * min_len + 1)[:, None]
    j = np.arange(2 * min_len, m - min_len + 1)[None, :]
    n_in = j - i
    valid = n_in >= min_len
    inner = (cs[j] - cs[i]) / np.maximum(n_in, 1)
    outer = (cs[-1] - (cs[j] - cs[i])) / (m - n_in)
    gain = np.where(valid, n_in * (m - n_in) * (inner - outer) ** 2, -1.0)
    a, b = np.unravel_index(int(np.argmax(gain)), gain.shape)
    lo, hi = int(i[a, 0]), int(j[0, b])
    if gain[a, b] < 0:
        return None
    mean_in = inner[a, b]
    if min(abs(mean_in - cs[lo] / lo), abs(mean_in - (cs[-1] - cs[hi]) / (m - hi))) < min_step:
        return None
    # judged by medians (a spike moves a mean by tens of grams), and the level must have
    # held: a plate ringing hard beats slowly enough to pass for a level, but not a flat one
    middle = values[lo:hi]
    level = float(np.median(middle))
    height = min(
        abs(level - float(np.median(values[:lo]))), abs(level - float(np.median(values[hi:])))
    )
    spread = _robust_sd(middle, level)
    if height < min_step or spread > BUMP_SPREAD * height:
        return None
    return lo, hi


def _robust_sd(values: FloatArray, centre: float) -> float:
    """Spread of readings about their level, as a normal sd from the median absolute deviation:
    a spike or two of a ringing plate does not widen it."""
    return 1.4826 * float(np.median(np.abs(values - centre)))
