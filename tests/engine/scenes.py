"""Tiny hand-built stores and message streams for engine tests (exact control over each case).

A :class:`Scene` is a script of what happened (units lifted and set down, people walking and
reaching, sensor trouble) that ``build`` renders into the messages a store would send. The
tracker's and the delivery's mistakes (a lost track coming back under a new id, two ids swapped
at a crossing, lines late, out of order or twice) are applied to the rendered messages, the way
a real camera system and network would spoil them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
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

STAND_Y = 2.4
"""Where a shopper stands to reach the shelf of :func:`small_store`: 0.4 m before its front edge."""

ENTRY_XY = (0.5, 0.3)
"""Where a shopper appears, just inside the entry gate."""

EXIT_XY = (3.5, 0.2)
"""Where a shopper crosses the exit gate's line."""


def small_store(straddle: bool = False, near_equal: bool = False) -> StoreLayout:
    """One shelf of four plates facing south at y=3, gates on the south wall.

    Plates are 0.4 m wide, centred at x = 1.0, 1.4, 1.8, 2.2. By default they hold cola, beer
    (age restricted), chips and chips. ``straddle`` puts a wide 900 g box across plates 2 and 3
    (plate 2 also holds chips); ``near_equal`` puts two soups of 350 g and 356 g on plates 0
    and 1 instead of cola and beer.
    """
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
        Product(sku="soup-a", name="Tomato soup", price="1.50", weight_g=350.0, weight_sd_g=2.0),
        Product(sku="soup-b", name="Pea soup", price="1.70", weight_g=356.0, weight_sd_g=2.0),
    ]
    plate_skus = [["cola"], ["beer"], ["chips"], ["chips"]]
    if straddle:
        plate_skus[2:] = [["chips", "box"], ["box"]]
    if near_equal:
        plate_skus[:2] = [["soup-a"], ["soup-b"]]
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


def plate_x(plate: int) -> float:
    """x of a plate's centre in :func:`small_store` (where one stands to reach it)."""
    return 1.0 + 0.4 * plate


