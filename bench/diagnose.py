"""Line up the engine's cart changes with the simulator's true shelf actions of a recording.

    python bench/diagnose.py RECORDING [--all]

For engineers tuning the engine: every true action and what the engine made of it (matched by
plate and time), then every engine change no true action explains. Reads truth.json's optional
``events`` list, which the simulator writes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from walkout.replay import replay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path)
    parser.add_argument("--all", action="store_true", help="Also print actions handled right.")
    args = parser.parse_args()
    truth = json.loads((args.recording / "truth.json").read_text())
    result = replay(args.recording, keep_changes=True)
    changes = sorted(result.changes, key=lambda c: c.event.t_end)
    used: set[int] = set()
    for ev in truth.get("events", []):
        plates = set(ev.get("plates") or [ev["plate"]])
        lo, hi = ev.get("reach", [ev["t"] - 2, ev["t"] + 2])
        match = [
            c
            for c in changes
            if c.change_id not in used
            and plates & set(c.event.plates)
            and c.event.t_start <= hi + 1.5
            and c.event.t_end >= lo - 1.5
        ]
        sign = 1 if ev["kind"] == "pick" else -1
        want = {ev["sku"]: abs(ev["qty"])}
        ok = False
        if match:
            c = match[0]
            used.add(c.change_id)
            ok = (
                c.items == want and c.account == ev["account"] and (c.kind == "pick") == (sign == 1)
            )
        if ok and not args.all:
            continue
        flag = "OK " if ok else "BAD"
        print(
            f"{flag} t={ev['t']:.1f} {ev['kind']} {want} by {ev['account']} on {sorted(plates)} "
            f"dg={ev.get('delta_g')} misplaced={ev.get('misplaced')} reach={ev.get('reach')}"
        )
        for c in match[:2]:
            people = ", ".join(
                f"{p.account}:{p.posterior:.2f}(h{p.hand_m:.2f},b{p.body_m:.2f})"
                for p in c.people[:3]
            )
            prods = "; ".join(f"{p.description}={p.posterior:.2f}" for p in c.products[:3])
            print(
                f"     engine {c.kind} {c.items} -> {c.account} conf={c.confidence:.2f} "
                f"{c.event.plates} dg={c.event.delta_g} "
                f"[{c.event.t_start:.1f} step {c.event.t_step:.1f} end {c.event.t_end:.1f}] "
                f"| {prods} | {people}"
            )
        if not match:
            near = [
                a
                for a in result.alerts
                if a.event and plates & set(a.event.plates) and abs(a.event.t_end - ev["t"]) < 4
            ]
            print(f"     engine: nothing. alerts: {[a.message for a in near]}")
    for c in changes:
        if c.change_id not in used:
            print(
                f"EXTRA {c.kind} {c.items} -> {c.account} t={c.event.t_end:.1f} {c.event.plates} "
                f"dg={c.event.delta_g} step={c.event.t_step:.1f} conf={c.confidence:.2f}"
            )


if __name__ == "__main__":
    main()
