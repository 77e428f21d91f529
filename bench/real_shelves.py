"""How harsh are real shelves, and is the simulator at least as harsh?

Imports the real AutoCheckout case (read from ../shared at run time, never copied), measures its
load cells with ``walkout.importers.shelf_report`` and, given a simulated recording, measures it
with the same code and prints both side by side::

    python bench/real_shelves.py
    python bench/real_shelves.py --sim runs/hard-seed1 --figure docs/real-vs-sim-traces.png
    python bench/real_shelves.py --simulate hard --minutes 10 --seed 1 --plain \
        --figure docs/real-vs-sim-traces.png

Every figure is defined in ``shelf_report``/``shelf_stats``; "p95" is the 95th percentile across
plates, and pick figures are the median (and maximum) over the recording's isolated true actions
(no other action on the same or a stacked shelf within 6 s). With at most four such actions the
gaps are listed one by one, signed.

The real cells are read at 60 Hz, the simulated ones at 30 Hz: the real ringing (9-25 Hz) that
``hard`` reproduces folds back above 15 Hz in the simulated readings (20 Hz reads as 10 Hz),
as it would on a real cell read that slowly. Per-minute counts are over the whole recording; the
real case has a shopper inside throughout, a simulated store is empty now and then.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from walkout.importers.autocheckout import import_autocheckout
from walkout.importers.shelf_report import (
    PickMeasure,
    ShelfReport,
    ShelfTraces,
    TrueAction,
    load_traces,
    measure_recording,
    read_true_actions,
)

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1].parent / "shared" / "data" / "autocheckout-cps-test-01"
)


# --- the table -------------------------------------------------------------------------------


def _f(v: float, digits: int = 2) -> str:
    return "-" if v is None or not np.isfinite(v) else f"{v:.{digits}f}"


def _med_p95(a: np.ndarray, digits: int = 2) -> str:
    a = a[np.isfinite(a)]
    if a.size == 0:
        return "-"
    return f"{_f(float(np.median(a)), digits)} / {_f(float(np.percentile(a, 95)), digits)}"


def _med_max(values: Sequence[float], digits: int = 1) -> str:
    a = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if a.size == 0:
        return "-"
    return f"{_f(float(np.median(a)), digits)} / {_f(float(a.max()), digits)}"


def _per_pick(
    r: ShelfReport, fn: Callable[[PickMeasure], float], digits: int = 1, signed: bool = False
) -> str:
    vals = [fn(p) for p in r.picks if p.touch is not None and p.isolated]
    if signed and len(vals) <= 4:
        return ", ".join(f"{v:+.{digits}f}" for v in vals) or "-"
    return _med_max([abs(v) for v in vals] if signed else vals, digits)


def _burst_max(bursts: Sequence[object], attr: str) -> float:
    vals = [getattr(b, attr) for b in bursts]
    return float(max(vals)) if vals else float("nan")


def _burst_median(bursts: Sequence[object], attr: str) -> float:
    vals = [getattr(b, attr) for b in bursts]
    return float(np.median(vals)) if vals else float("nan")


def rows(r: ShelfReport) -> list[tuple[str, str]]:
    """The figures of one report, as (label, value) rows."""
    minutes = r.duration_s / 60.0
    shock_ptp = [s.median_ptp_g for s in r.shocks]
    return [
        ("plates / shelves", f"{r.plates} / {r.shelves}"),
        ("duration s / rate Hz", f"{r.duration_s:.1f} / {r.rate_hz:.1f}"),
        ("noise sd g, sample-to-sample (median / p95)", _med_p95(r.noise_sd_g)),
        ("noise sd g, level in 1 s windows (median / p95)", _med_p95(r.level_sd_g)),
        ("|drift| g/min (median / p95)", _med_p95(np.abs(r.drift_g_per_min))),
        ("time disturbed, share (median / p95)", _med_p95(r.active_share)),
        (
            "spikes per plate-hour (all / isolated)",
            f"{_f(r.spikes_per_plate_hour, 1)} / {_f(r.isolated_spikes_per_plate_hour, 1)}",
        ),
        ("missing weight lines %", _f(100 * r.missing_line_rate, 3)),
        ("null readings %", _f(100 * r.null_rate, 3)),
        ("timestamp jitter p99 ms (worst shelf)", _f(r.jitter_p99_ms, 1)),
        (
            "store-wide shocks: count (per min)",
            f"{len(r.shocks)} ({_f(len(r.shocks) / minutes if minutes else float('nan'), 1)})",
        ),
        ("shock duration s (median / max)", _med_max([s.end_s - s.start_s for s in r.shocks])),
        ("shock plate ptp g (median / max)", _med_max(shock_ptp)),
        (
            "true actions: isolated & found / all",
            f"{sum(p.touch is not None and p.isolated for p in r.picks)} / {len(r.picks)}",
        ),
        ("unit gap % on the action's plates", _per_pick(r, lambda p: p.gap_pct, signed=True)),
        ("unit gap % on the whole shelf", _per_pick(r, lambda p: p.shelf_gap_pct, signed=True)),
        (
            "touch transient s (median / max)",
            _per_pick(r, lambda p: p.touch.duration_s if p.touch else np.nan, 2),
        ),
        (
            "same shelf, other plates: max ptp g",
            _per_pick(r, lambda p: _burst_max(p.neighbours, "ptp_g")),
        ),
        (
            "same shelf, other plates: median ptp g",
            _per_pick(r, lambda p: _burst_median(p.neighbours, "ptp_g")),
        ),
        (
            "same shelf, other plates: max burst s",
            _per_pick(r, lambda p: _burst_max(p.neighbours, "duration_s"), 2),
        ),
        (
            "same shelf, other plates: max |lasting step| g",
            _per_pick(r, lambda p: max((abs(b.step_g) for b in p.neighbours), default=np.nan)),
        ),
        (
            "stacked shelves: max ptp g",
            _per_pick(r, lambda p: _burst_max(p.stacked, "ptp_g")),
        ),
        (
            "stacked shelves: median ptp g",
            _per_pick(r, lambda p: _burst_median(p.stacked, "ptp_g")),
        ),
        (
            "stacked shelves: max burst s",
            _per_pick(r, lambda p: _burst_max(p.stacked, "duration_s"), 2),
        ),
    ]


def pick_rows(r: ShelfReport, limit: int = 12) -> list[list[str]]:
    """One row per true action: where, listed and measured step, transient, bursts."""
    out = []
    for p in r.picks[:limit]:
        tr = p.touch
        out.append(
            [
                f"{p.action.t:.1f}",
                ",".join(p.action.plates),
                p.action.sku,
                f"{p.unit_g * abs(p.action.qty):.1f}",
                _f(tr.step_g, 1) if tr else "-",
                _f(p.gap_pct, 1),
                _f(p.shelf_gap_pct, 1),
                f"{tr.start_s - p.action.t:+.2f}" if tr else "-",
                _f(tr.duration_s, 2) if tr else "-",
                _f(_burst_max(p.neighbours, "ptp_g"), 1),
                _f(_burst_max(p.neighbours, "duration_s"), 2),
                _f(_burst_max(p.stacked, "ptp_g"), 1),
                "yes" if p.isolated else "no",
            ]
        )
    return out


PICK_HEADER = [
    "t",
    "plates",
    "sku",
    "listed g",
    "step g",
    "gap %",
    "shelf gap %",
    "start-t s",
    "transient s",
    "nbr ptp g",
    "nbr s",
    "stack ptp g",
    "isolated",
]


def print_tables(reports: list[ShelfReport], plain: bool = False) -> None:
    """The side-by-side summary, then each recording's true actions."""
    table = [rows(r) for r in reports]
    labels = [label for label, _ in table[0]]
    try:
        if plain:
            raise ImportError
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        width = max(len(x) for x in labels)
        print(" | ".join(["figure".ljust(width)] + [r.name for r in reports]))
        for i, label in enumerate(labels):
            print(" | ".join([label.ljust(width)] + [t[i][1] for t in table]))
        for r in reports:
            print(f"\n{r.name}: true actions")
            print(" | ".join(PICK_HEADER))
            for row in pick_rows(r):
                print(" | ".join(row))
        return
    console = Console(width=200)
    summary = Table(title="Real vs simulated shelves")
    summary.add_column("figure")
    for r in reports:
        summary.add_column(r.name, justify="right")
    for i, label in enumerate(labels):
        summary.add_row(label, *[t[i][1] for t in table])
    console.print(summary)
    for r in reports:
        picks = Table(title=f"{r.name}: true actions (first 12)")
        for h in PICK_HEADER:
            picks.add_column(h, justify="right")
        for row in pick_rows(r):
            picks.add_row(*row)
        console.print(picks)


