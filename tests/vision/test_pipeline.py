"""``simulate --video`` then ``walkout track``: a recording whose tracks come from pixels."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from walkout.cli import app
from walkout.recording.files import read_store
from walkout.replay import replay
from walkout.sim import simulate
from walkout.vision.metrics import score_tracks


@pytest.fixture(scope="module")
def video_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("video") / "easy"
    simulate(folder, preset="easy", seed=2, minutes=0.4, video=True)
    return folder


def _lines(folder: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in (folder / "events.jsonl").read_bytes().splitlines()]


def test_video_recording_has_cameras_and_a_manifest(video_recording: Path) -> None:
    store = read_store(video_recording)
    assert store.cameras and len(store.cameras) >= 4
    manifest = json.loads((video_recording / "video" / "manifest.json").read_text())
    assert manifest["frames"] > 0
    assert {c["id"] for c in manifest["cameras"]} == {c.id for c in store.cameras}
    assert all(
        (video_recording / "video" / c["file"]).stat().st_size > 0 for c in manifest["cameras"]
    )


def test_track_replaces_tracks_and_keeps_the_rest(video_recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "tracked"
    result = CliRunner().invoke(app, ["track", str(video_recording), "--out", str(out)])
    assert result.exit_code == 0, result.output
    before, after = _lines(video_recording), _lines(out)
    others = [m for m in before if m["type"] != "track"]
    assert [m for m in after if m["type"] != "track"] == others, "other lines kept, in order"
    tracks = [m for m in after if m["type"] == "track"]
    assert tracks and all(str(m["id"]).startswith("v-") for m in tracks)
    score = score_tracks(video_recording, out)
    assert score.mota > 0.9 and score.id_switches <= 1
    assert replay(out).receipts, "the engine reads the tracked recording"


def test_track_without_video_says_how_to_get_it(tmp_path: Path) -> None:
    simulate(tmp_path / "plain", preset="easy", seed=2, minutes=0.2)
    result = CliRunner().invoke(app, ["track", str(tmp_path / "plain")])
    assert result.exit_code == 2
    assert "simulate with --video" in result.output
