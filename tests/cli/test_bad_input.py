"""Bad input gets a clear error naming the file (and line), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from tests.engine.scenes import small_store
from typer.testing import CliRunner

from walkout.cli import app
from walkout.recording.files import write_store

runner = CliRunner()


def _recording(tmp_path: Path, lines: list[str]) -> Path:
    folder = tmp_path / "rec"
    folder.mkdir()
    write_store(folder, small_store())
    (folder / "events.jsonl").write_text("\n".join(lines) + "\n")
    return folder


GOOD = '{"t": 0.0, "type": "weight", "shelf": "S1", "g": [100, 100, 100, 100]}'


def test_missing_store_json_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    result = runner.invoke(app, ["replay", str(folder), "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 2
    assert "store.json" in result.output
    assert "missing" in result.output
    assert "Traceback" not in result.output


def test_unknown_sku_in_store_names_the_plate(tmp_path: Path) -> None:
    folder = _recording(tmp_path, [GOOD])
    raw = json.loads((folder / "store.json").read_text())
    raw["plates"][0]["skus"] = ["nope"]
    (folder / "store.json").write_text(json.dumps(raw))
    result = runner.invoke(app, ["replay", str(folder), "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 2
    assert "store.json" in result.output and "nope" in result.output and "S1-P1" in result.output


def test_malformed_and_unknown_lines_are_rejected_with_file_and_line(tmp_path: Path) -> None:
    lines = [
        GOOD,
        "{not json",
        '{"t": 0.1, "type": "weight", "shelf": "NOPE", "g": [1, 2, 3, 4]}',
        '{"t": 0.2, "type": "weight", "shelf": "S1", "g": [1, 2]}',
        '{"t": 0.3, "type": "track", "id": "a", "pos": [1.0]}',
        '{"t": 0.4, "type": "entry", "gate": "in", "account": "acct-1"}',
        '{"t": 0.5, "type": "teleport"}',
    ]
    folder = _recording(tmp_path, lines)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["replay", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "events.jsonl:2:" in text
    assert "events.jsonl:3:" in text and "unknown shelf 'NOPE'" in text
    assert "events.jsonl:4:" in text and "has 4 plates" in text
    assert "events.jsonl:5:" in text and "pos" in text
    assert "events.jsonl:7:" in text
    # the accepted lines were kept: the account that entered gets a receipt
    receipts = json.loads(out.read_text())["receipts"]
    assert [r["account"] for r in receipts] == ["acct-1"]


def test_malformed_store_json_is_reported(tmp_path: Path) -> None:
    folder = _recording(tmp_path, [GOOD])
    (folder / "store.json").write_text("{ broken")
    result = runner.invoke(app, ["replay", str(folder), "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 2
    assert "store.json" in result.output and "not valid JSON" in result.output
