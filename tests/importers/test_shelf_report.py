"""Measuring a whole recording, on one built by hand with known harshness (as a simulator would).

Also runs the bench script's table and figure on it, so ``--sim`` works before the simulator does.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from walkout.importers.shelf_report import load_traces, measure_recording, read_true_actions, stacks
from walkout.recording.files import EventsWriter, write_store
from walkout.recording.models import Gate, Plate, Product, StoreLayout

RATE = 30.0
MINUTES = 2.0
NOISE = 1.5
DRIFT = 2.0  # g per minute, every plate
WATER = 500.0
PICKS = ((20.0, "A-2"), (60.0, "A-2"), (90.0, "A-3"))
NEIGHBOUR_RING = 15.0
STACK_RING = 5.0


def _plate(pid: str, shelf: str, x: float, z: float, sku: str) -> Plate:
    return Plate(
        id=pid,
        shelf=shelf,
        center=(x, 2.0, z),
        size=(0.3, 0.4),
        facing=(0.0, -1.0),
        skus=[sku],
        noise_sd_g=NOISE,
    )


def build_recording(folder: Path, seed: int = 0) -> Path:
    """Two stacked shelves of three plates (A above B) and one far shelf C.

    Every plate: white noise of sd NOISE and DRIFT g/min. At each pick a 500 g step on the touched
    plate with 0.5 s of ringing, 1 s of NEIGHBOUR_RING on the rest of the shelf, and STACK_RING
    on shelf B. 1 % of lines are lost, 0.5 % of readings are null, one 300 g spike on C-1.
    """
    folder.mkdir(parents=True, exist_ok=True)
    store = StoreLayout(
        store_id="hand-built",
        products=[
            Product(sku="water", price=Decimal("1.00"), weight_g=WATER, weight_sd_g=5.0),
            Product(sku="soup", price=Decimal("2.00"), weight_g=400.0, weight_sd_g=4.0),
        ],
        plates=[_plate(f"A-{i}", "A", 1.0 + 0.3 * i, 1.4, "water") for i in (1, 2, 3)]
        + [_plate(f"B-{i}", "B", 1.0 + 0.3 * i, 0.9, "soup") for i in (1, 2, 3)]
        + [_plate(f"C-{i}", "C", 6.0 + 0.3 * i, 1.4, "soup") for i in (1, 2, 3)],
        gates=[
            Gate(id="in", kind="entry", center=(0.5, 0.0), width=0.9),
            Gate(id="out", kind="exit", center=(2.5, 0.0), width=0.9),
        ],
        sensor_rate_hz=RATE,
    )
    write_store(folder, store)
    rng = np.random.default_rng(seed)
    t = np.arange(0, MINUTES * 60, 1 / RATE)
    g = {s: 1000.0 + rng.normal(0, NOISE, (t.size, 3)) + DRIFT * t[:, None] / 60 for s in "ABC"}
    for t0, pid in PICKS:
        col = int(pid[-1]) - 1
        ramp = np.clip((t - t0) / 0.15, 0, 1)
        g["A"][:, col] -= WATER * ramp
        ring = (t >= t0) & (t < t0 + 0.5)
        g["A"][ring, col] += 30 * np.sin(2 * np.pi * 4 * (t[ring] - t0))
        near = (t >= t0) & (t < t0 + 1.0)
        wave = np.sin(2 * np.pi * 3 * (t[near] - t0))
        for other in range(3):
            if other != col:
                g["A"][near, other] += NEIGHBOUR_RING * wave
        g["B"][near] += STACK_RING * wave[:, None]
    g["C"][int(40 * RATE), 0] += 300.0
    lost = rng.random((t.size, 3)) < 0.01
    nulls = rng.random((t.size, 3, 3)) < 0.005
    with EventsWriter(folder / "events.jsonl") as writer:
        for i, ti in enumerate(t.tolist()):
            for k, shelf in enumerate("ABC"):
                if lost[i, k]:
                    continue
                vals = g[shelf][i]
                row = [None if nulls[i, k, j] else round(float(v), 3) for j, v in enumerate(vals)]
                writer.write({"t": round(ti, 4), "type": "weight", "shelf": shelf, "g": row})
    events = [{"t": t0 + 0.3, "plate": pid, "sku": "water", "kind": "pick"} for t0, pid in PICKS]
    truth = {"receipts": [{"account": "a", "items": {"water": 3}}], "events": events}
    (folder / "truth.json").write_text(json.dumps(truth))
    return folder


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_recording(tmp_path_factory.mktemp("hand") / "rec")


def test_load_traces_and_truth(recording: Path) -> None:
    store, traces = load_traces(recording)
    assert set(traces) == {"A", "B", "C"}
    a = traces["A"]
    assert a.g.shape == (a.t.size, 3)
    assert np.all(np.diff(a.t) > 0)
    assert 0.98 * MINUTES * 60 * RATE < a.t.size < MINUTES * 60 * RATE
    actions = read_true_actions(recording)
    assert [(x.plates, x.sku) for x in actions] == [((p,), "water") for _, p in PICKS]
    assert stacks(store) == {"A": ["B"], "B": ["A"], "C": []}


def test_measure_recording_finds_the_known_figures(recording: Path) -> None:
    r = measure_recording(recording)
    assert (r.plates, r.shelves) == (9, 3)
    assert r.rate_hz == pytest.approx(RATE, rel=0.01)
    assert np.median(r.noise_sd_g) == pytest.approx(NOISE, rel=0.1)
    assert np.median(r.level_sd_g) == pytest.approx(NOISE, rel=0.15)
    assert np.median(r.drift_g_per_min) == pytest.approx(DRIFT, abs=0.5)
    assert r.missing_line_rate == pytest.approx(0.01, abs=0.004)
    assert r.null_rate == pytest.approx(0.005, abs=0.002)
    assert r.isolated_spikes == 1
    assert r.shocks == ()  # two shelves out of three move at a pick, never half and 3
    assert len(r.picks) == 3
    for p in r.picks:
        assert p.touch is not None
        assert p.touch.step_g == pytest.approx(-WATER, abs=5)
        assert abs(p.gap_pct) < 1.5
        assert abs(p.shelf_gap_pct) < 2.5
        assert p.touch.start_s == pytest.approx(p.action.t - 0.3, abs=0.1)
        assert 0.3 < p.touch.duration_s < 1.2
        assert max(b.ptp_g for b in p.neighbours) == pytest.approx(2 * NEIGHBOUR_RING, abs=8)
        assert max(b.duration_s for b in p.neighbours) == pytest.approx(1.0, abs=0.3)
        assert {b.plate for b in p.stacked} == {"B-1", "B-2", "B-3"}
        assert max(b.ptp_g for b in p.stacked) == pytest.approx(2 * STACK_RING, abs=8)


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "real_shelves.py"
    spec = importlib.util.spec_from_file_location("real_shelves", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["real_shelves"] = module
    spec.loader.exec_module(module)
    return module


def test_bench_table_and_figure(recording: Path, tmp_path: Path, capsys) -> None:
    bench = _bench()
    report = measure_recording(recording, name="hand")
    labels = [label for label, _ in bench.rows(report)]
    assert "unit gap % on the action's plates" in labels
    bench.print_tables([report, report], plain=True)
    out = capsys.readouterr().out
    assert "noise sd g, sample-to-sample" in out and "hand" in out
    png = tmp_path / "fig.png"
    bench.plot_real_vs_sim(recording, recording, png)
    assert png.stat().st_size > 10_000
