"""How long after a party's last exit its receipt is final, on the store clock (engine only).

Live, the store clock runs with the wall clock, so this is the engine's share of the
exit-to-receipt latency that ``bench/live_load.py`` measures over MQTT.

    python bench/exit_latency.py RECORDING [--minutes M] [--file-config] [--why]

Two clocks: the store clock the engine has reached (what it released from its reorder window)
and the newest time stamp it has taken in, which on a live feed is about the wall clock: the
gap between them is the reorder window, which every receipt waits out.

Also counts the receipts later than a second by cause (their exit went to someone else, and
they were closed by a later exit or after nobody saw them for 30 s; or they waited for the
plates they reached), and those closed before their own exit (someone else's went to them).
``--why`` lists each late receipt with its party's size and, 2 s after the party's last exit,
where the engine had each of its people and whose body (in truth) their track was.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import last_exits, track_owners
from walkout.engine import Engine, FinalReceipt
from walkout.engine.config import EngineConfig, live_config
from walkout.recording.files import iter_messages, read_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path)
    parser.add_argument("--minutes", type=float, default=None, help="Stop after this much.")
    parser.add_argument("--file-config", action="store_true", help="The file replay's config.")
    parser.add_argument("--why", action="store_true", help="Where each late party's people were.")
    args = parser.parse_args()
    last_exit = last_exits(args.recording)
    truth = json.loads((args.recording / "truth.json").read_text()) if args.why else {}
    owners = track_owners(truth)
    due = sorted((t + WHY_AFTER_S, account) for account, t in last_exit.items())
    seen: dict[str, list[str]] = {}  # account -> its people as the engine had them
    config = EngineConfig() if args.file_config else live_config()
    engine = Engine(read_store(args.recording), config)
    lag: list[float] = []
    lag_in: list[float] = []  # on the clock of the newest line taken in (live: the wall clock)
    causes: Counter[str] = Counter()
    late_ones: list[tuple[float, str, str]] = []
    closed_by: dict[str, float] = {}  # account -> store time its exit was taken
    waiting: set[str] = set()
    t_stop = None if args.minutes is None else args.minutes * 60.0
    for msg in iter_messages(args.recording):
        if t_stop is not None and msg.t > t_stop:
            break
        outs = engine.feed(msg)
        while args.why and due and due[0][0] <= msg.t:
            _, account = due.pop(0)
            seen[account] = _people_of(engine, account, owners)
        if outs or len(engine.finalize_at) != len(waiting):
            # accounts whose exit the engine has taken (their receipt waits to be final)
            now_waiting = set(engine.finalize_at)
            for account in now_waiting - waiting:
                closed_by.setdefault(account, engine.now)
            waiting = now_waiting
        for out in outs:
            if isinstance(out, FinalReceipt) and out.receipt.account in last_exit:
                account = out.receipt.account
                late = engine.now - last_exit[account]
                lag.append(late)
                lag_in.append(engine.buffer.newest_t - last_exit[account])
                if late > 1.0:
                    taken = closed_by.pop(account, engine.now)
                    cause = _cause(out, taken - engine.buffer.hurry_window_s, last_exit[account])
                    causes[cause] += 1
                    late_ones.append((late, account, cause))
                elif late < 0.0:
                    causes["before their own exit (another's exit went to them)"] += 1
    a = np.array(lag)
    print(f"{args.recording.name}: {len(a)} receipts final after the last exit (store time, s)")
    if len(a):
        p50, p90, p99 = np.percentile(a, [50, 90, 99])
        print(f"p50 {p50:.2f}  p90 {p90:.2f}  p99 {p99:.2f}  max {a.max():.2f}  "
              f"under 1 s: {(a < 1).mean():.0%}")  # fmt: skip
        print(f"later than 1 s: {int((a > 1.0).sum())} (p99 under 1 s allows "
              f"{int(len(a) * 0.01)})")  # fmt: skip
        for cause, n in causes.most_common():
            print(f"  {n:4d}  {cause}")
        b = np.array(lag_in)
        q50, q90, q99 = np.percentile(b, [50, 90, 99])
        print(f"on the clock of the newest line taken in (reorder window "
              f"{config.reorder_window_s:g} s, exit window {config.exit_window_s} s): "
              f"p50 {q50:.2f}  p90 {q90:.2f}  p99 {q99:.2f}  "
              f"max {b.max():.2f}  under 1 s: {(b < 1).mean():.0%}")  # fmt: skip
    if args.why:
        size = Counter(p["account"] for p in truth["persons"])
        for late, account, cause in sorted(late_ones, reverse=True):
            print(f"{account} {late:.2f} s late, party of {size[account]}: {cause}")
            for line in seen.get(account, []):
                print(f"    {line}")


WHY_AFTER_S = 2.0
"""``--why`` looks at a party's people this long after its last exit."""


def _people_of(
    engine: Engine, account: str, owners: dict[str, list[tuple[float, float, str, str]]]
) -> list[str]:
    """The engine's people of ``account`` now: inside or out, where last seen, and whose body
    (truth) the track they follow was then."""
    lines = []
    for person in engine.people.people.values():
        if person.account != account:
            continue
        bodies = sorted(
            f"{who} ({acct})"
            for t0, t1, acct, who in owners.get(person.track, [])
            if t0 - 0.3 <= person.last_t <= t1 + 0.3
        )
        where = f"({person.last_pos[0]:.1f}, {person.last_pos[1]:.1f})"
        state = "inside" if person.inside else "out"
        lines.append(
            f"person {person.pid} {state}, last seen {person.last_t:.1f} at {where} on "
            f"{person.track}, truly {', '.join(bodies) or 'nobody'}"
        )
    return lines


def _cause(final: FinalReceipt, matched_exit: float, true_exit: float) -> str:
    """Why a receipt came more than a second after its party's last exit; ``matched_exit``
    is about when the exit the engine took for theirs happened (taken a window later)."""
    if any("no exit was matched" in r for r in final.receipt.review_reasons):
        return "late: nobody seen for 30 s (their exit went to someone else)"
    if matched_exit > true_exit + 0.5:
        return "late: closed by a later exit (their own went to someone else)"
    return "late: waited for plates they reached to settle and be decided"


if __name__ == "__main__":
    main()
