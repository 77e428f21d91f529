"""Where a live run's exit-to-receipt time went, receipt by receipt.

    python bench/live_load.py --minutes 10 --workdir /tmp/live   # keeps the log and arrivals
    python bench/live_lag.py /tmp/live                            # then this

The live bench measures wall time from the publish of a party's last exit to its receipt's
arrival over MQTT. That splits into three legs, each measured here from what the run kept:

- **in**: exit published -> exit logged (broker, MQTT bridge process, pipe, ingest queue,
  commit); the log's ``received_at``.
- **engine**: exit logged -> the logged message whose feed made the receipt (what the engine
  waited for: the exit window, a shelf's readings, an undecided change, an identity doubt).
  Found by replaying the log through a fresh engine (the service's is deterministic).
- **out**: that message logged -> receipt arrived (feeding the rest of its batch up to it,
  the charge's commit, the receipt pump, the bridge process, the broker).

Printed: p50 / p90 / p99 / max of each leg; the full garbage collections the replay made
(with the service's ``gc.freeze()`` at start, or ``--no-freeze``); and the legs of the latest
receipts with what each last waited for.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_load import hard_scale_recording, timed_exits
from walkout.engine import Engine, FinalReceipt
from walkout.recording.files import read_store
from walkout.recording.models import ExitMsg
from walkout.service import db
from walkout.service.db import make_engine
from walkout.service.heap import freeze_startup_heap
from walkout.service.log import MessageLog
from walkout.service.messages import ClockTick
from walkout.service.settings import ServiceSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", type=Path, help="a --workdir of bench/live_load.py")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--show", type=int, default=12, help="latest receipts listed")
    parser.add_argument(
        "--no-freeze", action="store_true", help="replay without the service's gc.freeze()"
    )
    args = parser.parse_args()

    folder = hard_scale_recording(args.seed, args.minutes)
    kept_path = args.workdir / "arrivals.json"  # absent from runs before it was kept: no "out"
    kept = json.loads(kept_path.read_text()) if kept_path.is_file() else {}
    arrivals: dict[str, float] = kept.get("arrivals", {})
    sent = json.loads((args.workdir / "publisher.json").read_text())
    url = f"sqlite:///{args.workdir / 'walkout.db'}"
    dbe = make_engine(url)
    received = np.zeros(MessageLog(dbe).next_seq)  # log seq -> when it was logged
    with dbe.connect() as conn:
        # streamed: millions of row objects kept alive would slow the replay's gc (measured)
        result = conn.execution_options(yield_per=100_000).execute(
            select(db.messages.c.seq, db.messages.c.received_at)
        )
        for part in result.partitions():
            seqs, ats = zip(*part, strict=True)
            received[list(seqs)] = ats

    # each account's exit line, as the live bench timed it (the log's copy of that same line)
    timed = timed_exits(json.loads((folder / "truth.json").read_text()), sent["exits"])

    settings = ServiceSettings(store_dir=folder, db_url=url)
    engine = Engine(read_store(folder), settings.engine_config())
    made_at: dict[str, tuple[int, float]] = {}  # account -> (seq, engine clock) of its receipt
    waited_for: dict[str, str] = {}  # account -> the last thing its receipt waited for
    reach_unsettled = engine._reach_unsettled  # a diagnostic's peek at the engine's reason

    def noting_why(account: str) -> str | None:
        why = reach_unsettled(account)
        if why is not None:
            waited_for[account] = f"{why} (at {engine.now:.1f})"
        return why

    engine._reach_unsettled = noting_why  # type: ignore[method-assign]
    exit_seq: dict[tuple[str, float], int] = {}  # (gate, t) -> log seq of that exit line
    full_collections: list[float] = []  # seconds each full (generation 2) collection took
    began = [0.0]

    def time_full(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            full_collections.append(time.perf_counter() - began[0])

    if not args.no_freeze:
        freeze_startup_heap()  # as walkout serve does before its rebuild
    gc.callbacks.append(time_full)
    for seq, msg in MessageLog(dbe).iter_from(1):
        if isinstance(msg, ClockTick):
            outputs = engine.advance_to(msg.t)
        else:
            if isinstance(msg, ExitMsg):
                exit_seq.setdefault((msg.gate, round(msg.t, 3)), seq)
            outputs = engine.feed(msg)
        for out in outputs:
            if isinstance(out, FinalReceipt):
                made_at.setdefault(out.receipt.account, (seq, engine.now))
    gc.callbacks.remove(time_full)

    legs: dict[str, tuple[float, float, float, float, float]] = {}
    for account in made_at:
        if account not in timed:
            continue
        gate, te, wall_pub = timed[account]
        te = round(te, 3)
        if (gate, te) not in exit_seq:
            continue
        e_seq = exit_seq[(gate, te)]
        seq, now = made_at[account]
        leg_in = received[e_seq] - wall_pub
        leg_engine = received[seq] - received[e_seq]
        leg_out = arrivals.get(account, np.nan) - received[seq]
        legs[account] = (leg_in + leg_engine + leg_out, leg_in, leg_engine, leg_out, now - te)

    table = np.array(list(legs.values()))
    names = ("total", "in", "engine", "out", "store lag")
    print(f"{len(legs)} receipts broken down, {len(arrivals)} with their arrival")
    print(f"{'leg':<10} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7}")
    for i, name in enumerate(names):
        p50, p90, p99 = np.nanpercentile(table[:, i], [50, 90, 99])
        print(f"{name:<10} {p50:7.3f} {p90:7.3f} {p99:7.3f} {np.nanmax(table[:, i]):7.3f}")
    pauses = np.array(full_collections or [0.0]) * 1000
    print(
        f"\nthe replay's full gc collections ({'no freeze' if args.no_freeze else 'frozen'}): "
        f"{len(full_collections)}, median {np.median(pauses):.0f} ms, max {pauses.max():.0f} ms"
    )
    print(f"\nlatest {args.show}: account  total = in + engine + out   (store lag)")

    def latest_first(kv: tuple[str, tuple[float, ...]]) -> float:
        total, _, engine_leg = kv[1][:3]
        return -(engine_leg if np.isnan(total) else total)

    for account, (total, a, b, c, lag) in sorted(legs.items(), key=latest_first)[: args.show]:
        why = waited_for.get(account, "the exit window only")
        print(f"  {account}  {total:6.2f} = {a:5.2f} + {b:6.2f} + {c:5.2f}   ({lag:6.2f})  {why}")


if __name__ == "__main__":
    main()
