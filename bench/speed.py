"""Replay speed and memory: how much faster than real time, and memory flat with length.

    python bench/speed.py                 # busy 10 min, busy 5/10/20 min memory, scale 3 min
    python bench/speed.py --quick         # smaller cases

Each measurement runs in a fresh single-threaded process, so peak RSS is that replay's alone.
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
start = time.perf_counter(); cpu0 = time.process_time()
result = replay(folder)
wall = time.perf_counter() - start; cpu = time.process_time() - cpu0
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


def measure(folder: Path) -> dict[str, float]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(folder)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    cases = [("busy", 10.0), ("busy", 5.0), ("busy", 20.0), ("scale", 3.0)]
    if args.quick:
        cases = [("busy", 2.0), ("busy", 4.0), ("scale", 0.5)]
    table = Table(title="replay speed (one core) and peak memory")
    cols = ("case", "messages", "store time", "replay", "msgs/s", "x real time", "peak RSS")
    for col in (*cols, "replay heap peak"):
        table.add_column(col, justify="right")
    for preset, minutes in cases:
        folder = recording(preset, 1, minutes)
        m = measure(folder)
        table.add_row(
            f"{preset} {minutes:g} min",
            f"{m['messages']:,}",
            f"{m['store_s']:.0f} s",
            f"{m['cpu_s']:.2f} s",
            f"{m['messages'] / m['cpu_s']:,.0f}",
            f"{m['store_s'] / m['cpu_s']:.0f}x",
            f"{m['peak_rss_mb']:.0f} MB",
            f"{m['heap_peak_mb']:.1f} MB",
        )
    Console(width=max(Console().width, 120)).print(table)  # whole numbers, also when piped


if __name__ == "__main__":
    main()
