"""Tiny hand-built stores and message streams for engine tests (exact control over each case)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from walkout.recording.models import (
    EntryMsg,
    ExitMsg,
    Gate,
    Plate,
    Product,
    StoreLayout,
    TrackMsg,
    WeightMsg,
)

Msg = WeightMsg | EntryMsg | TrackMsg | ExitMsg


def small_store(straddle: bool = False) -> StoreLayout:
    """One shelf of four plates facing south at y=3, gates on the south wall."""
    products = [
        Product(sku="cola", name="Cola", price="1.29", weight_g=368.0, weight_sd_g=3.0),
        Product(
            sku="beer",
            name="Beer",
            price="2.49",
            weight_g=510.0,
            weight_sd_g=4.0,
            age_restricted=True,
        ),
        Product(sku="chips", name="Chips", price="1.99", weight_g=160.0, weight_sd_g=2.0),
        Product(sku="box", name="Big box", price="5.00", weight_g=900.0, weight_sd_g=5.0),
    ]
    plate_skus = [["cola"], ["beer"], ["chips"], ["chips"]]
    if straddle:
        plate_skus = [["cola"], ["beer"], ["chips", "box"], ["box"]]
    plates = [
        Plate(
            id=f"S1-P{i + 1}",
            shelf="S1",
            center=(1.0 + 0.4 * i, 3.0, 1.0),
            size=(0.4, 0.4),
            facing=(0.0, -1.0),
            skus=plate_skus[i],
            noise_sd_g=1.5,
        )
        for i in range(4)
    ]
    gates = [
        Gate(id="in", kind="entry", center=(0.5, 0.0), width=1.0),
        Gate(id="out", kind="exit", center=(3.5, 0.0), width=1.0),
    ]
    return StoreLayout(store_id="test", products=products, plates=plates, gates=gates)


@dataclass
class Scene:
    """Builds a message stream: load on plates over time, people walking and reaching."""

    store: StoreLayout
    seed: int = 0
    rate: float = 30.0
    load: dict[int, list[tuple[float, float]]] = field(default_factory=dict)  # plate -> (t, delta)
    touches: list[tuple[int, float, float]] = field(default_factory=list)  # plate, t0, t1
    messages: list[Msg] = field(default_factory=list)
    initial_g: float = 3000.0

    def pick(self, plate: int, t: float, grams: float) -> None:
        self.load.setdefault(plate, []).append((t, -grams))
        self.touches.append((plate, t - 0.6, t + 0.6))

    def put(self, plate: int, t: float, grams: float) -> None:
        self.load.setdefault(plate, []).append((t, grams))
        self.touches.append((plate, t - 0.6, t + 0.6))

    def person(
        self,
        track: str,
        path: list[tuple[float, float, float]],
        reaches: list[tuple[int, float, float]] = (),  # type: ignore[assignment]
        hands_visible: bool = True,
    ) -> None:
        """A person following waypoints (t, x, y), reaching into plates between t0 and t1."""
        times = np.arange(path[0][0], path[-1][0] + 1e-9, 0.1)
        ts = [p[0] for p in path]
        xs = np.interp(times, ts, [p[1] for p in path])
        ys = np.interp(times, ts, [p[2] for p in path])
        plates = self.store.plates
        for t, x, y in zip(times, xs, ys, strict=True):
            hands: list[tuple[float, float, float]] = [(float(x) + 0.2, float(y), 1.0)]
            for plate, t0, t1 in reaches:
                if t0 <= t <= t1:
                    c = plates[plate].center
                    hands = [(c[0], c[1] - 0.05, c[2] + 0.08)]
            self.messages.append(
                TrackMsg(
                    t=round(float(t), 3),
                    id=track,
                    pos=(float(x), float(y)),
                    hands=hands if hands_visible else None,
                )
            )

    def entry(self, t: float, account: str) -> None:
        self.messages.append(EntryMsg(t=t, gate="in", account=account))

    def exit(self, t: float) -> None:
        self.messages.append(ExitMsg(t=t, gate="out"))

    def build(self, t_end: float, ring_neighbours_g: float = 0.0) -> list[Msg]:
        """All messages in time order, weights for every plate at ``rate`` Hz."""
        rng = np.random.default_rng(self.seed)
        times = np.arange(0.0, t_end, 1.0 / self.rate)
        n_plates = len(self.store.plates)
        g = np.full((len(times), n_plates), self.initial_g)
        for plate, steps in self.load.items():
            for t, delta in steps:
                g[times >= t, plate] += delta
        for plate, t0, t1 in self.touches:
            inside = (times >= t0) & (times <= t1)
            phase = times[inside] - t0
            g[inside, plate] += 40.0 * np.sin(2 * np.pi * 4 * phase)
            for nb in (plate - 1, plate + 1):
                if 0 <= nb < n_plates and ring_neighbours_g:
                    g[inside, nb] += ring_neighbours_g * np.sin(2 * np.pi * 3 * phase)
        g += rng.normal(0.0, 1.5, g.shape)
        weights = [
            WeightMsg(t=round(float(t), 4), shelf="S1", g=[round(float(v), 1) for v in row])
            for t, row in zip(times, g, strict=True)
        ]
        msgs: list[Msg] = [*weights, *self.messages]
        msgs.sort(key=lambda m: m.t)
        return msgs
