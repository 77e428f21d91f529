"""Camera tracks: hands on the plate during a reach, nobody walks through a gondola,
hard tracking mistakes happen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tests.sim.recording import Recording

from walkout.sim.behaviour import Behaviour
from walkout.sim.layout import generate_store
from walkout.sim.presets import BUSY


def test_reaching_hand_is_on_the_plate(easy: Recording) -> None:
    plates = {p.id: p for p in easy.store.plates}
    track_of = {p["person"]: p["track_ids"] for p in easy.truth["persons"]}
    checked = 0
    for e in easy.truth["events"]:
        plate = plates[e["plate"]]
        t0, t1 = e["reach"]
        frames = [
            m
            for m in easy.messages
            if m.type == "track" and m.id in track_of[e["person"]] and t0 + 0.05 < m.t < t1 - 0.05
        ]
        assert frames
        for m in frames:
            on = [
                h
                for h in m.hands or []
                if abs(h[0] - plate.center[0]) <= plate.size[1] / 2 + 0.06
                and abs(h[1] - plate.center[1]) <= plate.size[0] / 2 + 0.06
                and plate.center[2] < h[2] < plate.center[2] + 0.25
            ]
            assert len(on) == 1
            checked += 1
    assert checked > 10


def test_hands_and_positions_are_sane(busy: Recording) -> None:
    for m in busy.messages:
        if m.type == "track":
            assert m.id.startswith("trk-")
            assert len(m.hands or []) <= 2
            for h in m.hands or []:
                assert 0.0 < h[2] < 2.0


def test_nobody_walks_through_a_gondola() -> None:
    store, floor = generate_store(BUSY, np.random.default_rng(3))
    script = Behaviour(store, floor, BUSY, np.random.default_rng(4), 300.0).run()
    boxes = np.array(
        [
            (
                p.center[0] - 0.2,
                p.center[0] + 0.2,
                p.center[1] - p.size[0] / 2,
                p.center[1] + p.size[0] / 2,
            )
            for p in store.plates
        ]
    )
    for person in script.persons:
        ts = np.arange(person.times[0], person.times[-1], 0.05)
        x, y = np.interp(ts, person.times, person.xs), np.interp(ts, person.times, person.ys)
        inside = (
            (x[:, None] > boxes[:, 0] + 0.05)
            & (x[:, None] < boxes[:, 1] - 0.05)
            & (y[:, None] > boxes[:, 2])
            & (y[:, None] < boxes[:, 3])
        )
        assert not inside.any(), person.name


def test_hard_tracks_change_ids(hard: Recording) -> None:
    persons = hard.truth["persons"]
    assert any(len(p["track_ids"]) > 1 for p in persons)
    ids = [m.id for m in hard.messages if m.type == "track"]
    accounts = {m.account for m in hard.messages if m.type == "entry"}
    assert not set(ids) & accounts


def test_a_persons_looks_stay_theirs_across_track_ids(busy: Recording) -> None:
    """Frames of one person look alike whatever id they carry; two people look apart."""
    frames: dict[str, list[list[float]]] = {}
    for m in busy.messages:
        if m.type == "track":
            assert m.look is not None and len(m.look) == 8
            frames.setdefault(m.id, []).append(m.look)
    means: dict[int, np.ndarray] = {}
    spread = []
    for i, person in enumerate(busy.truth["persons"]):
        looks = np.array([v for tid in person["track_ids"] for v in frames.get(tid, [])])
        if len(looks) > 20:
            means[i] = looks.mean(axis=0)
            spread.append(float(np.linalg.norm(looks - means[i], axis=1).mean()))
    assert len(means) >= 3
    apart = [float(np.linalg.norm(means[a] - means[b])) for a in means for b in means if a < b]
    # busy: sd 0.3 per value within a person (about 0.85 over 8 values), sd 1 between people
    assert max(spread) < 1.2
    assert float(np.median(apart)) > 2.5


def test_looks_leave_the_rest_of_the_recording_as_it_was(tmp_path: Path) -> None:
    """Looks draw from their own random stream: without them, every other line is the same."""
    from walkout.sim import simulate_config
    from walkout.sim.presets import HARD

    plain = HARD.model_validate({**HARD.model_dump(), "look_dims": 0})
    simulate_config(tmp_path / "looks", HARD, seed=3, minutes=1.0)
    simulate_config(tmp_path / "plain", plain, seed=3, minutes=1.0)
    with_looks = (tmp_path / "looks" / "events.jsonl").read_text().splitlines()
    without = (tmp_path / "plain" / "events.jsonl").read_text().splitlines()
    assert len(with_looks) == len(without)
    stripped = [json.loads(line) for line in with_looks]
    assert any("look" in msg for msg in stripped)
    for msg in stripped:
        msg.pop("look", None)
    assert stripped == [json.loads(line) for line in without]
