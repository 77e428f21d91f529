"""Shared helpers of the bench scripts: cached simulated recordings, and what truth says."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from walkout.sim import SIM_REVISION

CACHE = Path(os.environ.get("WALKOUT_BENCH_CACHE", "/tmp/walkout-bench")) / f"sim{SIM_REVISION}"


def recording(preset: str, seed: int, minutes: float | None = None) -> Path:
    """A simulated recording, made once and reused (the simulator is deterministic)."""
    from walkout.sim import simulate

    name = f"{preset}-s{seed}" + (f"-m{minutes:g}" if minutes is not None else "")
    folder = CACHE / name
    if not (folder / "truth.json").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        simulate(folder, preset=preset, seed=seed, minutes=minutes)
    return folder


def last_exits(folder: Path) -> dict[str, float]:
    """When each account's party last went out (truth.json), for exit-to-receipt latency."""
    out: dict[str, float] = {}
    for person in json.loads((folder / "truth.json").read_text())["persons"]:
        if person.get("exit_t") is not None:
            account = person["account"]
            out[account] = max(out.get(account, float("-inf")), person["exit_t"])
    return out


def track_owners(truth: dict[str, Any]) -> dict[str, list[tuple[float, float, str, str]]]:
    """Per track id, the spans of it each true person had: (t0, t1, account, person)."""
    owners: dict[str, list[tuple[float, float, str, str]]] = {}
    for person in truth.get("persons", []):
        for span in person["tracks"]:
            owners.setdefault(span["id"], []).append(
                (span["t0"], span["t1"], person["account"], person["person"])
            )
    return owners
