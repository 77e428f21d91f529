"""Accuracy of walkout and of the naive baseline on simulated stores, per preset.

    python bench/accuracy.py                     # busy and hard, seeds 1-20
    python bench/accuracy.py --presets hard --seeds 1-5

Prints, per preset and engine: accounts, exact receipts, review share, unit precision and recall.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import recording
from walkout.engine.config import live_config
from walkout.eval.baseline import NaiveEngine
from walkout.eval.score import Score, combine, score_receipts, score_table
from walkout.recording.files import read_truth
from walkout.replay import replay


def run_one(
    job: tuple[str, int, bool, float | None],
) -> tuple[str, int, Score, Score, list[str]]:
    preset, seed, live, exit_window = job
    folder = recording(preset, seed)
    truth = read_truth(folder)
    config = None
    if live:
        config = live_config() if exit_window is None else live_config(exit_window_s=exit_window)
    ours = replay(folder, config=config)
    naive = replay(folder, engine_factory=NaiveEngine)
    s_ours = score_receipts(truth, [r.to_out() for r in ours.receipts])
    s_naive = score_receipts(truth, [r.to_out() for r in naive.receipts])
    wrong = [
        f"{preset} seed {seed} {d.account}: truth {d.truth_items} got {d.predicted_items}"
        + (" (review)" if d.needs_review else "")
        for d in s_ours.details
        if not d.exact
    ]
    return preset, seed, s_ours, s_naive, wrong


def parse_seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="busy,hard")
    parser.add_argument("--seeds", default="1-20")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--show-wrong", action="store_true", help="List every wrong receipt.")
    parser.add_argument(
        "--live",
        action="store_true",
        help="Run the engine as `walkout serve` does (engine.config.live_config).",
    )
    parser.add_argument(
        "--exit-window",
        type=float,
        default=None,
        help="With --live: its exit_window_s (default 0.15; 0.5: off).",
    )
    args = parser.parse_args()
    presets = args.presets.split(",")
    jobs = [(p, s, args.live, args.exit_window) for p in presets for s in parse_seeds(args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run_one, jobs))
    console = Console()
    ours_rows: list[tuple[str, Score]] = []
    naive_rows: list[tuple[str, Score]] = []
    for preset in presets:
        mine = [r for r in results if r[0] == preset]
        ours_rows.append((preset, combine(r[2] for r in mine)))
        naive_rows.append((f"{preset} (naive baseline)", combine(r[3] for r in mine)))
    table = score_table(ours_rows + naive_rows, name_header="preset", total=False)
    table.title = f"walkout vs naive baseline, seeds {args.seeds}" + (
        " (live config)" if args.live else ""
    )
    console.print(table)
    for preset in presets:
        details = [d for r in results if r[0] == preset for d in r[2].details]
        silent = sum(1 for d in details if not d.exact and not d.needs_review)
        console.print(
            f"{preset}: {silent} of {len(details)} receipts wrong and not sent to review "
            f"({100 * silent / max(len(details), 1):.1f} %)"
        )
    if args.show_wrong:
        for r in results:
            for line in r[4]:
                console.print(line, soft_wrap=True)


if __name__ == "__main__":
    main()
