"""The engine's state is bounded by the store and the people inside, not by the stream's length."""

from __future__ import annotations

from pathlib import Path

import pytest

from walkout.engine import Engine, FinalReceipt
from walkout.engine.tracking import HISTORY_S
from walkout.recording.files import iter_messages, read_store
from walkout.sim import simulate


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bounded") / "busy"
    simulate(folder, preset="busy", seed=2, minutes=6.0)
    return folder


def test_finished_accounts_and_silent_tracks_leave_the_engine(busy: Path) -> None:
    engine = Engine(read_store(busy))
    finals = 0
    peak_tracks = peak_people = peak_buffer = 0
    last_t = 0.0
    for msg in iter_messages(busy):
        finals += sum(isinstance(o, FinalReceipt) for o in engine.feed(msg))
        peak_tracks = max(peak_tracks, len(engine.people.tracks))
        peak_people = max(peak_people, len(engine.people.people))
        peak_buffer = max(peak_buffer, len(engine.buffer))
        last_t = max(last_t, msg.t)
    entered = len({p["account"] for p in _truth_persons(busy)})
    # receipts were handed out as people left, and their carts left the engine with them
    assert finals >= entered - 3
    assert len(engine.carts) <= 3
    # people and tracks: those inside plus those seen within the history horizon
    inside = sum(p.inside for p in engine.people.people.values())
    assert len(engine.people.people) <= inside + 6
    assert peak_people < entered  # never all of the day's shoppers at once
    silent = [h for h in engine.people.tracks.values() if h.t and h.t[-1] < last_t - HISTORY_S - 6]
    assert not silent
    # the reorder buffer holds about its window of messages, whatever the length
    assert peak_buffer < 2.5 * 30 * len(engine.store.shelves) + 200
    assert peak_tracks < 2 * entered


def _truth_persons(folder: Path) -> list[dict[str, object]]:
    import json

    return json.loads((folder / "truth.json").read_text())["persons"]
