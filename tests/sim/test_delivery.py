"""Delivery order: time order for easy and busy; late, shuffled and duplicated lines in hard."""

from __future__ import annotations

import pytest
from tests.sim.recording import Recording


@pytest.mark.parametrize("name", ["easy", "busy"])
def test_clean_presets_are_in_time_order(name: str, request: pytest.FixtureRequest) -> None:
    rec = request.getfixturevalue(name)
    ts = [m.t for m in rec.messages]
    assert ts == sorted(ts)
    lines = (rec.folder / "events.jsonl").read_bytes().splitlines()
    assert len(lines) == len(set(lines))


def test_hard_lines_are_late_shuffled_and_doubled(hard: Recording) -> None:
    ts = [m.t for m in hard.messages]
    newest = float("-inf")
    late = 0
    for t in ts:
        newest = max(newest, t)
        assert newest - t <= 0.5 + 1e-9
        late += newest - t > 0.05
    assert late > 100
    lines = (hard.folder / "events.jsonl").read_bytes().splitlines()
    assert len(lines) - len(set(lines)) > 10


def test_hard_drops_readings(hard: Recording) -> None:
    assert any(None in m.g for m in hard.messages if m.type == "weight")
