"""Camera stage quality: tracking against truth (MOTA, IDF1, id switches) and receipts end to end.

    python bench/vision_quality.py                           # busy and hard, seeds 1-3, 5 min
    python bench/vision_quality.py --presets hard --seeds 1-2 --minutes 3
    python bench/vision_quality.py --stand-gap 0.4   # shoppers never stand closer than 0.4 m
    python bench/vision_quality.py --reuse-tracks    # engine changed, stage not: minutes

For each simulated recording with video: ``walkout track`` makes a second recording whose
tracks come from the pixels (weights, entries and exits unchanged); both are scored for tracking
against the true positions (``motmetrics``, a track within 0.5 m of a person may match it) and
replayed by the engine, whose receipts are scored against truth. The simulator's own tracks
carry the noise, swaps and losses of its preset, so the comparison is between two imperfect
trackers. Short recordings and few seeds, because rendering and tracking every camera of a store
takes minutes per recording on this shared machine; the figures move by a few points between
seed sets.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vision_common import tracked_recording, video_recording
from walkout.eval.score import Score, combine, score_receipts
from walkout.recording.files import read_truth
from walkout.replay import replay
from walkout.vision.metrics import TrackingScore, score_tracks


def run_one(
    job: tuple[str, int, float, float, bool],
) -> tuple[str, int, TrackingScore, TrackingScore, Score, Score]:
    preset, seed, minutes, stand_gap_m, reuse = job
    rec = video_recording(preset, seed, minutes, stand_gap_m)
    out = tracked_recording(rec, reuse=reuse)
    truth = read_truth(rec)
    sim_receipts = [r.to_out() for r in replay(rec).receipts]
    vid_receipts = [r.to_out() for r in replay(out).receipts]
    return (
        preset,
        seed,
        score_tracks(rec, out),
        score_tracks(rec, rec),
        score_receipts(truth, sim_receipts),
        score_receipts(truth, vid_receipts),
    )


def parse_seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def _pool(scores: list[TrackingScore]) -> tuple[float, float, int, float]:
    """MOTA and IDF1 pooled by objects (weighted), switches summed, rms error weighted."""
    n = sum(s.objects for s in scores) or 1
    mota = sum(s.mota * s.objects for s in scores) / n
    idf1 = sum(s.idf1 * s.objects for s in scores) / n
    err = sum(s.mean_error_m * s.objects for s in scores) / n
    return mota, idf1, sum(s.id_switches for s in scores), err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="busy,hard")
    parser.add_argument("--seeds", default="1-3")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--stand-gap",
        type=float,
        default=0.0,
        help="simulate with standing shoppers kept this far apart (SimConfig.stand_gap_m)",
    )
    parser.add_argument(
        "--reuse-tracks",
        action="store_true",
        help="reuse the video tracks of an earlier run if walkout.vision is unchanged since "
        "(to measure an engine change; the stage's code is fingerprinted)",
    )
    args = parser.parse_args()
    presets = args.presets.split(",")
    jobs = [
        (p, s, args.minutes, args.stand_gap, args.reuse_tracks)
        for p in presets
        for s in parse_seeds(args.seeds)
    ]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(run_one, jobs))
    console = Console()
    table = Table(title=f"tracking vs truth, seeds {args.seeds}, {args.minutes:g} min each")
    for col in ("preset", "tracks", "people", "MOTA", "IDF1", "id switches", "rms error m"):
        table.add_column(col)
    for preset in presets:
        mine = [r for r in results if r[0] == preset]
        for label, idx in (("video", 2), ("simulator", 3)):
            scores = [r[idx] for r in mine]
            mota, idf1, sw, err = _pool(scores)
            objs = sum(s.objects for s in scores)
            table.add_row(
                preset, label, str(objs), f"{mota:.3f}", f"{idf1:.3f}", str(sw), f"{err:.3f}"
            )
    console.print(table)
    table = Table(title="receipts end to end: engine on simulator tracks vs on video tracks")
    for col in ("preset", "tracks", "accounts", "exact %", "review %", "precision", "recall"):
        table.add_column(col)
    for preset in presets:
        mine = [r for r in results if r[0] == preset]
        for label, idx in (("simulator", 4), ("video", 5)):
            s = combine(r[idx] for r in mine)
            table.add_row(
                preset, label, str(s.accounts), f"{100 * s.exact_rate:.1f}",
                f"{100 * s.review_rate:.1f}", f"{s.precision:.3f}", f"{s.recall:.3f}",
            )  # fmt: skip
    console.print(table)
    for r in results:
        console.print(
            f"{r[0]} seed {r[1]}: video MOTA {r[2].mota:.3f} IDF1 {r[2].idf1:.3f} "
            f"switches {r[2].id_switches}; exact {r[4].exact}/{r[4].accounts} with sim tracks, "
            f"{r[5].exact}/{r[5].accounts} with video tracks"
        )


if __name__ == "__main__":
    main()
