"""How long after a party's last exit its receipt is final, on the store clock (engine only).

Live, the store clock runs with the wall clock, so this is the engine's share of the
exit-to-receipt latency that ``bench/live_load.py`` measures over MQTT.

    python bench/exit_latency.py RECORDING [--minutes M] [--file-config]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from walkout.engine import Engine, FinalReceipt
from walkout.engine.config import EngineConfig, live_config
from walkout.recording.files import iter_messages, read_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path)
    parser.add_argument("--minutes", type=float, default=None, help="Stop after this much.")
    parser.add_argument("--file-config", action="store_true", help="The file replay's config.")
    args = parser.parse_args()
    truth = json.loads((args.recording / "truth.json").read_text())
    last_exit: dict[str, float] = {}
    for person in truth["persons"]:
        if person.get("exit_t") is not None:
            acct = person["account"]
            last_exit[acct] = max(last_exit.get(acct, -np.inf), person["exit_t"])
    config = EngineConfig() if args.file_config else live_config()
    engine = Engine(read_store(args.recording), config)
    lag: list[float] = []
    t_stop = None if args.minutes is None else args.minutes * 60.0
    for msg in iter_messages(args.recording):
        if t_stop is not None and msg.t > t_stop:
            break
        for out in engine.feed(msg):
            if isinstance(out, FinalReceipt) and out.receipt.account in last_exit:
                lag.append(engine.now - last_exit[out.receipt.account])
    a = np.array(lag)
    print(f"{args.recording.name}: {len(a)} receipts final after the last exit (store time, s)")
    if len(a):
        p50, p90, p99 = np.percentile(a, [50, 90, 99])
        print(f"p50 {p50:.2f}  p90 {p90:.2f}  p99 {p99:.2f}  max {a.max():.2f}  "
              f"under 1 s: {(a < 1).mean():.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
