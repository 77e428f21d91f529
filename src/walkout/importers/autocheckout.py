"""Import an AutoCheckout competition case (CPS-IoT Week 2020) as a walkout recording.

The competition's cases hold real load-cell readings, a planogram and the store's geometry, but
in their own layout: one CSV per plate (``plates/gondola_G_shelf_S_plate_P.csv``, rows
``unix_time_s,grams``), ``product.csv`` and ``store_meta/{Gondolas,Shelves,Plates}.json``.
``import_autocheckout`` turns one case into a recording folder (``recording-v1.md``) so the engine,
``walkout eval`` and the shelf benches run on real shelves.

Choices, and why:

- **Shelves and plates.** Gondola G shelf S becomes shelf ``gG-sS``; its plates ``gG-sS-pP`` in
  plate order. Only plates that have both readings and geometry are imported: the hubs report 12
  channels per shelf (14 on one), but a 0.9144 m gondola holds 9 plates of 0.1016 m, and the
  channels without geometry are flat (unconnected). They are listed in ``ImportSummary.skipped``.
- **Geometry.** Gondolas are placed in the world, shelves in their gondola, plates in their shelf,
  each by a translation and a Rodrigues rotation vector; a point is mapped as
  ``T_g + R_g (T_s + R_s (T_p + R_p p))``. A box's translation is its corner and it extends
  along its own +x, +y, +z by ``dim_x, dim_y, dim_z`` (gondola 2 starts exactly where gondola 1's
  ``dim_x`` ends, and plate P sits at ``(P - 1) * dim_x``), so a plate's centre is the corner
  plus ``R (dim_x / 2, dim_y / 2, dim_z)``. ``size`` is ``[dim_x, dim_y]``.
- **Facing.** A shelf's translation is ``y = -depth`` in its gondola and its plates extend +y back
  to the gondola's back panel at ``y = 0``: the open side, where a shopper reaches in, is the
  gondola's local -y. ``facing`` is that direction rotated into the world and projected on the
  floor: (0, -1) for gondolas 1-4, (-1, 0) for gondola 5, which is turned by -90 degrees and
  stands at the end of the row, facing back into the store.
- **Time.** ``t`` is unix time minus the earliest reading of any imported plate; that origin is
  kept in store.json as the optional field ``time_origin_unix``. The plates of one gondola share
  timestamps; should they not, each plate's readings are matched to the shelf's fullest plate by
  nearest time (within half a sample period) and a plate with no match is ``null`` there.
- **Products.** Only products standing on an imported plate, plus the labelled ones, are listed
  (the catalogue's other 300 products are not in the store and would only add confusable
  weights). The sku is the UPC when ``labels.json`` gives it, else a slug of the name.
  ``weight_sd_g`` is ``weight_sd_frac`` (3 %) of the listed weight: the labelled FIJI bottle
  weighed 4 % more than listed, a bag of chips 3 % less.
- **Noise.** ``noise_sd_g`` is measured on each plate's own readings: the median absolute deviation
  of first differences, scaled to a Gaussian sd (``shelf_stats.noise_sd``), which steps, drift and
  short bursts barely move.
- **A synthetic shopper.** The case has no cameras and no app scans, but the engine charges shelf
  events to a shopper it can see. With ``synthetic_shopper`` we add one account
  ("autocheckout-shopper") that scans at an entry gate placed on the open floor at t = 0, and one
  track ("synthetic-1", 10 Hz, no hands) that walks from that gate to the middle of the aisle in
  two seconds, stands there for the whole case, and walks out through an exit gate at the end,
  where the ``exit`` line is. Being the only person inside, it is the only candidate for every
  shelf event, so the receipt tests the weight side alone. An engine that requires a shopper to
  be within arm's reach of a plate will find none: the standing point is the middle of the aisle
  space, 1 to 2.6 m from the plates.
- **Truth.** ``labels.json`` (when present) becomes truth.json: the account's receipt and, as the
  optional field ``events``, each labelled action with its time (label times are whole seconds,
  truncated: the real step comes up to a second later), plate ids and sku.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError
from scipy.spatial.transform import Rotation  # type: ignore[import-untyped]

from walkout.importers.shelf_stats import noise_sd
from walkout.recording.files import EventsWriter, RecordingError
from walkout.recording.models import Gate, Plate, Product, StoreLayout, Truth

log = logging.getLogger(__name__)

ACCOUNT = "autocheckout-shopper"
TRACK_ID = "synthetic-1"
SENSOR_RATE_HZ = 60.0
TRACK_RATE_HZ = 10.0
PLATE_FILE = re.compile(r"^gondola_(\d+)_shelf_(\d+)_plate_(\d+)\.csv$")
LABEL_TIME_FORMAT = "%Y-%m-%d_%H-%M-%S"

PlateKey = tuple[int, int, int]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import wrote.

    Attributes:
        plates: Plates in store.json.
        shelves: Shelves in store.json.
        products: Products in store.json.
        samples: ``weight`` lines written (one per shelf per sample time).
        duration_s: Time from the first to the last reading.
        skipped: Plate files left out, each with the reason.
    """

    plates: int
    shelves: int
    products: int
    samples: int
    duration_s: float
    skipped: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{self.plates} plates on {self.shelves} shelves, {self.products} products, "
            f"{self.samples} weight lines over {self.duration_s:.1f} s"
        )
        return text + (f"; {len(self.skipped)} plate files skipped" if self.skipped else "")


