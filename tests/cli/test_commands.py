"""The command line end to end on a small simulated store: simulate, replay, eval, explain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from walkout.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "easy"
    result = runner.invoke(
        app, ["simulate", str(folder), "--preset", "easy", "--seed", "3", "--minutes", "3"]
    )
    assert result.exit_code == 0, result.output
    return folder


def test_replay_writes_receipts_in_the_spec_shape(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "receipts.json"
    result = runner.invoke(app, ["replay", str(recording), "--out", str(out)])
    assert result.exit_code == 0, result.output
    receipts = json.loads(out.read_text())["receipts"]
    truth = json.loads((recording / "truth.json").read_text())["receipts"]
    assert sorted(r["account"] for r in receipts) == sorted(t["account"] for t in truth)
    for r in receipts:
        assert set(r) >= {"account", "items", "total", "confidence", "needs_review"}
        assert all(n > 0 for n in r["items"].values())


def test_eval_json_scores_against_truth(recording: Path) -> None:
    result = runner.invoke(app, ["eval", str(recording), "--json", "--baseline"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    ours = scores["walkout"]["total"]
    assert ours["accounts"] == len(json.loads((recording / "truth.json").read_text())["receipts"])
    assert ours["exact_rate"] == 1.0  # one shopper at a time on clean sensors
    assert "baseline" in scores


def test_explain_names_the_plates_people_and_draws_the_traces(
    recording: Path, tmp_path: Path
) -> None:
    truth = json.loads((recording / "truth.json").read_text())
    action = next(e for e in truth["events"] if e["kind"] == "pick")
    plot = tmp_path / "why.png"
    result = runner.invoke(
        app, ["explain", str(recording), "--account", action["account"], "--plot", str(plot)]
    )
    assert result.exit_code == 0, result.output
    assert action["plate"] in result.output
    assert "products that explain the weight" in result.output
    assert "shoppers near" in result.output
    assert plot.stat().st_size > 10_000
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_explain_unknown_account_is_a_clear_error(recording: Path) -> None:
    result = runner.invoke(app, ["explain", str(recording), "--account", "nobody"])
    assert result.exit_code == 2
    assert "no receipt for account 'nobody'" in result.output
