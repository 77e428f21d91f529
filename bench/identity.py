"""How well the engine's people tracker keeps track ids on the right accounts, against truth.

    python bench/identity.py RECORDING [RECORDING...]

For every track message, compares the account the tracker holds for that id at that time with
the simulator's truth (truth.json ``persons``), and lists the spans where they disagree.
Also counts the scans given to a new track id whose body, in truth, is another's: the entry
is where a wrong account starts, and nothing later in the store can tell it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import track_owners
from walkout.engine.config import EngineConfig
from walkout.engine.ordering import ReorderBuffer
from walkout.engine.store import StoreIndex
from walkout.engine.tracking import PeopleTracker, Person
from walkout.recording.files import iter_messages, read_store
from walkout.recording.models import EntryMsg, ExitMsg, TrackMsg


def check(folder: Path, verbose: bool) -> tuple[int, int, int, int]:
    truth = json.loads((folder / "truth.json").read_text())
    owner = track_owners(truth)
    cfg = EngineConfig()
    tracker = PeopleTracker(StoreIndex(read_store(folder)), cfg)
    bound: list[tuple[float, str, str]] = []  # (t, track id, account) of each scan taken
    new_person = tracker._new_person

    def recording_new_person(
        t: float, track_id: str, pos: tuple[float, float], account: str | None
    ) -> Person:
        if account is not None:
            bound.append((t, track_id, account))
        return new_person(t, track_id, pos, account)

    tracker._new_person = recording_new_person  # type: ignore[method-assign]
    buf = ReorderBuffer(cfg.reorder_window_s)
    seen: list[tuple[float, str]] = []
    for msg in iter_messages(folder):
        buf.push(msg)
        for m in buf.pop_ready():
            if isinstance(m, TrackMsg):
                look = tuple(m.look) if m.look else None
                tracker.on_track(m.t, m.id, m.pos, tuple(m.hands or ()), look)
                seen.append((m.t, m.id))
            elif isinstance(m, EntryMsg):
                tracker.on_entry(m.t, m.gate, m.account)
            elif isinstance(m, ExitMsg):
                tracker.on_exit(m.t, m.gate)
    wrong = 0
    runs: dict[str, int] = {}
    for t, tid in seen:
        want = next((a for t0, t1, a, _ in owner.get(tid, []) if t0 - 1e-6 <= t <= t1 + 1e-6), None)
        hist = tracker.tracks.get(tid)
        got = tracker.people[hist.person_at(t)].account if hist else None
        if want != got:
            wrong += 1
            runs[tid] = runs.get(tid, 0) + 1
            if verbose and runs[tid] == 5:
                print(f"  {folder.name} t={t:.1f} track {tid}: truth {want}, tracker {got}")
        else:
            runs[tid] = 0
    # the first frame may be the last of another's span (ids swap as a track is born)
    entries_wrong = sum(
        account not in {a for t0, t1, a, _ in owner.get(tid, []) if t0 - 1e-6 <= t <= t1 + 1e-6}
        for t, tid, account in bound
    )
    return wrong, len(seen), entries_wrong, len(bound)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recordings", type=Path, nargs="+")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    for folder in args.recordings:
        wrong, total, entries_wrong, entries = check(folder, args.verbose)
        share = 100 * wrong / max(total, 1)
        print(
            f"{folder.name}: {wrong} of {total} track messages on the wrong account "
            f"({share:.2f} %); {entries_wrong} of {entries} scans given to another's body"
        )


if __name__ == "__main__":
    main()
