"""The public entry point: valid folders, same bytes for the same seed, options honoured."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from walkout.recording.files import RecordingError, iter_messages, read_store, read_truth
from walkout.sim import PRESETS, SimSummary, simulate
from walkout.sim.presets import HARD


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = simulate(tmp_path / "a", "hard", seed=3, minutes=0.75)
    b = simulate(tmp_path / "b", "hard", seed=3, minutes=0.75)
    assert a == b
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_same_seed_same_gzip_bytes(tmp_path: Path) -> None:
    simulate(tmp_path / "a", "easy", seed=3, minutes=0.2, gzip_events=True)
    simulate(tmp_path / "b", "easy", seed=3, minutes=0.2, gzip_events=True)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_other_seed_other_recording(tmp_path: Path) -> None:
    simulate(tmp_path / "a", "busy", seed=1, minutes=0.5)
    simulate(tmp_path / "b", "busy", seed=2, minutes=0.5)
    assert _files(tmp_path / "a")["events.jsonl"] != _files(tmp_path / "b")["events.jsonl"]


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_writes_a_valid_recording(tmp_path: Path, preset: str) -> None:
    summary = simulate(tmp_path, preset, seed=0, minutes=0.25)
    store = read_store(tmp_path)
    rejected: list[object] = []
    shelves = {k: len(v) for k, v in store.shelves().items()}
    gates = {g.id for g in store.gates}
    count = sum(1 for _ in iter_messages(tmp_path, rejected.append, shelves, gates))
    assert rejected == []
    assert count == summary.messages
    truth = read_truth(tmp_path)
    assert len(truth.receipts) == summary.accounts
    assert summary.duration_s >= 15.0


def test_summary_counts(busy) -> None:  # type: ignore[no-untyped-def]
    events = busy.truth["events"]
    picks = sum(e["qty"] for e in events if e["kind"] == "pick")
    assert picks > 0
    assert len(busy.truth["receipts"]) == len(
        {m.account for m in busy.messages if m.type == "entry"}
    )


def test_gzip_events(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text("stale\n")
    summary = simulate(tmp_path, "easy", seed=0, minutes=0.3, gzip_events=True)
    assert not (tmp_path / "events.jsonl").exists()
    with gzip.open(tmp_path / "events.jsonl.gz") as fh:
        assert sum(1 for _ in fh) == summary.messages


def test_user_layout_is_used_as_is(tmp_path: Path) -> None:
    simulate(tmp_path / "gen", "busy", seed=4, minutes=0.2)
    layout = tmp_path / "gen" / "store.json"
    summary = simulate(tmp_path / "mine", "busy", seed=5, minutes=0.75, layout=layout)
    assert (tmp_path / "mine" / "store.json").read_bytes() == layout.read_bytes()
    assert summary.persons > 0
    rejected: list[object] = []
    list(iter_messages(tmp_path / "mine", rejected.append))
    assert rejected == []


def test_unusable_layout_is_refused_with_its_path(tmp_path: Path) -> None:
    simulate(tmp_path / "gen", "easy", seed=0, minutes=0.1)
    store = read_store(tmp_path / "gen")
    no_exit = store.model_copy(update={"gates": [g for g in store.gates if g.kind == "entry"]})
    bad = tmp_path / "no-exit.json"
    bad.write_text(no_exit.model_dump_json())
    with pytest.raises(RecordingError, match=r"no-exit\.json.*exit gate"):
        simulate(tmp_path / "out", "busy", layout=bad)
    with pytest.raises(RecordingError, match="no such store layout"):
        simulate(tmp_path / "out", "busy", layout=tmp_path / "nowhere")


def test_progress_reaches_one(tmp_path: Path) -> None:
    seen: list[float] = []
    simulate(tmp_path, "easy", seed=0, minutes=0.5, progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == 1.0


def test_unknown_preset_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown preset"):
        simulate(tmp_path, "chaos")


def test_summary_is_frozen() -> None:
    summary = SimSummary(1, 1, 0, 0, 0, 0, 1.0)
    with pytest.raises(AttributeError):
        summary.picks = 3  # type: ignore[misc]


def test_config_rejects_bad_knobs() -> None:
    with pytest.raises(ValueError, match="reach_s"):
        HARD.model_validate({**HARD.model_dump(), "reach_s": (3.0, 1.0)})
    with pytest.raises(ValueError, match="extra"):
        HARD.model_validate({**HARD.model_dump(), "reach_time": 2.0})