# --- the figure ------------------------------------------------------------------------------


def _isolated_picks(folder: Path, limit: int = 2, gap_s: float = 6.0) -> list[TrueAction]:
    """Up to ``limit`` actions with no other action within ``gap_s``, the clearest to look at."""
    actions = read_true_actions(folder)
    out = []
    for i, a in enumerate(actions):
        near = [b for j, b in enumerate(actions) if j != i and abs(b.t - a.t) < gap_s]
        if not near:
            out.append(a)
        if len(out) == limit:
            break
    return out or actions[:limit]


def _plot_action(
    axes: Sequence[object],
    traces: dict[str, ShelfTraces],
    shelf_of: dict[str, str],
    action: TrueAction,
    title: str,
) -> None:
    shelf = traces[shelf_of[action.plates[0]]]
    t0 = action.t
    window = (shelf.t >= t0 - 2.5) & (shelf.t <= t0 + 5.0)
    base = (shelf.t >= t0 - 2.5) & (shelf.t < t0 - 1.5)
    full_ax, zoom_ax = axes
    for i, pid in enumerate(shelf.plate_ids):
        x = shelf.g[:, i] - np.nanmedian(shelf.g[base, i])
        touched = pid in action.plates
        style = {"lw": 1.6, "zorder": 3} if touched else {"lw": 0.6, "alpha": 0.8}
        label = pid if touched else None
        for ax in (full_ax, zoom_ax):
            ax.plot(shelf.t[window] - t0, x[window], label=label, **style)  # type: ignore[attr-defined]
    full_ax.set_title(title, fontsize=9)  # type: ignore[attr-defined]
    full_ax.legend(fontsize=7, loc="lower left")  # type: ignore[attr-defined]
    full_ax.set_ylabel("g (zeroed)")  # type: ignore[attr-defined]
    zoom_ax.set_ylim(-40, 40)  # type: ignore[attr-defined]
    zoom_ax.set_ylabel("g, zoom")  # type: ignore[attr-defined]
    zoom_ax.set_xlabel("s from the action's truth time")  # type: ignore[attr-defined]
    for ax in (full_ax, zoom_ax):
        ax.grid(alpha=0.3)  # type: ignore[attr-defined]


