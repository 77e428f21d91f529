"""Replay speed and memory: how much faster than real time, and memory flat with length.

    python bench/speed.py                 # busy 10 min, busy 5/10/20 min memory, scale 3 min
    python bench/speed.py --quick         # smaller cases

Each measurement runs in a fresh single-threaded process, so peak RSS is that replay's alone.
Each case runs in ``--processes`` fresh processes (3) and the median counts, with the range
beside it: on this machine one process can be a fifth slower than the next at the same work.
In each, the replay runs ``--repeat`` times (2) and the fastest CPU time counts, as timeit
does: other work on the machine only ever slows a run down.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import recording

MEASURE = r"""
import json, resource, sys, time, tracemalloc
from walkout.replay import replay
from walkout.recording.files import iter_messages
folder = sys.argv[1]
last_t = 0.0
for m in iter_messages(folder):
    last_t = max(last_t, m.t)
# the best of a few replays (as timeit does): a shared machine only ever slows a run down
wall = cpu = float("inf")
for _ in range(int(sys.argv[2])):
    start = time.perf_counter(); cpu0 = time.process_time()
    result = replay(folder)
    wall = min(wall, time.perf_counter() - start); cpu = min(cpu, time.process_time() - cpu0)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
# a second, slower pass under tracemalloc: the peak of what the replay itself allocated
tracemalloc.start()
replay(folder)
_, traced_peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"messages": result.messages, "wall_s": wall, "cpu_s": cpu, "store_s": last_t,
                  "peak_rss_mb": rss, "heap_peak_mb": traced_peak / 2**20,
                  "receipts": len(result.receipts)}))
"""


def cpu(run: dict[str, float]) -> float:
    return run["cpu_s"]


def measure(folder: Path, repeat: int) -> dict[str, float]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(folder), str(repeat)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=2, help="Replays per process; the fastest counts."
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=3,
        help="Fresh processes per case; the median counts (runs differ by process).",
    )
    args = parser.parse_args()
    cases = [("busy", 10.0), ("busy", 5.0), ("busy", 20.0), ("scale", 3.0)]
    if args.quick:
        cases = [("busy", 2.0), ("busy", 4.0), ("scale", 0.5)]
    table = Table(title="replay speed (one core) and peak memory")
    cols = (
        "case",
        "messages",
        "store time",
        "replay",
        "msgs/s",
        "x real time",
        "range",
        "peak RSS",
    )
    for col in (*cols, "replay heap peak"):
        table.add_column(col, justify="right")
    for preset, minutes in cases:
        folder = recording(preset, 1, minutes)
        runs = sorted((measure(folder, args.repeat) for _ in range(args.processes)), key=cpu)
        m = runs[len(runs) // 2]
        table.add_row(
            f"{preset} {minutes:g} min",
            f"{m['messages']:,}",
            f"{m['store_s']:.0f} s",
            f"{m['cpu_s']:.2f} s",
            f"{m['messages'] / m['cpu_s']:,.0f}",
            f"{m['store_s'] / m['cpu_s']:.0f}x",
            f"{m['store_s'] / runs[-1]['cpu_s']:.0f}-{m['store_s'] / runs[0]['cpu_s']:.0f}x",
            f"{max(r['peak_rss_mb'] for r in runs):.0f} MB",
            f"{max(r['heap_peak_mb'] for r in runs):.1f} MB",
        )
    Console(width=max(Console().width, 120)).print(table)  # whole numbers, also when piped


if __name__ == "__main__":
    main()
