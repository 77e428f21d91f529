"""Load-cell signals: steps land inside reaches, put-backs restore a unit's own weight,
straddling units split across two plates."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from tests.sim.recording import Recording

from walkout.sim import simulate_config
from walkout.sim.presets import BUSY, EASY

SETTLE_S = 2.5  # hand effects have died out by then


def _level(rec: Recording, plate: str, t0: float, t1: float) -> float:
    return statistics.median(rec.signal(plate, t0, t1))


def _quiet(
    events: list[dict], plates: list[str], t0: float, t1: float, skip: tuple[int, ...]
) -> bool:
    """No other shelf action touches these plates between t0 and t1."""
    return not any(
        i not in skip and set(e["plates"]) & set(plates) and t0 - 3 < e["t"] < t1 + 3
        for i, e in enumerate(events)
    )


def test_putback_restores_the_units_own_weight(tmp_path: Path) -> None:
    cfg = EASY.model_validate(
        {**EASY.model_dump(), "p_putback": 0.7, "p_multi_unit": 0.0, "stops": (4, 6)}
    )
    simulate_config(tmp_path, cfg, seed=11, minutes=3.0)
    rec = Recording(tmp_path)
    events = rec.truth["events"]
    checked = 0
    for j, back in enumerate(events):
        if back["kind"] != "putback" or back["misplaced"]:
            continue
        i = next(
            i
            for i, e in enumerate(events)
            if e["kind"] == "pick" and back["unit_ids"][0] in e["unit_ids"]
        )
        pick = events[i]
        plate = back["plate"]
        if pick["plate"] != plate or not _quiet(events, [plate], pick["t"], back["t"], (i, j)):
            continue
        before = _level(rec, plate, pick["reach"][0] - 1.5, pick["reach"][0] - 0.1)
        between = _level(rec, plate, pick["reach"][1] + SETTLE_S, back["reach"][0] - 0.1)
        after = _level(rec, plate, back["reach"][1] + SETTLE_S, back["reach"][1] + SETTLE_S + 1.5)
        weight = pick["unit_weights_g"][0]
        assert abs((before - between) - weight) < 1.5
        assert abs(after - before) < 1.5
        checked += 1
    assert checked >= 2


def test_step_happens_inside_the_reach(busy: Recording) -> None:
    for e in busy.truth["events"]:
        assert e["reach"][0] < e["t"] < e["reach"][1]


def test_straddling_unit_splits_across_two_neighbours(tmp_path: Path) -> None:
    cfg = BUSY.model_validate({**BUSY.model_dump(), "straddlers": (8, 10), "p_crowd": 0.0})
    simulate_config(tmp_path, cfg, seed=6, minutes=2.0)
    rec = Recording(tmp_path)
    events = rec.truth["events"]
    checked = 0
    for k, e in enumerate(events):
        if len(e["plates"]) != 2 or e["kind"] != "pick":
            continue
        (shelf_a, ia), (shelf_b, ib) = rec.plate(e["plates"][0]), rec.plate(e["plates"][1])
        assert shelf_a == shelf_b and ib == ia + 1
        assert all(d < 0 for d in e["delta_g"])
        assert abs(-sum(e["delta_g"]) - sum(e["unit_weights_g"])) < 0.3
        if e["qty"] == 1:
            share = -e["delta_g"][0] / e["unit_weights_g"][0]
            assert 0.29 <= share <= 0.71
        if not _quiet(events, e["plates"], e["t"], e["t"], (k,)):
            continue
        for plate, delta in zip(e["plates"], e["delta_g"], strict=True):
            before = _level(rec, plate, e["reach"][0] - 1.5, e["reach"][0] - 0.1)
            after = _level(rec, plate, e["reach"][1] + SETTLE_S, e["reach"][1] + SETTLE_S + 1.0)
            assert abs((after - before) - delta) < 3.0
        checked += 1
    assert checked >= 1


def test_easy_sensors_are_clean(easy: Recording) -> None:
    """Away from any action, easy readings only carry the plate's own noise."""
    plate = easy.store.plates[0]
    touched = [e for e in easy.truth["events"] if plate.id in e["plates"]]
    end = touched[0]["reach"][0] if touched else 60.0
    values = easy.signal(plate.id, 0.0, min(end, 60.0) - 0.5)
    assert statistics.pstdev(values) < 2.0 * plate.noise_sd_g


def test_truth_file_is_plain_json(hard: Recording) -> None:
    assert set(json.loads((hard.folder / "truth.json").read_text())) == {
        "receipts",
        "events",
        "persons",
    }
