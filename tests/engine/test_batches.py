"""Replay's batches: lines read in blocks and messages fed many at a time give the same
messages, the same rejections (file, line and reason) and the same engine outputs as reading
line by line and feeding one message at a time."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from tests.engine.scenes import small_store

from walkout.engine import Engine
from walkout.engine.config import live_config
from walkout.recording import files
from walkout.recording.files import (
    LineError,
    iter_message_batches,
    iter_messages,
    read_store,
    validate_line,
    write_store,
)
from walkout.sim import simulate

LINES = [
    '{"t": 0.0, "type": "weight", "shelf": "S1", "g": [100, 100.5, null, 1e3]}',
    '{"t": 0.05, "type": "weight", "shelf": "S1", "g": [1, 2, 3',  # cut short
    "",
    '{"t": 0.1, "type": "weight", "shelf": "S1", "g": [1, 2, 3, 4]}',
    '{"t": 0.15, "type": "entry", "gate": "in", "account": "a"}',
    '{"t": 0.2, "type": "weight", "shelf": "NOPE", "g": [1, 2, 3, 4]}',
    '{"t": 0.25, "type": "weight", "shelf": "S1", "g": [1, 2, 3, 4]}\r',
    '{"t": 0.3, "type": "weight",',  # the last line, cut short without a newline
]


def _read(folder: Path, light: bool) -> tuple[list[object], list[LineError]]:
    layout = small_store()
    shelves = {sid: len(p) for sid, p in layout.shelves().items()}
    gates = {g.id for g in layout.gates}
    errors: list[LineError] = []
    msgs = list(iter_messages(folder, errors.append, shelves, gates, light=light))
    return msgs, errors


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 14])
@pytest.mark.parametrize("packed", [False, True])
def test_lines_read_in_blocks_as_line_by_line(
    tmp_path: Path, block: int, packed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_store(tmp_path, small_store())
    data = "\n".join(LINES).encode()
    if packed:
        (tmp_path / "events.jsonl.gz").write_bytes(gzip.compress(data))
    else:
        (tmp_path / "events.jsonl").write_bytes(data)
    monkeypatch.setattr(files, "READ_BLOCK", block)
    for light in (False, True):
        msgs, errors = _read(tmp_path, light)
        assert [e.line for e in errors] == [2, 6, 8]
        assert [m["t"] if isinstance(m, dict) else m.t for m in msgs] == [0.0, 0.1, 0.15, 0.25]  # type: ignore[attr-defined]
        # reasons as the line was validated before blocks: with its newline, but the last
        raw = data.split(b"\n")
        for err, whole in ((errors[0], raw[1] + b"\n"), (errors[2], raw[7])):
            with pytest.raises(Exception) as exc:
                validate_line(whole)
            assert err.reason == files._describe(exc.value)  # type: ignore[arg-type]
        assert "line 2 column 0" in errors[0].reason  # the cut line's newline, as before
        assert errors[1].reason == "unknown shelf 'NOPE'"


def test_batches_hold_every_message_once(tmp_path: Path) -> None:
    simulate(tmp_path, "busy", seed=3, minutes=0.3)
    one_by_one = list(iter_messages(tmp_path, light=True))
    batches = list(iter_message_batches(tmp_path, light=True))
    assert len(batches) > 1
    assert [m for b in batches for m in b] == one_by_one


@pytest.mark.parametrize("live", [False, True])
def test_feed_many_gives_what_feed_gives(tmp_path: Path, live: bool) -> None:
    """``hard`` delivers late, out of order and twice: the reorder buffer's releases and
    refusals (too late for a short window) and the readings taken late within the weight
    grace must fall at the same messages."""
    simulate(tmp_path, "hard", seed=4, minutes=1.0)
    layout = read_store(tmp_path)
    outputs = []
    stats = []
    config = live_config(reorder_window_s=0.2, weight_grace_s=0.1) if live else None
    for many in (False, True):
        engine = Engine(layout, config)
        out: list[object] = []
        for batch in iter_message_batches(tmp_path, light=True):
            if many:
                out.extend(engine.feed_many(batch))
            else:
                for msg in batch:
                    out.extend(engine.feed(msg))
        out.extend(engine.finish())
        outputs.append(repr(out))
        stats.append((engine.stats.messages, engine.buffer.stats, engine.now))
    assert outputs[0] == outputs[1]
    assert stats[0] == stats[1]
    assert stats[0][1].duplicates > 0
    assert stats[0][1].too_late > 0 or not live
    assert stats[0][1].weights_taken_late > 0 or not live
    assert "FinalReceipt" in outputs[0]