@dataclass(frozen=True)
class Reach:
    """A hand in a plate (or over the seam of two plates) from ``t0`` to ``t1``.

    Attributes:
        plate: The plate, or two neighbouring plates (the hand is over their seam).
        t0: When the hand enters the plate.
        t1: When it leaves.
        dx: Offset of the hand along the shelf from the plate centre (two hands in one plate).
        hidden: "" when the hands are seen; "reaching" when the reaching hand is occluded (the
            other is still seen at the person's side); "both" when no hand is seen at all. Either
            way the hands are unseen from 0.3 s before to 0.3 s after the reach.
    """

    plate: int | tuple[int, ...]
    t0: float
    t1: float
    dx: float = 0.0
    hidden: str = ""

    def point(self, store: StoreLayout) -> tuple[float, float, float]:
        plates = (self.plate,) if isinstance(self.plate, int) else self.plate
        cs = np.array([store.plates[p].center for p in plates])
        c = cs.mean(axis=0)
        return (float(c[0]) + self.dx, float(c[1]) - 0.05, float(c[2]) + 0.08)


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
    ramp_s: float = 0.0
    """Time a lift or placement takes on the cell (0: an instant step)."""
    spikes: list[tuple[int, float, float]] = field(default_factory=list)  # plate, t, grams
    leans: list[tuple[int, float, float, float]] = field(default_factory=list)  # plate, t0, t1, g
    drift_g_per_min: float = 0.0
    drop_values: float = 0.0
    """Share of single load-cell values sent as null."""
    drop_messages: float = 0.0
    """Share of weight messages never sent."""
    gaps: list[tuple[int, float, float]] = field(default_factory=list)  # plate, t0, t1
    press_g: float = 0.0
    """Peak of the bump a hand presses into a plate it touches (rises in 0.15 s, then fades)."""
    looks: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """Track id -> that person's look: their frames carry it, plus ``look_noise`` per value."""
    look_noise: float = 0.3

    # -- goods ------------------------------------------------------------------------------

    def pick(self, plate: int, t: float, grams: float) -> None:
        self.load.setdefault(plate, []).append((t, -grams))
        self.touches.append((plate, t - 0.6, t + 0.6))

    def put(self, plate: int, t: float, grams: float) -> None:
        self.load.setdefault(plate, []).append((t, grams))
        self.touches.append((plate, t - 0.6, t + 0.6))

    def pick_across(self, plates: tuple[int, int], t: float, grams: float, share: float) -> None:
        """A unit standing across two plates is lifted; ``share`` of it was on the first."""
        self.pick(plates[0], t, grams * share)
        self.pick(plates[1], t, grams * (1.0 - share))

    def put_across(self, plates: tuple[int, int], t: float, grams: float, share: float) -> None:
        """A unit is set down across two plates, ``share`` of its weight on the first."""
        self.put(plates[0], t, grams * share)
        self.put(plates[1], t, grams * (1.0 - share))

    # -- sensor trouble ---------------------------------------------------------------------

    def spike(self, plate: int, t: float, grams: float) -> None:
        """One sample of one cell off by ``grams`` (electrical glitch)."""
        self.spikes.append((plate, t, grams))

    def gap(self, plate: int, t0: float, t1: float) -> None:
        """A cell sends null from ``t0`` to ``t1`` (a burst of dropped samples)."""
        self.gaps.append((plate, t0, t1))

    def lean(self, plate: int, t0: float, t1: float, peak_g: float) -> None:
        """Irregular pressure of someone leaning on a plate from ``t0`` to ``t1``, then gone."""
        self.leans.append((plate, t0, t1, peak_g))

    # -- people -----------------------------------------------------------------------------

    def person(
        self,
        track: str,
        path: list[tuple[float, float, float]],
        reaches: Sequence[tuple[int, float, float] | Reach] = (),
        hands_visible: bool = True,
        both_hands: bool = False,
    ) -> None:
        """A person following waypoints (t, x, y), reaching into plates between t0 and t1.

        Track messages come at 10 Hz. Idle hands hang at the person's sides (one of them, or
        ``both_hands``); while reaching, one hand is at the plate.
        """
        reach_list = [r if isinstance(r, Reach) else Reach(*r) for r in reaches]
        times = np.arange(path[0][0], path[-1][0] + 1e-9, 0.1)
        look = self.looks.get(track)
        look_rng = np.random.default_rng([self.seed, len(self.messages)])
        ts = [p[0] for p in path]
        xs = np.interp(times, ts, [p[1] for p in path])
        ys = np.interp(times, ts, [p[2] for p in path])
        for t, x, y in zip(times, xs, ys, strict=True):
            right = (float(x) + 0.2, float(y), 1.0)
            left = (float(x) - 0.2, float(y), 1.0)
            hands: list[tuple[float, float, float]] = [right, left] if both_hands else [right]
            for r in reach_list:
                if r.hidden and r.t0 - 0.3 <= t <= r.t1 + 0.3:
                    hands = [] if r.hidden == "both" else [left]
                if r.t0 <= t <= r.t1 and not r.hidden:
                    hands = [r.point(self.store), left] if both_hands else [r.point(self.store)]
            self.messages.append(
                TrackMsg(
                    t=round(float(t), 3),
                    id=track,
                    pos=(round(float(x), 3), round(float(y), 3)),
                    hands=hands if hands_visible and hands else None,
                    look=None
                    if look is None
                    else [
                        round(float(v), 2)
                        for v in np.array(look) + look_rng.normal(0, self.look_noise, len(look))
                    ],
                )
            )

    def shopper(
        self,
        track: str,
        account: str | None,
        t_in: float,
        stops: Sequence[tuple[float, float, float]],
        reaches: Sequence[tuple[int, float, float] | Reach] = (),
        hands_visible: bool = True,
        walk_out_s: float = 3.0,
    ) -> float:
        """A shopper who scans (unless ``account`` is None), walks in and stops at the shelf.

        ``stops`` are (x, t_arrive, t_leave): standing at ``STAND_Y`` in front of x. The scan is
        1 s before the person appears at the entry at ``t_in``; the exit message comes when they
        cross the exit line, ``walk_out_s`` after the last stop. Returns that exit time.
        """
        if account is not None:
            self.entry(t_in - 1.0, account)
        path = [(t_in, *ENTRY_XY)]
        for x, t0, t1 in stops:
            path += [(t0, x, STAND_Y), (t1, x, STAND_Y)]
        t_exit = stops[-1][2] + walk_out_s
        path += [(t_exit, *EXIT_XY), (t_exit + 0.8, EXIT_XY[0], EXIT_XY[1] - 0.7)]
        self.person(track, path, reaches, hands_visible=hands_visible, both_hands=True)
        self.exit(t_exit)
        return t_exit

    def entry(self, t: float, account: str) -> None:
        self.messages.append(EntryMsg(t=t, gate="in", account=account))

    def exit(self, t: float) -> None:
        self.messages.append(ExitMsg(t=t, gate="out"))

    # -- the camera system's mistakes -------------------------------------------------------

    def lose_track(self, track: str, t0: float, t1: float, new_id: str) -> None:
        """The tracker loses ``track`` at ``t0`` and finds the person at ``t1`` as ``new_id``."""
        kept: list[Msg] = []
        for m in self.messages:
            if isinstance(m, TrackMsg) and m.id == track and m.t >= t0:
                if m.t < t1:
                    continue
                m = m.model_copy(update={"id": new_id})
            kept.append(m)
        self.messages = kept

    def swap_ids(self, a: str, b: str, t: float) -> None:
        """From ``t`` on, the tracker reports person ``a`` as ``b`` and person ``b`` as ``a``."""
        swapped = {a: b, b: a}
        self.messages = [
            m.model_copy(update={"id": swapped[m.id]})
            if isinstance(m, TrackMsg) and m.id in swapped and m.t >= t
            else m
            for m in self.messages
        ]

    # -- rendering --------------------------------------------------------------------------

    def build(self, t_end: float, ring_neighbours_g: float = 0.0) -> list[Msg]:
        """All messages in time order, weights for every plate at ``rate`` Hz."""
        rng = np.random.default_rng(self.seed)
        times = np.arange(0.0, t_end, 1.0 / self.rate)
        n_plates = len(self.store.plates)
        g = np.full((len(times), n_plates), self.initial_g)
        for plate, steps in self.load.items():
            for t, delta in steps:
                if self.ramp_s > 0:
                    x = np.clip((times - (t - self.ramp_s / 2)) / self.ramp_s, 0.0, 1.0)
                    g[:, plate] += delta * x * x * (3 - 2 * x)
                else:
                    g[times >= t, plate] += delta
        for plate, t0, t1 in self.touches:
            inside = (times >= t0) & (times <= t1)
            phase = times[inside] - t0
            g[inside, plate] += 40.0 * np.sin(2 * np.pi * 4 * phase)
            if self.press_g:
                x = phase / 0.15
                g[inside, plate] += self.press_g * x * np.exp(1 - x)
            for nb in (plate - 1, plate + 1):
                if 0 <= nb < n_plates and ring_neighbours_g:
                    g[inside, nb] += ring_neighbours_g * np.sin(2 * np.pi * 3 * phase)
        for plate, t0, t1, peak in self.leans:
            inside = (times >= t0) & (times <= t1)
            x = times[inside] - t0
            env = np.sin(np.pi * x / (t1 - t0)) ** 2
            wobble = np.sin(2 * np.pi * 0.7 * x) + np.sin(2 * np.pi * 1.9 * x + 1.0)
            g[inside, plate] += peak * env * (0.7 + 0.15 * wobble)
            g[inside, plate] += rng.normal(0.0, 0.02 * peak, int(inside.sum())) * env
        g += (times * self.drift_g_per_min / 60.0)[:, None]
        g += rng.normal(0.0, 1.5, g.shape)
        for plate, t, grams in self.spikes:
            g[int(np.argmin(np.abs(times - t))), plate] += grams
        dropped = rng.random(g.shape) < self.drop_values
        for plate, t0, t1 in self.gaps:
            dropped[(times >= t0) & (times <= t1), plate] = True
        sent = rng.random(len(times)) >= self.drop_messages
        weights = [
            WeightMsg(
                t=round(float(t), 4),
                shelf="S1",
                g=[None if d else round(float(v), 1) for v, d in zip(row, drop, strict=True)],
            )
            for t, row, drop, ok in zip(times, g, dropped, sent, strict=True)
            if ok
        ]
        msgs: list[Msg] = [*weights, *self.messages]
        msgs.sort(key=lambda m: m.t)
        return msgs


def deliver(
    msgs: list[Msg],
    seed: int,
    max_late_s: float = 0.5,
    p_late: float = 0.3,
    p_duplicate: float = 0.05,
) -> list[Msg]:
    """The messages as a network delivers them: some late (so out of order), some twice."""
    rng = random.Random(seed)
    arrivals: list[tuple[float, int, Msg]] = []
    for i, m in enumerate(msgs):
        late = rng.uniform(0.0, max_late_s) if rng.random() < p_late else 0.0
        arrivals.append((m.t + late, i, m))
        if rng.random() < p_duplicate:
            arrivals.append((m.t + rng.uniform(0.0, max_late_s), i, m))
    arrivals.sort(key=lambda a: (a[0], a[1]))
    return [m for _, _, m in arrivals]
