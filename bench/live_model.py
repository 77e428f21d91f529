"""The live bench's delivery, replayed offline through the live engine: no broker, no wall clock.

    python bench/live_model.py                          # hard-scale seed 1, 3 minutes
    python bench/live_model.py --seeds 1-4 --window 0.15

``bench/live_load.py`` takes real time and a quiet machine; this takes a minute or two per
3-minute recording and measures the engine's part of the same thing, so a change to the live
engine (its reorder window, the late path, exits) can be judged on latency and receipts at once.
The devices' publishes are ``live_load.delivery``'s, in the same order (each shelf's lines as one
array per 100 ms, the cameras' likewise, gate lines at once), fed to ``Engine(live_config)`` one
message at a time as ``walkout serve`` does. A receipt's latency is the newest time stamp taken
in when it comes out, less its party's last exit: live, the newest stamp is about the wall clock,
so this is ``live_load.py``'s latency less transport and processing (session 9: model p50 0.26 s
against 0.33 s live with a 0.15 s window, and the same two late receipts).

Printed per recording and pooled: latency p50 / p90 / p99 / max and the receipts later than
1 s; accounts, exact, reviewed, and wrong but not reviewed (against truth.json); lines refused
as too late and readings taken late within the weight grace.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import parse_seeds
from common import last_exits
from live_load import DeliveryCounts, delivery, hard_scale_recording, read_lines
from walkout.engine import Engine, FinalReceipt, Receipt
from walkout.engine.config import live_config
from walkout.eval.score import score_receipts
from walkout.recording.files import parse_message, read_store, read_truth


def messages(payload: bytes) -> list[Any]:
    """A publish's messages as the engine takes them (weights in replay's light form)."""
    items = orjson.loads(payload)
    out: list[Any] = []
    for d in items if isinstance(items, list) else [items]:
        if d["type"] == "weight":
            out.append({"t": d["t"], "shelf": d["shelf"], "g": d["g"]})
        else:
            out.append(parse_message(orjson.dumps(d)))
    return out


def run(folder: Path, overrides: dict[str, float]) -> tuple[list[float], dict[str, int]]:
    """Latencies of the receipts with an exit in truth, and the receipts' score."""
    exits = last_exits(folder)
    store = read_store(folder)
    engine = Engine(store, live_config(**overrides))
    final: dict[str, Receipt] = {}
    lag: list[float] = []
    counts = DeliveryCounts()
    for send in delivery(read_lines(folder), store.store_id, 0.1, counts):
        for msg in messages(send.payload):
            for out in engine.feed(msg):
                if isinstance(out, FinalReceipt):
                    final[out.receipt.account] = out.receipt
                    if out.receipt.account in exits:
                        lag.append(engine.buffer.newest_t - exits[out.receipt.account])
    for out in engine.finish():
        if isinstance(out, FinalReceipt):
            final.setdefault(out.receipt.account, out.receipt)
    score = score_receipts(read_truth(folder), [r.to_out() for r in final.values()])
    unflagged = sum(not d.exact and not d.needs_review for d in score.details)
    return lag, {
        "accounts": score.accounts,
        "exact": score.exact,
        "reviewed": score.reviewed,
        "wrong_unflagged": unflagged,
        "too_late": engine.buffer.stats.too_late,
        "weights_taken_late": engine.buffer.stats.weights_taken_late,
    }


def describe(lag: list[float]) -> str:
    a = np.array(lag)
    if not len(a):
        return "no receipts"
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return (
        f"p50 {p50:.2f}  p90 {p90:.2f}  p99 {p99:.2f}  max {a.max():.1f} s  "
        f"later than 1 s: {int((a > 1.0).sum())} of {len(a)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--window", type=float, default=None, help="reorder window, s")
    parser.add_argument("--grace", type=float, default=None, help="late grace, s")
    parser.add_argument("--weight-grace", type=float, default=None, help="weight grace, s")
    parser.add_argument(
        "--exit-window", type=float, default=None, help="window while a receipt waits, s (0.5: off)"
    )
    args = parser.parse_args()
    overrides: dict[str, float] = {}
    if args.window is not None:
        overrides["reorder_window_s"] = args.window
    if args.grace is not None:
        overrides["late_grace_s"] = args.grace
    if args.weight_grace is not None:
        overrides["weight_grace_s"] = args.weight_grace
    if args.exit_window is not None:
        overrides["exit_window_s"] = args.exit_window
    config = live_config(**overrides)
    print(
        f"live config: window {config.reorder_window_s:g} s, grace {config.late_grace_s:g} s, "
        f"weight grace {config.weight_grace_s:g} s, exit window {config.exit_window_s} s"
    )
    pooled: list[float] = []
    total = dict.fromkeys(
        ("accounts", "exact", "reviewed", "wrong_unflagged", "too_late", "weights_taken_late"), 0
    )
    for seed in parse_seeds(args.seeds):
        folder = hard_scale_recording(seed, args.minutes)
        lag, score = run(folder, overrides)
        pooled += lag
        for k in total:
            total[k] += score[k]
        print(f"{folder.name}: {describe(lag)}; {score}", flush=True)
    print(f"all: {describe(pooled)}; {total}")


if __name__ == "__main__":
    main()