@dataclass(frozen=True, slots=True)
class _Box:
    """One node of the store_meta hierarchy: its pose in its parent and its dimensions."""

    rotation: Rotation
    translation: FloatArray
    dims: FloatArray


@dataclass(frozen=True, slots=True)
class _PlateGeometry:
    center: tuple[float, float, float]
    size: tuple[float, float]
    facing: tuple[float, float]


@dataclass(frozen=True, slots=True)
class _CatalogueRow:
    name: str
    key: PlateKey
    weight_g: float
    price: Decimal
    line: int


@dataclass(frozen=True, slots=True)
class _Label:
    t_unix: float
    plates: tuple[int, int, tuple[int, ...]]
    name: str
    upc: str | None
    weight_g: float | None
    price: Decimal | None
    putback: bool


# --- store_meta geometry ---------------------------------------------------------------------


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise RecordingError(f"{path}: missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordingError(f"{path}: not valid JSON: {exc}") from exc


def _vec(node: dict[str, Any]) -> FloatArray:
    return np.array([float(node.get(axis, 0.0)) for axis in ("x", "y", "z")])


def _box(entry: dict[str, Any]) -> _Box:
    coords = entry["coordinates"]
    transform = coords["transform"]
    dims = np.array([float(coords.get(f"dim_{a}", 0.0)) for a in ("x", "y", "z")])
    return _Box(
        rotation=Rotation.from_rotvec(_vec(transform["rotation"])),
        translation=_vec(transform["translation"]),
        dims=dims,
    )


def _read_boxes(path: Path, list_key: str, key_of: Any) -> dict[Any, _Box]:
    raw = _load_json(path)
    try:
        entries = raw[list_key]
        return {key_of(e["id"]): _box(e) for e in entries}
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordingError(f"{path}: unexpected layout ({exc!r} missing or malformed)") from exc


def read_geometry(meta: Path) -> dict[PlateKey, _PlateGeometry]:
    """Plate centre, size and facing in store coordinates, from the hierarchical transforms."""
    if not meta.is_dir():
        raise RecordingError(f"{meta}: missing; the store geometry (store_meta/) is required")
    gondolas = _read_boxes(meta / "Gondolas.json", "gondolas", lambda i: int(i["id"]))
    shelves = _read_boxes(
        meta / "Shelves.json",
        "shelves",
        lambda i: (int(i["gondola_id"]["id"]), int(i["shelf_index"])),
    )
    plates = _read_boxes(
        meta / "Plates.json",
        "plates",
        lambda i: (
            int(i["shelf_id"]["gondola_id"]["id"]),
            int(i["shelf_id"]["shelf_index"]),
            int(i["plate_index"]),
        ),
    )
    out: dict[PlateKey, _PlateGeometry] = {}
    for key, plate in plates.items():
        gondola = gondolas.get(key[0])
        shelf = shelves.get(key[:2])
        if gondola is None or shelf is None:
            log.warning("store_meta: plate %s has no gondola or shelf; left out", key)
            continue
        rot = gondola.rotation * shelf.rotation * plate.rotation
        corner = gondola.translation + gondola.rotation.apply(
            shelf.translation + shelf.rotation.apply(plate.translation)
        )
        center = corner + rot.apply(plate.dims * np.array([0.5, 0.5, 1.0]))
        # The open side of a shelf is its gondola's local -y (see the module docstring).
        toward_aisle = (gondola.rotation * shelf.rotation).apply([0.0, -1.0, 0.0])[:2]
        facing = toward_aisle / np.linalg.norm(toward_aisle)
        out[key] = _PlateGeometry(
            center=(round(center[0], 4), round(center[1], 4), round(center[2], 4)),
            size=(round(float(plate.dims[0]), 4), round(float(plate.dims[1]), 4)),
            facing=(round(float(facing[0]), 4) + 0.0, round(float(facing[1]), 4) + 0.0),
        )
    return out


# --- plate readings ----------------------------------------------------------------------------


def read_plate_csv(path: Path) -> tuple[FloatArray, FloatArray]:
    """Timestamps (unix s) and grams of one plate file, sorted by time.

    A value of ``nan`` is kept (a dropped sample); anything else unreadable is an error naming
    the file and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordingError(f"{path}: cannot read: {exc}") from exc
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise RecordingError(f"{path}: empty; expected rows 'unix_time_s,grams'")
    try:
        table = np.array([line.split(",") for line in lines], dtype=np.float64)
        ok = table.ndim == 2 and table.shape[1] == 2 and bool(np.isfinite(table[:, 0]).all())
    except ValueError:
        ok = False
    if not ok:
        raise RecordingError(_first_bad_line(path, lines))
    order = np.argsort(table[:, 0], kind="stable")
    return table[order, 0], table[order, 1]


def _first_bad_line(path: Path, lines: list[str]) -> str:
    """The slow path, run only once a file is known to be bad: which line, and why."""
    for number, line in enumerate(lines, start=1):
        fields = line.split(",")
        if len(fields) != 2:
            return f"{path}:{number}: expected 2 fields 'unix_time_s,grams', got {line!r}"
        try:
            t, _ = float(fields[0]), float(fields[1])
        except ValueError:
            return f"{path}:{number}: not a number in {line!r}"
        if not np.isfinite(t):
            return f"{path}:{number}: timestamp is not finite in {line!r}"
    return f"{path}: malformed"


def _align(
    times: list[FloatArray], values: list[FloatArray], tolerance_s: float
) -> tuple[FloatArray, FloatArray, int]:
    """One shelf's readings on one clock: times (n,), grams (n, plates) with NaN for no sample.

    Returns the number of readings that matched no sample time (lost, counted for the log).
    """
    if all(t.shape == times[0].shape and np.array_equal(t, times[0]) for t in times):
        return times[0], np.column_stack(values), 0
    ref = times[int(np.argmax([t.size for t in times]))]
    grams = np.full((ref.size, len(times)), np.nan)
    lost = 0
    for col, (t, v) in enumerate(zip(times, values, strict=True)):
        right = np.clip(np.searchsorted(ref, t), 1, ref.size - 1)
        left = right - 1
        nearest = np.where(np.abs(ref[left] - t) <= np.abs(ref[right] - t), left, right)
        if ref.size == 1:
            nearest = np.zeros_like(nearest)
        close = np.abs(ref[nearest] - t) <= tolerance_s
        lost += int((~close).sum())
        grams[nearest[close], col] = v[close]
    return ref, grams, lost


# --- catalogue and labels ----------------------------------------------------------------------


def _read_catalogue(path: Path) -> list[_CatalogueRow]:
    if not path.is_file():
        raise RecordingError(f"{path}: missing; the catalogue and planogram are required")
    needed = ("Name", "Gondola", "Shelf", "Plate", "Weight", "Price")
    rows: list[_CatalogueRow] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in needed if c not in (reader.fieldnames or [])]
        if missing:
            raise RecordingError(f"{path}:1: missing column(s) {', '.join(missing)}")
        for row in reader:
            line = reader.line_num
            try:
                name = (row["Name"] or "").strip()
                key = (int(row["Gondola"]), int(row["Shelf"]), int(row["Plate"]))
                weight = float(row["Weight"])
                price = Decimal((row["Price"] or "").strip())
            except (TypeError, ValueError, InvalidOperation) as exc:
                raise RecordingError(f"{path}:{line}: malformed row {row!r}: {exc}") from exc
            if not name:
                raise RecordingError(f"{path}:{line}: empty product name")
            rows.append(_CatalogueRow(name, key, weight, price, line))
    return rows


def _read_labels(path: Path) -> list[_Label]:
    if not path.is_file():
        return []
    raw = _load_json(path)
    labels = []
    try:
        for event in raw["events"]:
            obs = event["observation"]
            pos = obs["position"]
            when = datetime.strptime(obs["time"], LABEL_TIME_FORMAT).replace(tzinfo=UTC)
            for product in obs["products"]:
                labels.append(
                    _Label(
                        t_unix=when.timestamp(),
                        plates=(
                            int(pos["gondola"]),
                            int(pos["shelf"]),
                            tuple(int(p) for p in pos["plates"]),
                        ),
                        name=str(product["name"]).strip(),
                        upc=str(product["id"]) if product.get("id") else None,
                        weight_g=float(product["weight"]) if product.get("weight") else None,
                        price=Decimal(str(product["price"])) if "price" in product else None,
                        putback=bool(event.get("putback", 0)),
                    )
                )
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise RecordingError(f"{path}: malformed label ({exc!r})") from exc
    return labels


def slug(name: str) -> str:
    """A stable sku from a product name: lower case, runs of other characters as one dash."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "product"


def _products(
    rows: list[_CatalogueRow],
    placed: set[PlateKey],
    labels: list[_Label],
    weight_sd_frac: float,
) -> tuple[list[Product], dict[str, str]]:
    """The store's products and the name-to-sku map (see the module docstring for which)."""
    upc = {lab.name: lab.upc for lab in labels if lab.upc}
    wanted: dict[str, _CatalogueRow] = {}
    for row in rows:
        if row.key in placed and row.name not in wanted:
            if row.weight_g <= 0:
                log.warning("product.csv:%d: %r weighs %s g; left out", row.line, row.name, 0)
                continue
            wanted[row.name] = row
    extra: dict[str, tuple[float, Decimal]] = {}
    for lab in labels:
        if lab.name in wanted or lab.name in extra:
            continue
        listed = [r for r in rows if r.name == lab.name and r.weight_g > 0]
        if listed:
            extra[lab.name] = (listed[0].weight_g, listed[0].price)
        elif lab.weight_g:
            extra[lab.name] = (lab.weight_g, lab.price or Decimal("0"))
    entries = [(n, r.weight_g, r.price) for n, r in wanted.items()]
    entries += [(n, w, p) for n, (w, p) in extra.items()]
    skus: dict[str, str] = {}
    used: set[str] = set()
    products = []
    for name, weight, price in entries:
        sku = upc.get(name) or slug(name)
        if sku in used:
            sku = f"{sku}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"
        used.add(sku)
        skus[name] = sku
        products.append(
            Product(
                sku=sku,
                name=name,
                price=price,
                weight_g=round(weight, 3),
                weight_sd_g=round(weight * weight_sd_frac, 3),
            )
        )
    return products, skus


# --- the import --------------------------------------------------------------------------------


def import_autocheckout(
    src: Path,
    out: Path,
    synthetic_shopper: bool = True,
    weight_sd_frac: float = 0.03,
) -> ImportSummary:
    """Convert one AutoCheckout case folder into a recording folder.

    Args:
        src: The case: ``plates/``, ``product.csv``, ``store_meta/``, optional ``labels.json``.
        out: The recording folder to write (created if needed; its files are overwritten).
        synthetic_shopper: Add the entry scan, the one standing track and the exit that let the
            engine charge the shelf events to someone (see the module docstring).
        weight_sd_frac: ``weight_sd_g`` as a share of each product's listed weight.

    Raises:
        RecordingError: a required part is missing or malformed; the message names the file (and
            line).
    """
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise RecordingError(f"{src}: not an AutoCheckout case folder (no such directory)")
    plate_dir = src / "plates"
    if not plate_dir.is_dir():
        raise RecordingError(f"{plate_dir}: missing; the plate readings are required")
    geometry = read_geometry(src / "store_meta")
    rows = _read_catalogue(src / "product.csv")
    labels = _read_labels(src / "labels.json")

    files: dict[PlateKey, Path] = {}
    for path in sorted(plate_dir.iterdir()):
        match = PLATE_FILE.match(path.name)
        if match:
            g, s, p = (int(v) for v in match.groups())
            files[(g, s, p)] = path
    if not files:
        raise RecordingError(f"{plate_dir}: no gondola_G_shelf_S_plate_P.csv files")
    skipped = tuple(
        f"{files[k].name}: no geometry in store_meta/Plates.json (unconnected channel)"
        for k in sorted(files)
        if k not in geometry
    )
    keys = sorted(k for k in files if k in geometry)
    if not keys:
        raise RecordingError(f"{plate_dir}: no plate file matches a plate of store_meta")
    readings = {k: read_plate_csv(files[k]) for k in keys}
    origin = min(float(readings[k][0][0]) for k in keys)

    by_shelf: dict[tuple[int, int], list[PlateKey]] = {}
    for key in keys:
        by_shelf.setdefault(key[:2], []).append(key)

    placed = set(keys)
    products, skus = _products(rows, placed, labels, weight_sd_frac)
    planogram: dict[PlateKey, list[str]] = {}
    for row in rows:
        if row.key in placed and row.name in skus:
            plate_skus = planogram.setdefault(row.key, [])
            if skus[row.name] not in plate_skus:
                plate_skus.append(skus[row.name])

    plates = []
    for key in keys:
        geo = geometry[key]
        plates.append(
            Plate(
                id=_plate_id(key),
                shelf=_shelf_id(key[:2]),
                center=geo.center,
                size=geo.size,
                facing=geo.facing,
                skus=planogram.get(key, []),
                noise_sd_g=round(max(noise_sd(readings[key][1]), 0.05), 3),
            )
        )

    shelf_t: list[FloatArray] = []
    shelf_g: list[FloatArray] = []
    for shelf_key, plate_keys in by_shelf.items():
        t, grams, lost = _align(
            [readings[k][0] for k in plate_keys],
            [readings[k][1] for k in plate_keys],
            0.5 / SENSOR_RATE_HZ,
        )
        if lost:
            log.warning("shelf %s: %d readings matched no sample time", shelf_key, lost)
        shelf_t.append(t - origin)
        shelf_g.append(grams)
    duration = max(float(t[-1]) for t in shelf_t)

    stand, entry_xy, exit_xy = _floor_points(plates)
    store_id = src.name if src.name.startswith("autocheckout") else f"autocheckout-{src.name}"
    gates = [
        Gate(id="in-1", kind="entry", center=entry_xy, width=0.9),
        Gate(id="out-1", kind="exit", center=exit_xy, width=0.9),
    ]
    try:
        store = StoreLayout(
            store_id=store_id,
            currency="USD",
            products=products,
            plates=plates,
            gates=gates,
            sensor_rate_hz=SENSOR_RATE_HZ,
        )
    except ValidationError as exc:
        raise RecordingError(f"{src}: the imported layout is invalid: {exc}") from exc

    out.mkdir(parents=True, exist_ok=True)
    stale = out / "events.jsonl.gz"
    if stale.exists():
        stale.unlink()
    document = store.model_dump(mode="json", exclude_none=True)
    document["time_origin_unix"] = origin
    document["source"] = f"AutoCheckout case {src.name}"
    (out / "store.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    shelf_ids = [_shelf_id(k) for k in by_shelf]
    others = (
        list(_shopper_messages(duration, stand, entry_xy, exit_xy)) if synthetic_shopper else []
    )
    with EventsWriter(out / "events.jsonl") as writer:
        samples = _write_events(writer, shelf_ids, shelf_t, shelf_g, others)

    truth_path = out / "truth.json"
    if labels:
        _write_truth(truth_path, labels, skus, origin, synthetic_shopper)
    elif truth_path.exists():
        truth_path.unlink()

    return ImportSummary(
        plates=len(plates),
        shelves=len(by_shelf),
        products=len(products),
        samples=samples,
        duration_s=round(duration, 3),
        skipped=skipped,
    )


def _plate_id(key: PlateKey) -> str:
    return f"g{key[0]}-s{key[1]}-p{key[2]}"


def _shelf_id(key: tuple[int, int]) -> str:
    return f"g{key[0]}-s{key[1]}"


def _floor_points(
    plates: list[Plate], reach_m: float = 0.6, gate_m: float = 1.5
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """Where the synthetic shopper stands, and the entry and exit gates.

    The standing point is the middle of the box around the points ``reach_m`` in front of every
    plate (the aisle). The gates are ``gate_m`` further out along the mean facing, 1.2 m apart.
    """
    centres = np.array([p.center[:2] for p in plates])
    facings = np.array([p.facing for p in plates])
    front = centres + reach_m * facings
    stand = (front.min(axis=0) + front.max(axis=0)) / 2.0
    mean = facings.mean(axis=0)
    out_dir = mean / np.linalg.norm(mean) if np.linalg.norm(mean) > 1e-6 else np.array([0, -1.0])
    side = np.array([-out_dir[1], out_dir[0]])
    door = stand + gate_m * out_dir

    def point(v: FloatArray) -> tuple[float, float]:
        return (round(float(v[0]), 3), round(float(v[1]), 3))

    return point(stand), point(door - 0.6 * side), point(door + 0.6 * side)


def _shopper_messages(
    duration: float,
    stand: tuple[float, float],
    entry_xy: tuple[float, float],
    exit_xy: tuple[float, float],
) -> Iterator[tuple[float, dict[str, object]]]:
    """The synthetic shopper: scan, walk in, stand, walk out, exit (times in order)."""
    walk = min(2.0, duration / 4.0)
    yield 0.0, {"t": 0.0, "type": "entry", "gate": "in-1", "account": ACCOUNT}
    ticks = np.round(np.arange(0.0, duration, 1.0 / TRACK_RATE_HZ), 3)
    ticks = np.append(ticks, round(duration, 3))  # the last point is on the exit line
    a_in = np.clip(ticks / walk, 0.0, 1.0) if walk > 0 else np.ones_like(ticks)
    a_out = np.clip((ticks - (duration - walk)) / walk, 0.0, 1.0) if walk > 0 else 0 * ticks
    p_stand, p_in, p_out = np.array(stand), np.array(entry_xy), np.array(exit_xy)
    for t, ai, ao in zip(ticks.tolist(), a_in.tolist(), a_out.tolist(), strict=True):
        pos = p_in + ai * (p_stand - p_in) + ao * (p_out - p_stand)
        yield t, {"t": t, "type": "track", "id": TRACK_ID, "pos": [round(float(v), 3) for v in pos]}
    yield round(duration, 3), {"t": round(duration, 3), "type": "exit", "gate": "out-1"}


def _write_events(
    writer: EventsWriter,
    shelf_ids: list[str],
    shelf_t: list[FloatArray],
    shelf_g: list[FloatArray],
    others: list[tuple[float, dict[str, object]]],
) -> int:
    """Write every shelf's weight lines and the other messages, merged in time order."""
    times = np.concatenate(shelf_t)
    shelf_of = np.concatenate([np.full(t.size, i) for i, t in enumerate(shelf_t)])
    row_of = np.concatenate([np.arange(t.size) for t in shelf_t])
    order = np.lexsort((shelf_of, times))
    rounded_t = np.round(times, 4).tolist()
    values = [np.round(g, 3) for g in shelf_g]
    has_null: list[list[bool]] = [np.asarray(np.isnan(g).any(axis=1)).tolist() for g in values]
    rows = [v.tolist() for v in values]
    k = 0
    for i in order.tolist():
        t = rounded_t[i]
        while k < len(others) and others[k][0] <= t:
            writer.write(others[k][1])
            k += 1
        s, r = int(shelf_of[i]), int(row_of[i])
        grams = rows[s][r]
        if has_null[s][r]:
            grams = [None if v != v else v for v in grams]
        writer.write({"t": t, "type": "weight", "shelf": shelf_ids[s], "g": grams})
    for _, message in others[k:]:
        writer.write(message)
    return int(order.size)


def _write_truth(
    path: Path,
    labels: list[_Label],
    skus: dict[str, str],
    origin: float,
    with_account: bool,
) -> None:
    """truth.json: the account's receipt and the labelled actions (optional field ``events``)."""
    items: dict[str, int] = {}
    events = []
    for lab in sorted(labels, key=lambda x: x.t_unix):
        sku = skus.get(lab.name)
        if sku is None:
            log.warning("labels.json: %r is not a product of the store; left out", lab.name)
            continue
        items[sku] = items.get(sku, 0) + (-1 if lab.putback else 1)
        g, s, plate_numbers = lab.plates
        events.append(
            {
                "t": round(lab.t_unix - origin, 3),
                "kind": "put" if lab.putback else "pick",
                "plates": [_plate_id((g, s, p)) for p in plate_numbers],
                "sku": sku,
                "qty": 1,
                "account": ACCOUNT,
                "t_resolution_s": 1.0,
            }
        )
    receipt = {"account": ACCOUNT, "items": {k: v for k, v in sorted(items.items()) if v > 0}}
    document = {"receipts": [receipt] if with_account else [], "events": events}
    Truth.model_validate(document)
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
