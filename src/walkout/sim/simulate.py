"""Run a simulation end to end and write a recording folder with its truth.

Behaviour runs first (it is cheap and decides everything); the sensors are then rendered in
chunks of ``CHUNK_S`` seconds and streamed to disk, so memory stays bounded however long or
large the recording. Each part draws from its own random stream, so the same seed gives the
same bytes (the fixture's own shaking, store-wide shocks and lasting shifts, draws from a
seventh stream, so a preset without them renders exactly as before they existed).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import numpy as np

from walkout.recording.files import (
    EventsWriter,
    RecordingError,
    read_store,
    write_store,
    write_truth,
)
from walkout.recording.models import StoreLayout
from walkout.sim.behaviour import Behaviour
from walkout.sim.cameras import Cameras
from walkout.sim.config import SimConfig
from walkout.sim.delivery import Delivery
from walkout.sim.floor import Floor, OpenFloor
from walkout.sim.layout import generate_store
from walkout.sim.physics import (
    ShelfSignal,
    WeightChunk,
    lasting_shifts,
    shelf_effects,
    shock_effects,
)
from walkout.sim.presets import PRESETS
from walkout.sim.script import PersonPath
from walkout.sim.truth import build_truth

CHUNK_S = 10.0


class _ReproducibleWriter(EventsWriter):
    """EventsWriter whose gzip header carries no timestamp, so same seed = same bytes."""

    def __init__(self, path: Path) -> None:
        if path.suffix != ".gz":
            super().__init__(path)
        else:
            self._fh = cast(IO[bytes], gzip.GzipFile(path, "wb", compresslevel=6, mtime=0))


@dataclass(frozen=True, slots=True)
class SimSummary:
    """What a simulation wrote.

    Attributes:
        accounts: Accounts that scanned in (one receipt each).
        persons: People who walked in (parties have several per account).
        picks: Units taken off shelves.
        putbacks: Units put back on a shelf.
        misplaced: Units put back on a plate whose planogram lacks their sku.
        messages: Lines written to the events file (duplicates included).
        duration_s: Length of the recording.
    """

    accounts: int
    persons: int
    picks: int
    putbacks: int
    misplaced: int
    messages: int
    duration_s: float


def simulate(
    outdir: Path,
    preset: str = "busy",
    seed: int = 0,
    minutes: float | None = None,
    layout: Path | None = None,
    gzip_events: bool = False,
    progress: Callable[[float], None] | None = None,
    video: bool = False,
) -> SimSummary:
    """Simulate a named preset (see ``PRESETS``) into ``outdir``.

    Args:
        outdir: Recording folder to write (created if missing).
        preset: "easy", "busy", "hard" or "scale".
        seed: Same seed and preset give byte-identical files.
        minutes: Length; the preset's default when None.
        layout: A store.json (or a folder holding one) to use instead of a generated store.
        gzip_events: Write events.jsonl.gz instead of events.jsonl.
        progress: Called with the fraction done, 0..1.
        video: Also place ceiling cameras (written into store.json) and render their video
            into ``video/`` (see ``walkout.sim.video``); the rest stays byte-identical.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return simulate_config(
        outdir, PRESETS[preset], seed, minutes, layout, gzip_events, progress, video
    )


