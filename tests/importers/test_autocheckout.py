"""The AutoCheckout importer: on the real case in ../shared, and on small fake cases for errors."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

from walkout.importers import ImportSummary, import_autocheckout
from walkout.importers.autocheckout import ACCOUNT, slug
from walkout.recording.files import (
    LineError,
    RecordingError,
    iter_messages,
    read_store,
    read_truth,
)
from walkout.recording.models import EntryMsg, ExitMsg, TrackMsg, WeightMsg

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "autocheckout-cps-test-01"
needs_real = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"real AutoCheckout case not found at {REAL} (kept outside the repo)"
)

TACO, FIJI = "071063437089", "632565000012"


# --- the real case -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ImportSummary, float]:
    if not REAL.is_dir():
        pytest.skip(f"real AutoCheckout case not found at {REAL}")
    out = tmp_path_factory.mktemp("real")
    start = time.perf_counter()
    summary = import_autocheckout(REAL, out)
    return out, summary, time.perf_counter() - start


@needs_real
def test_real_import_is_complete(real: tuple[Path, ImportSummary, float]) -> None:
    out, summary, _seconds = real  # speed is a bench figure, not a test
    # 348 channels: 294 with geometry and readings; 54 unconnected channels without geometry.
    assert summary.plates == 294
    assert summary.plates + len(summary.skipped) == 348
    assert summary.shelves == 29
    assert 33.0 < summary.duration_s < 35.0
    assert summary.samples > 29 * 2000
    store = read_store(out)
    assert len(store.plates) == 294
    assert store.sensor_rate_hz == 60.0
    assert len(store.products) == summary.products


@needs_real
def test_real_store_geometry_and_planogram(real: tuple[Path, ImportSummary, float]) -> None:
    out, _, _ = real
    store = read_store(out)
    plates = {p.id: p for p in store.plates}
    fiji = plates["g1-s5-p10"]
    assert fiji.shelf == "g1-s5"
    assert fiji.center == pytest.approx((0.0254 + 9.5 * 0.1016, 0.4921 - 0.2032, 1.3748), abs=1e-3)
    assert fiji.size == pytest.approx((0.1016, 0.4064), abs=1e-4)
    assert fiji.facing == (0.0, -1.0)
    assert FIJI in fiji.skus
    assert TACO in plates["g2-s5-p4"].skus and TACO in plates["g2-s5-p5"].skus
    # Gondola 5 is turned by -90 degrees: its shelves face west.
    assert plates["g5-s1-p1"].facing == pytest.approx((-1.0, 0.0))
    # Plates of one shelf are in plate order (the order of weight.g).
    g1s5 = [p.id for p in store.shelves()["g1-s5"]]
    assert g1s5 == [f"g1-s5-p{i}" for i in range(1, 13)]
    assert all(0.05 <= p.noise_sd_g < 20 for p in store.plates)
    products = {p.sku: p for p in store.products}
    assert products[FIJI].weight_g == 538.0
    assert products[FIJI].weight_sd_g == pytest.approx(538 * 0.03)
    doc = json.loads((out / "store.json").read_text())
    assert doc["time_origin_unix"] == pytest.approx(1580250245.09, abs=0.01)


@needs_real
def test_real_events_validate(real: tuple[Path, ImportSummary, float]) -> None:
    out, summary, _ = real
    store = read_store(out)
    known = {s: len(ps) for s, ps in store.shelves().items()}
    errors: list[LineError] = []
    msgs = list(iter_messages(out, errors.append, known, {g.id for g in store.gates}))
    assert errors == []
    weights = [m for m in msgs if isinstance(m, WeightMsg)]
    assert len(weights) == summary.samples
    times = [m.t for m in msgs]
    assert times == sorted(times)
    assert isinstance(msgs[0], EntryMsg) and msgs[0].account == ACCOUNT
    assert isinstance(msgs[-1], ExitMsg)
    tracks = [m for m in msgs if isinstance(m, TrackMsg)]
    assert {m.id for m in tracks} == {"synthetic-1"}
    assert len(tracks) == pytest.approx(summary.duration_s * 10, abs=2)


@needs_real
def test_real_truth_has_the_two_labelled_picks(real: tuple[Path, ImportSummary, float]) -> None:
    out, _, _ = real
    truth = read_truth(out)
    assert [(r.account, r.items) for r in truth.receipts] == [(ACCOUNT, {TACO: 1, FIJI: 1})]
    events = json.loads((out / "truth.json").read_text())["events"]
    assert [(e["sku"], e["plates"]) for e in events] == [
        (TACO, ["g2-s5-p4", "g2-s5-p5"]),
        (FIJI, ["g1-s5-p10"]),
    ]
    assert events[0]["t"] == pytest.approx(9.91, abs=0.01)
    assert events[1]["t"] == pytest.approx(15.91, abs=0.01)


# --- small fake cases ----------------------------------------------------------------------------


def _box(tx: float, ty: float, tz: float, rz: float, dx: float, dy: float, dz: float) -> dict:
    return {
        "transform": {
            "translation": {"x": tx, "y": ty, "z": tz},
            "rotation": {"x": 0, "y": 0, "z": rz},
        },
        "dim_x": dx,
        "dim_y": dy,
        "dim_z": dz,
    }


def make_case(root: Path, rotation_z: float = 0.0, n_samples: int = 120) -> Path:
    """One gondola, one shelf, two plates with geometry and a third channel without."""
    case = root / "case"
    (case / "plates").mkdir(parents=True)
    (case / "store_meta").mkdir()
    meta = case / "store_meta"
    gondola = {"id": {"id": 1}, "coordinates": _box(1, 2, 0, rotation_z, 1, 0.03, 2)}
    meta.joinpath("Gondolas.json").write_text(json.dumps({"gondolas": [gondola]}))
    meta.joinpath("Shelves.json").write_text(
        json.dumps(
            {
                "shelves": [
                    {
                        "id": {"gondola_id": {"id": 1}, "shelf_index": 1},
                        "coordinates": _box(0, -0.4, 1.0, 0, 1, 0.4, 0.2),
                    }
                ]
            }
        )
    )
    plates = [
        {
            "id": {"shelf_id": {"gondola_id": {"id": 1}, "shelf_index": 1}, "plate_index": i},
            "coordinates": _box((i - 1) * 0.1, 0, 0, 0, 0.1, 0.4, 0),
        }
        for i in (1, 2)
    ]
    meta.joinpath("Plates.json").write_text(json.dumps({"plates": plates}))
    rng = np.random.default_rng(0)
    t = 1_600_000_000.0 + np.arange(n_samples) / 60.0
    for i, level in ((1, 1000.0), (2, 500.0), (3, 7.0)):
        g = level + rng.normal(0, 1.0, n_samples)
        if i == 2:
            g[60:] -= 250.0  # a pick
        rows = "\n".join(f"{a!r},{b!r}" for a, b in zip(t.tolist(), g.tolist(), strict=True))
        (case / "plates" / f"gondola_1_shelf_1_plate_{i}.csv").write_text(rows + "\n")
    (case / "product.csv").write_text(
        "Name,Gondola,Shelf,Plate,Weight,Price,Image\n"
        "Soup Can,1,1,1,400.0,2,http://x\n"
        "Water 0.5L,1,1,2,250.0,1,http://x\n"
        "Elsewhere,-1,-1,-1,100.0,1,http://x\n"
    )
    (case / "labels.json").write_text(
        json.dumps(
            {
                "events": [
                    {
                        "observation": {
                            "position": {"gondola": 1, "shelf": 1, "plates": [2]},
                            "products": [
                                {"id": "0001", "name": "Water 0.5L", "price": 1, "weight": 250}
                            ],
                            "time": "2020-09-13_12-26-41",
                        },
                        "putback": 0,
                    }
                ]
            }
        )
    )
    return case


def test_fake_case_imports(tmp_path: Path) -> None:
    case = make_case(tmp_path)
    out = tmp_path / "out"
    summary = import_autocheckout(case, out)
    assert (summary.plates, summary.shelves, summary.products) == (2, 1, 2)
    assert summary.samples == 120
    assert summary.skipped and "plate_3" in summary.skipped[0]
    store = read_store(out)
    p1, p2 = store.plates
    assert (p1.id, p2.id) == ("g1-s1-p1", "g1-s1-p2")
    assert p1.center == pytest.approx((1.05, 1.8, 1.0))
    assert p2.center == pytest.approx((1.15, 1.8, 1.0))
    assert p1.facing == (0.0, -1.0)
    assert p2.skus == ["0001"]  # the UPC from labels.json
    assert p1.skus == [slug("Soup Can")] == ["soup-can"]
    assert p1.noise_sd_g == pytest.approx(1.0, rel=0.3)
    truth = json.loads((out / "truth.json").read_text())
    assert truth["receipts"] == [{"account": ACCOUNT, "items": {"0001": 1}}]
    assert truth["events"][0]["plates"] == ["g1-s1-p2"]
    assert truth["events"][0]["t"] == pytest.approx(1600000001.0 - 1600000000.0)


def test_rotated_gondola_faces_the_other_way(tmp_path: Path) -> None:
    out = tmp_path / "out"
    import_autocheckout(make_case(tmp_path, rotation_z=-math.pi / 2), out)
    p1 = read_store(out).plates[0]
    assert p1.facing == pytest.approx((-1.0, 0.0))
    # Shelf-local (0.05, -0.2) turned by -90 degrees is (-0.2, -0.05).
    assert p1.center[:2] == pytest.approx((1 - 0.2, 2 - 0.05))


def test_without_synthetic_shopper_only_weights(tmp_path: Path) -> None:
    out = tmp_path / "out"
    import_autocheckout(make_case(tmp_path), out, synthetic_shopper=False)
    kinds = {m.type for m in iter_messages(out)}
    assert kinds == {"weight"}
    assert read_truth(out).receipts == []


def test_misaligned_timestamps_are_matched_with_nulls(tmp_path: Path) -> None:
    case = make_case(tmp_path)
    path = case / "plates" / "gondola_1_shelf_1_plate_2.csv"
    lines = path.read_text().splitlines()
    shifted = []
    for line in lines[:-10]:  # the last 10 samples of this plate are lost
        t, g = line.split(",")
        shifted.append(f"{float(t) + 0.004!r},{g}")
    path.write_text("\n".join(shifted) + "\n")
    out = tmp_path / "out"
    import_autocheckout(case, out)
    weights = [m for m in iter_messages(out) if isinstance(m, WeightMsg)]
    assert len(weights) == 120
    assert all(m.g[1] is not None for m in weights[:110])
    assert all(m.g[1] is None for m in weights[110:])


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda c: (c / "product.csv").unlink(), "product.csv: missing"),
        (
            lambda c: (c / "product.csv").write_text("Name,Gondola\nX,1\n"),
            "product.csv:1: missing column(s) Shelf, Plate, Weight, Price",
        ),
        (
            lambda c: (c / "product.csv").write_text(
                "Name,Gondola,Shelf,Plate,Weight,Price\nA,1,1,1,10,1\nB,1,one,2,10,1\n"
            ),
            "product.csv:3: malformed row",
        ),
        (lambda c: _rmtree(c / "store_meta"), "store_meta: missing"),
        (lambda c: (c / "store_meta" / "Plates.json").write_text("{"), "Plates.json: not valid"),
        (lambda c: _rmtree(c / "plates"), "plates: missing"),
        (lambda c: _break_line(c, 3, "1600000000.03,12.5,x"), "plate_2.csv:3: expected 2 fields"),
        (lambda c: _break_line(c, 5, "1600000000.07,twelve"), "plate_2.csv:5: not a number"),
    ],
)
def test_broken_inputs_name_the_file(tmp_path: Path, damage, expected: str) -> None:
    case = make_case(tmp_path)
    damage(case)
    with pytest.raises(RecordingError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        import_autocheckout(case, tmp_path / "out")


def test_missing_case_folder(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="no such directory"):
        import_autocheckout(tmp_path / "nope", tmp_path / "out")


def _rmtree(path: Path) -> None:
    for child in sorted(path.rglob("*"), reverse=True):
        child.unlink() if child.is_file() else child.rmdir()
    path.rmdir()


def _break_line(case: Path, number: int, text: str) -> None:
    path = case / "plates" / "gondola_1_shelf_1_plate_2.csv"
    lines = path.read_text().splitlines()
    lines[number - 1] = text
    path.write_text("\n".join(lines) + "\n")