def plot_real_vs_sim(real: Path, sim: Path | None, path: Path) -> None:
    """Traces of the touched plate(s) (bold) and the rest of their shelf (thin), zeroed, around
    two true actions: real on the left, simulated on the right when a recording is given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sides = [("real", real)] + ([("sim", sim)] if sim is not None else [])
    fig, axes = plt.subplots(4, len(sides), figsize=(7 * len(sides), 12), squeeze=False)
    for col, (name, folder) in enumerate(sides):
        store, traces = load_traces(folder)
        shelf_of = {p.id: p.shelf for p in store.plates}
        weights = {p.sku: p.weight_g for p in store.products}
        for k, action in enumerate(_isolated_picks(folder)):
            title = (
                f"{name}: {action.sku} ({weights.get(action.sku, float('nan')):.0f} g) "
                f"at t={action.t:.1f} s on {', '.join(action.plates)}"
            )
            _plot_action([axes[2 * k][col], axes[2 * k + 1][col]], traces, shelf_of, action, title)
    fig.suptitle(
        "Bold: the plates of a true action; thin: the other plates of its shelf. "
        "Zeroed on the median 2.5-1.5 s before; lower panels zoom to +-40 g.",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


# --- main ------------------------------------------------------------------------------------


def _simulate(preset: str, seed: int, minutes: float, out: Path) -> Path:
    try:
        from walkout.sim import simulate
    except ImportError as exc:
        raise SystemExit(f"--simulate needs walkout.sim.simulate: {exc}") from exc
    simulate(out, preset, seed, minutes)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="AutoCheckout case")
    parser.add_argument("--sim", type=Path, help="a simulated recording folder to compare")
    parser.add_argument("--simulate", metavar="PRESET", help="run walkout.sim with this preset")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--figure", type=Path, help="write the real vs sim traces PNG here")
    parser.add_argument("--plain", action="store_true", help="plain text instead of rich")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no AutoCheckout case at {args.data} (give --data)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="walkout-real-") as tmp:
        real = Path(tmp) / "real"
        import_autocheckout(args.data, real)
        reports = [measure_recording(real, name=f"real ({args.data.name})")]
        sim = args.sim
        if args.simulate:
            sim = _simulate(args.simulate, args.seed, args.minutes, Path(tmp) / "sim")
        if sim is not None:
            label = f"sim ({args.simulate})" if args.simulate else f"sim ({sim.name})"
            reports.append(measure_recording(sim, name=label))
        print_tables(reports, plain=args.plain)
        rates = sorted({r.rate_hz for r in reports})
        if len(rates) > 1:
            print(
                f"\nrates differ ({', '.join(f'{r:g}' for r in rates)} Hz): vibration above half "
                f"the lower rate ({rates[0] / 2:g} Hz) aliases in its readings"
            )
        if args.figure:
            plot_real_vs_sim(real, sim, args.figure)
            print(f"wrote {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