def simulate_config(
    outdir: Path,
    cfg: SimConfig,
    seed: int = 0,
    minutes: float | None = None,
    layout: Path | None = None,
    gzip_events: bool = False,
    progress: Callable[[float], None] | None = None,
    video: bool = False,
) -> SimSummary:
    """Like ``simulate`` with an explicit configuration (for tests and experiments)."""
    # new streams go at the end: the first ones (and what they draw) stay as they were
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    rng_layout, rng_people, rng_effects, rng_cells, rng_cams, rng_net, rng_fixture = streams[:7]
    rng_looks = streams[7]
    store, floor = _store(cfg, rng_layout, layout)
    duration = 60.0 * (cfg.default_minutes if minutes is None else minutes)
    if duration <= 0:
        raise ValueError(f"minutes must be positive, got {minutes}")
    behaviour = Behaviour(store, floor, cfg, rng_people, duration)
    script = behaviour.run()
    effects = shelf_effects(store, script, cfg, rng_effects)
    for shelf, shakes in shock_effects(store, script, cfg, rng_fixture).items():
        effects[shelf] += shakes
    shifts = lasting_shifts(store, script, cfg, rng_fixture)
    index = {p.id: i for i, p in enumerate(store.plates)}
    signals = [
        ShelfSignal(
            shelf,
            [index[p.id] for p in plates],
            store,
            behaviour.initial_loads,
            script,
            effects[shelf],
            cfg,
            rng_cells,
            shifts[shelf],
        )
        for shelf, plates in store.shelves().items()
    ]
    cameras = Cameras(script.persons, cfg, rng_cams, rng_looks)
    delivery = Delivery(cfg, rng_net)
    gates: list[tuple[float, dict[str, object]]] = [
        (t, {"t": t, "type": "entry", "gate": gate, "account": acct})
        for t, gate, acct in script.entries
    ]
    gates += [(t, {"t": t, "type": "exit", "gate": gate}) for t, gate in script.exits]
    gates.sort(key=lambda item: item[0])
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    if video:
        store = _with_cameras(store, cfg)
    write_store(outdir, store)
    name = "events.jsonl.gz" if gzip_events else "events.jsonl"
    other = outdir / ("events.jsonl" if gzip_events else "events.jsonl.gz")
    other.unlink(missing_ok=True)
    written = 0
    g = 0
    with _ReproducibleWriter(outdir / name) as writer:
        c0 = 0.0
        while c0 < script.duration_s:
            c1 = min(c0 + CHUNK_S, script.duration_s)
            ts: list[float] = []
            lines: list[dict[str, object]] = []
            while g < len(gates) and gates[g][0] < c1:
                ts.append(gates[g][0])
                lines.append(gates[g][1])
                g += 1
            for signal in signals:
                _weight_lines(signal.render(c0, c1), ts, lines)
            tracks = cameras.render(c0, c1)
            ts += tracks.t
            lines += tracks.payloads
            delivery.push(np.array(ts), lines)
            for line in delivery.release(c1):
                writer.write(line)
                written += 1
            if progress is not None:
                progress(min(c1 / script.duration_s, 1.0))
            c0 = c1
        for line in delivery.release():
            writer.write(line)
            written += 1
    write_truth(outdir, build_truth(store, script, cameras.histories()))
    if video:
        _write_video(outdir, store, cfg, script.persons, script.duration_s, seed, progress)
    units = [(a.kind, len(a.uids), a.misplaced) for a in script.actions]
    return SimSummary(
        accounts=len(script.accounts),
        persons=len(script.persons),
        picks=sum(n for k, n, _ in units if k == "pick"),
        putbacks=sum(n for k, n, _ in units if k == "putback"),
        misplaced=sum(n for k, n, m in units if k == "putback" and m),
        messages=written,
        duration_s=round(script.duration_s, 3),
    )


def _with_cameras(store: StoreLayout, cfg: SimConfig) -> StoreLayout:
    """The store with a ceiling camera grid, unless its layout already lists cameras."""
    from walkout.sim.rig import place_cameras

    if store.cameras:
        return store
    size = (cfg.floor_min_x_m, cfg.floor_min_y_m)
    return store.model_copy(update={"cameras": place_cameras(store, size, cfg.camera_rate_hz)})


def _write_video(
    outdir: Path,
    store: StoreLayout,
    cfg: SimConfig,
    persons: list[PersonPath],
    duration_s: float,
    seed: int,
    progress: Callable[[float], None] | None,
) -> None:
    """Render the cameras' video (imported here: OpenCV is needed only with --video)."""
    from walkout.sim.rig import floor_bounds
    from walkout.sim.video import write_video

    assert store.cameras
    floor = floor_bounds(store, (cfg.floor_min_x_m, cfg.floor_min_y_m))
    write_video(outdir, store, store.cameras, persons, duration_s, seed, floor, progress)


def _store(
    cfg: SimConfig, rng: np.random.Generator, layout: Path | None
) -> tuple[StoreLayout, Floor]:
    if layout is None:
        return generate_store(cfg, rng)
    return load_layout(Path(layout)), OpenFloor()


def load_layout(path: Path) -> StoreLayout:
    """A user's store.json (or a folder holding one), checked to be simulatable."""
    if not path.exists():
        raise RecordingError(f"{path}: no such store layout (give a store.json or its folder)")
    if path.is_dir() or path.name == "store.json":
        store = read_store(path if path.is_dir() else path.parent)
    else:
        try:
            store = StoreLayout.model_validate_json(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise RecordingError(f"{path}: not a usable store layout: {exc}") from exc
    kinds = {g.kind for g in store.gates}
    if kinds != {"entry", "exit"}:
        raise RecordingError(f"{path}: shoppers need at least one entry and one exit gate")
    if not any(p.skus for p in store.plates):
        raise RecordingError(f"{path}: no plate lists a product, so there is nothing to shop")
    return store


def _weight_lines(chunk: WeightChunk, ts: list[float], lines: list[dict[str, object]]) -> None:
    """Append one weight line per sent sample of a shelf (NaN readings become null)."""
    times = np.round(chunk.t, 3).tolist()
    rows = np.round(chunk.g, 1).tolist()
    for r, c in zip(*np.nonzero(np.isnan(chunk.g)), strict=True):
        rows[int(r)][int(c)] = None
    sent = chunk.sent.tolist()
    for t, row, ok in zip(times, rows, sent, strict=True):
        if ok:
            ts.append(t)
            lines.append({"t": t, "type": "weight", "shelf": chunk.shelf, "g": row})
