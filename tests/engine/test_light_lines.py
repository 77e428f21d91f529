"""Replay's light form of weight lines (plain dicts): same messages, same rejections, same
engine outputs as the pydantic models."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from tests.engine.scenes import small_store

from walkout.engine import Engine
from walkout.recording.files import LineError, iter_messages, read_store, write_store
from walkout.sim import simulate

LINES = [
    '{"t": 0.0, "type": "weight", "shelf": "S1", "g": [100, 100.5, null, 1e3]}',
    '{"type": "weight", "t": 0.05, "shelf": "S1", "g": [1, 2, 3, 4], "extra": {"a": 1}}',
    '{"t": 0.1, "shelf": "S1", "g": [1, 2, 3, 4]}',  # no type: not a weight line
    '{"t": "0.15", "type": "weight", "shelf": "S1", "g": ["1.5", 2, 3, 4]}',  # lax numbers
    '{"t": NaN, "type": "weight", "shelf": "S1", "g": [1, 2, 3, 4]}',
    '{"t": 1e999, "type": "weight", "shelf": "S1", "g": [1, 2, 3, 4]}',
    '{"t": 0.2, "type": "weight", "shelf": "S1", "g": [1, "x", 3, 4]}',
    '{"t": 0.25, "type": "weight", "shelf": 7, "g": [1, 2, 3, 4]}',
    '{"t": 0.3, "type": "weight", "shelf": "NOPE", "g": [1, 2, 3, 4]}',
    '{"t": 0.35, "type": "weight", "shelf": "S1", "g": [1, 2]}',
    '{"t": 0.4, "type": "weight", "shelf": "S1"}',
    '{"t": 0.45, "type": "track", "id": "weight", "pos": [1.0, 2.0]}',
    '{"t": 0.5, "type": "entry", "gate": "in", "account": "weight"}',
    '["weight"]',
    '"weight"',
    "{not json, weight",
    "",
]


def _as_dict(msg: object) -> dict[str, object]:
    if isinstance(msg, dict):
        return msg
    assert isinstance(msg, BaseModel)
    return msg.model_dump()


def test_light_lines_read_and_reject_as_models_do(tmp_path: Path) -> None:
    write_store(tmp_path, small_store())
    (tmp_path / "events.jsonl").write_text("\n".join(LINES) + "\n")
    shelves = {sid: len(p) for sid, p in small_store().shelves().items()}
    gates = {g.id for g in small_store().gates}
    read: dict[bool, tuple[list[object], list[LineError]]] = {}
    for light in (False, True):
        errors: list[LineError] = []
        msgs = list(iter_messages(tmp_path, errors.append, shelves, gates, light=light))
        read[light] = (msgs, errors)
    (models, model_errors), (lights, light_errors) = read[False], read[True]
    assert light_errors == model_errors
    assert [e.line for e in model_errors] == [3, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16]
    assert [_as_dict(m) for m in lights] == [_as_dict(m) for m in models]
    # the well-formed weight lines came as dicts, the rest as models
    kinds = [type(m).__name__ for m in lights]
    assert kinds.count("dict") == 3
    assert all(type(m).__name__ != "WeightMsg" for m in lights)


@pytest.mark.parametrize("preset", ["hard"])
def test_engine_gives_the_same_outputs_for_dicts_and_models(tmp_path: Path, preset: str) -> None:
    simulate(tmp_path, preset, seed=2, minutes=1.0)
    layout = read_store(tmp_path)
    outputs = []
    for light in (False, True):
        engine = Engine(layout)
        out: list[object] = []
        for msg in iter_messages(tmp_path, light=light):
            out.extend(engine.feed(msg))
        out.extend(engine.finish())
        outputs.append(repr(out))
    assert outputs[0] == outputs[1]
    assert "FinalReceipt" in outputs[0]
