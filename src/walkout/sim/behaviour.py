"""Shopper scripts: who enters, where they walk, what they reach for, take and put back.

A small discrete-event loop: every decision and every shelf move is an event processed in time
order, so two shoppers after the last unit of a plate see the same shelf (the later one comes
away empty-handed), and a unit misplaced by one shopper can be picked by the next.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from walkout.recording.models import Gate, StoreLayout
from walkout.sim.config import SimConfig
from walkout.sim.floor import Floor, Point, gate_inward, stand_point
from walkout.sim.script import Action, Lean, PersonPath, Reach, Script, Step
from walkout.sim.stock import Stock, Unit

ARRIVAL_SHAPE = 2.0  # gamma-distributed gaps: more regular than Poisson, still random
MAX_WAIT_S = 6.0  # longest a shopper lingers so that another can reach in beside them
SIDESTEP_M = 0.65
"""With ``stand_gap_m`` on, farthest along the shelf from a plate's centre a shopper steps aside
to keep the gap (1.5-2 plate widths; plates are 0.3-0.45 m wide), chosen so that the hand still
gets in without walking: over hard seeds 1-20 (10 min) the hand's distance from the body at a
reach goes from p99 0.83 m / max 0.93 m without spacing to 0.85 / 0.96 m with a 0.4 m gap.
Farther would be a reach from out of arm's length; when no spot within it is free, the shopper
takes the one with the most room."""
SIDESTEP_STEP_M = 0.05  # spots tried between -SIDESTEP_M and +SIDESTEP_M


@dataclass(slots=True)
class _Shopper:
    path: PersonPath
    speed: float
    stops_left: int
    browse: bool
    pos: Point = (0.0, 0.0)
    cart: list[tuple[Unit, int]] = field(default_factory=list)  # unit, plate taken from


@dataclass(slots=True)
class _Visit:
    """A planned stop at a plate; its times may still move until the hand goes in.

    Events carry the ``version`` they were queued with; moving the stop bumps it, so the stale
    events are ignored when they fire.
    """

    sh: _Shopper
    reach: Reach
    action: str  # pick | place | touch
    unit: Unit | None = None
    want_misplaced: bool = False
    move_frac: float = 0.5
    linger: float = 0.5
    version: int = 0


def _sign(rng: np.random.Generator) -> float:
    return 1.0 if rng.random() < 0.5 else -1.0


class Behaviour:
    """Runs the shoppers of one recording and returns the resulting ``Script``."""

    def __init__(
        self,
        store: StoreLayout,
        floor: Floor,
        cfg: SimConfig,
        rng: np.random.Generator,
        duration_s: float,
    ) -> None:
        self.store, self.floor, self.cfg, self.rng = store, floor, cfg, rng
        self.duration = duration_s
        self.closing = duration_s - min(cfg.closing_s, 0.3 * duration_s)
        self.last_arrival = self.closing - min(60.0, 0.3 * duration_s)
        self.stock = Stock(store, cfg, rng)
        self.initial_loads = self.stock.loads()
        self.entries_g = [g for g in store.gates if g.kind == "entry"]
        self.exits_g = [g for g in store.gates if g.kind == "exit"]
        if not self.entries_g or not self.exits_g:
            raise ValueError("the store needs at least one entry gate and one exit gate")
        self.shoppable = [i for i, p in enumerate(store.plates) if p.skus]
        if not self.shoppable:
            raise ValueError("no plate lists a product; nothing to shop")
        self.shelf_of = [p.shelf for p in store.plates]
        self.shelf_plates: dict[str, list[int]] = {}
        for i, p in enumerate(store.plates):
            self.shelf_plates.setdefault(p.shelf, []).append(i)
        self._heap: list[tuple[float, int, Callable[..., None], tuple[object, ...]]] = []
        self._seq = itertools.count()
        self._gate_ready = {g.id: 0.0 for g in self.entries_g}
        self.inside = 0
        self.persons: list[PersonPath] = []
        self.actions: list[Action] = []
        self.steps: list[Step] = []
        self.leans: list[Lean] = []
        self.entries: list[tuple[float, str, str]] = []
        self.exits: list[tuple[float, str]] = []
        self.accounts: list[str] = []
        self.upcoming: list[_Visit] = []
        self.active: list[_Shopper] = []  # inside the store; ``pos`` is where each stands or goes

    # --- event loop ----------------------------------------------------------------------

    def _at(self, t: float, fn: Callable[..., None], *args: object) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), fn, args))

    def run(self) -> Script:
        """Simulate until every shopper has left."""
        self._at(float(self.rng.uniform(1.0, 6.0)), self._arrive)
        while self._heap:
            t, _, fn, args = heapq.heappop(self._heap)
            fn(t, *args)
        end = max([self.duration, *(p.end_t + 0.5 for p in self.persons)])
        return Script(
            persons=self.persons,
            actions=sorted(self.actions, key=lambda a: a.t),
            steps=sorted(self.steps, key=lambda s: s.t),
            leans=self.leans,
            entries=self.entries,
            exits=sorted(self.exits),
            accounts=self.accounts,
            duration_s=end,
        )

    # --- arrivals --------------------------------------------------------------------------

    def _arrive(self, t: float) -> None:
        if t > self.last_arrival:
            return
        cfg, rng = self.cfg, self.rng
        party = 2 if cfg.max_inside >= 2 and rng.random() < cfg.p_party else 1
        if self.inside + party > cfg.max_inside:
            self._at(t + 2.0, self._arrive)
            return
        account = f"acct-{len(self.accounts) + 1:04d}"
        self.accounts.append(account)
        browse = bool(rng.random() < cfg.p_take_nothing)
        gate = self.entries_g[int(rng.integers(len(self.entries_g)))]
        scan = max(t, self._gate_ready[gate.id])
        enter = scan + float(rng.uniform(*cfg.scan_to_gate_s))
        for k in range(party):
            if k:
                scan = max(scan + float(rng.uniform(2.0, 3.0)), enter + 0.2)
                enter = scan + float(rng.uniform(*cfg.scan_to_gate_s))
            path = PersonPath(len(self.persons), account, gate.id, scan, enter)
            self.persons.append(path)
            stops = int(rng.integers(cfg.stops[0], cfg.stops[1] + 1))
            shopper = _Shopper(path, float(rng.uniform(*cfg.walk_speed_mps)), stops, browse)
            self.entries.append((round(scan, 3), gate.id, account))
            self._at(enter, self._start, shopper, gate)
        self._gate_ready[gate.id] = max(scan + 2.0, enter + 0.2)
        self.inside += party
        gap = float(rng.gamma(ARRIVAL_SHAPE, 60.0 / cfg.accounts_per_minute / ARRIVAL_SHAPE))
        self._at(t + gap, self._arrive)

    def _start(self, t: float, sh: _Shopper, gate: Gate) -> None:
        ux, uy = gate_inward(gate, self.store)
        lateral = float(self.rng.uniform(-0.25, 0.25)) * gate.width
        x, y = gate.center[0] - uy * lateral, gate.center[1] + ux * lateral
        sh.pos = (x, y)
        self.active.append(sh)
        sh.path.at(t, x, y, math.atan2(uy, ux))
        t = self._walk(t, sh, (x + ux * 0.8, y + uy * 0.8), math.atan2(uy, ux))
        self._decide(t, sh)

    # --- walking -------------------------------------------------------------------------

    def _walk(self, t: float, sh: _Shopper, target: Point, heading: float) -> float:
        """Walk along the floor's route; returns the arrival time."""
        for wp in self.floor.route(sh.pos, target):
            d = math.dist(sh.pos, wp)
            if d < 1e-3:
                continue
            sh.path.at(t, *sh.pos, math.atan2(wp[1] - sh.pos[1], wp[0] - sh.pos[0]))
            t += d / (sh.speed * float(self.rng.uniform(0.9, 1.1)))
            sh.pos = wp
        sh.path.at(t, *sh.pos, heading)
        return t

    def _walk_time(self, sh: _Shopper, target: Point) -> float:
        pts = [sh.pos, *self.floor.route(sh.pos, target)]
        return sum(math.dist(a, b) for a, b in itertools.pairwise(pts)) / sh.speed

    def _go_to_plate(self, t: float, sh: _Shopper, plate: int, along: float) -> float:
        p = self.store.plates[plate]
        distance = float(self.rng.uniform(*self.cfg.stand_distance_m))
        if self.cfg.stand_gap_m > 0:
            spot = self._free_spot(sh, plate, distance, along, self.cfg.stand_gap_m)
        else:
            spot = stand_point(p, distance, along)
        return self._walk(t, sh, spot, math.atan2(-p.facing[1], -p.facing[0]))

    def _free_spot(
        self, sh: _Shopper, plate: int, distance: float, along: float, gap: float
    ) -> Point:
        """Where to stand for ``plate``: the spot nearest ``along`` (in ``SIDESTEP_STEP_M``
        steps, within ``SIDESTEP_M`` of the plate's centre) at least ``gap`` from where everyone
        else inside stands or is headed; the one with the most room when none is. Draws no
        random numbers. Walking paths are not coordinated: a walker can still pass a stander."""
        taken = [o.pos for o in self.active if o is not sh]
        p = self.store.plates[plate]

        def room(a: float) -> float:
            spot = stand_point(p, distance, a)
            return min((math.dist(spot, q) for q in taken), default=math.inf)

        steps = round(SIDESTEP_M / SIDESTEP_STEP_M)
        grid = [SIDESTEP_STEP_M * k for k in range(-steps, steps + 1)]
        tries = sorted([along, *grid], key=lambda a: abs(a - along))  # ``along`` itself first
        free = next((a for a in tries if room(a) >= gap), None)
        return stand_point(p, distance, free if free is not None else max(tries, key=room))

    # --- decisions -----------------------------------------------------------------------

    def _decide(self, t: float, sh: _Shopper) -> None:
        if sh.stops_left <= 0 or t >= self.closing:
            self._leave(t, sh)
            return
        sh.stops_left -= 1
        if sh.cart and self.rng.random() < self.cfg.p_putback:
            self._plan_putback(t, sh)
        else:
            self._plan_pick(t, sh)

    def _plan_pick(self, t: float, sh: _Shopper) -> None:
        cfg, rng = self.cfg, self.rng
        self.upcoming = [v for v in self.upcoming if v.reach.t1 > t]
        crowd = self._join(t, sh) if rng.random() < cfg.p_crowd and not sh.browse else None
        want_misplaced = False
        if crowd is not None:
            plate = crowd[1]
            along = _sign(rng) * 0.35 if plate == crowd[0].reach.plate else 0.0
        else:
            misplaced = self.stock.misplaced_plates() if cfg.p_pick_misplaced > 0 else []
            if misplaced and not sh.browse and rng.random() < cfg.p_pick_misplaced:
                plate, want_misplaced = self._nearest(sh, misplaced), True
            else:
                plate = self._nearest(sh, [i for i in self.shoppable if self.stock.count(i)])
            along = float(rng.uniform(-0.15, 0.15)) * self.store.plates[plate].size[0]
        arrive = self._go_to_plate(t, sh, plate, along)
        if sh.browse and rng.random() >= 0.3:
            self._at(arrive + float(rng.uniform(1.0, 3.0)), self._decide, sh)
            return
        t0 = arrive + float(rng.uniform(*cfg.dwell_s))
        if crowd is not None:
            t0 = self._meet(crowd[0], arrive)
        touch = sh.browse or rng.random() < cfg.p_touch_only
        self._schedule(
            _Visit(
                sh,
                self._reach(sh, plate, t0),
                "touch" if touch else "pick",
                want_misplaced=want_misplaced,
            ),
            arrive,
        )

    def _plan_putback(self, t: float, sh: _Shopper) -> None:
        rng = self.rng
        unit, origin = sh.cart.pop(int(rng.integers(len(sh.cart))))
        target = origin
        if rng.random() < self.cfg.p_wrong_plate:
            wrong = [i for i in self.shoppable if unit.sku not in self.store.plates[i].skus]
            if wrong:
                target = self._nearest(sh, wrong)
        along = float(rng.uniform(-0.15, 0.15)) * self.store.plates[target].size[0]
        arrive = self._go_to_plate(t, sh, target, along)
        reach = self._reach(sh, target, arrive + float(rng.uniform(*self.cfg.dwell_s)))
        self._schedule(_Visit(sh, reach, "place", unit=unit), arrive)

    def _schedule(self, visit: _Visit, arrive: float) -> None:
        """Commit a stop: its reach, the shelf move inside it, and the next decision."""
        rng = self.rng
        visit.move_frac = float(rng.uniform(0.2, 0.8))
        visit.linger = float(rng.uniform(0.3, 1.0))
        visit.sh.path.reaches.append(visit.reach)
        self.upcoming.append(visit)
        self._maybe_lean(visit.reach.plate, arrive)
        self._queue(visit)

    def _queue(self, visit: _Visit) -> None:
        r = visit.reach
        if visit.action != "touch":
            self._at(r.t0 + visit.move_frac * (r.t1 - r.t0), self._move, visit, visit.version)
        self._at(r.t1 + visit.linger, self._after, visit, visit.version)

    def _move(self, t: float, visit: _Visit, version: int) -> None:
        if version != visit.version:
            return
        if visit.action == "pick":
            self._lift(t, visit)
        elif visit.unit is not None:
            self._place(t, visit, visit.unit)

    def _after(self, t: float, visit: _Visit, version: int) -> None:
        if version == visit.version:
            self._decide(t, visit.sh)

    def _join(self, t: float, sh: _Shopper) -> tuple[_Visit, int] | None:
        """Someone else's coming reach we can join (waiting for us at most ``MAX_WAIT_S``)."""
        best: tuple[float, _Visit] | None = None
        for v in self.upcoming:
            if v.sh is sh or v.reach.t0 < t + 0.5:
                continue
            arrive = t + self._walk_time(
                sh, stand_point(self.store.plates[v.reach.plate], 0.4, 0.0)
            )
            if arrive + 0.3 - (v.reach.t0 + 1.0) <= MAX_WAIT_S and (
                best is None or arrive < best[0]
            ):
                best = (arrive, v)
        if best is None:
            return None
        other = best[1]
        shelf = self.shelf_plates[self.shelf_of[other.reach.plate]]
        k = shelf.index(other.reach.plate)
        near = [
            i
            for i in shelf[max(k - 1, 0) : k + 2]
            if i != other.reach.plate and self.stock.count(i)
        ]
        if near and self.rng.random() >= 0.35:
            return other, near[int(self.rng.integers(len(near)))]
        return other, other.reach.plate

    def _meet(self, other: _Visit, arrive: float) -> float:
        """Our reach start within a second of ``other``'s, delaying theirs if we are late."""
        ready = arrive + 0.3
        late = ready - (other.reach.t0 + 1.0)
        if late > 0:  # they wait for us a little longer before reaching
            shift = late + float(self.rng.uniform(0.5, 1.5))
            old = other.reach
            other.reach = replace(old, t0=old.t0 + shift, t1=old.t1 + shift)
            reaches = other.sh.path.reaches
            reaches[next(i for i, r in enumerate(reaches) if r is old)] = other.reach
            other.version += 1
            self._queue(other)
        return max(ready, other.reach.t0 + float(self.rng.uniform(-1.0, 1.0)))

    def _nearest(self, sh: _Shopper, plates: list[int]) -> int:
        """Of a few random candidates, the closest (people do not cross the store per item)."""
        if not plates:
            plates = self.shoppable
        picks = self.rng.choice(len(plates), size=min(3, len(plates)), replace=False)
        return min(
            (plates[int(i)] for i in picks),
            key=lambda i: math.dist(sh.pos, self.store.plates[i].center[:2]),
        )

    def _reach(self, sh: _Shopper, plate: int, t0: float) -> Reach:
        rng, p = self.rng, self.store.plates[plate]
        w, d = p.size
        a = float(rng.uniform(-1, 1)) * max(w / 2 - 0.04, 0.0)
        b = float(rng.uniform(-1, 1)) * max(d / 2 - 0.05, 0.0)
        fx, fy = p.facing
        hand = (
            round(p.center[0] - fy * a + fx * b, 3),
            round(p.center[1] + fx * a + fy * b, 3),
            round(p.center[2] + float(rng.uniform(0.03, 0.15)), 3),
        )
        t1 = t0 + float(rng.uniform(*self.cfg.reach_s))
        occluded = bool(rng.random() < self.cfg.p_reach_occluded)
        reach = Reach(sh.path.index, plate, t0, t1, hand, occluded)
        return reach

    def _maybe_lean(self, plate: int, arrive: float) -> None:
        cfg, rng = self.cfg, self.rng
        if cfg.p_lean <= 0 or rng.random() >= cfg.p_lean:
            return
        shelf = self.shelf_plates[self.shelf_of[plate]]
        k = shelf.index(plate)
        near = [i for i in shelf[max(k - 1, 0) : k + 2] if i != plate] or [plate]
        target = near[int(rng.integers(len(near)))]
        self.leans.append(
            Lean(
                target,
                arrive + float(rng.uniform(0.0, 1.0)),
                float(rng.uniform(*cfg.lean_s)),
                float(rng.uniform(*cfg.lean_g)),
            )
        )

    # --- shelf moves ---------------------------------------------------------------------

    def _lift(self, t: float, visit: _Visit) -> None:
        sh, plate, reach = visit.sh, visit.reach.plate, visit.reach
        units = self.stock.units_on(plate)
        if not units:
            return  # someone took the last one first: this reach only touched the plate
        misplaced = [u for u in units if self.stock.is_misplaced(u, plate)]
        pool = misplaced if visit.want_misplaced and misplaced else units
        first = pool[int(self.rng.integers(len(pool)))]
        n = 1
        if self.rng.random() < self.cfg.p_multi_unit:
            n = int(self.rng.integers(2, 4))
        same = [u for u in units if u.sku == first.sku and u is not first]
        take = [first, *same[: n - 1]]
        was_misplaced = any(self.stock.is_misplaced(u, plate) for u in take)
        deltas: dict[int, float] = {}
        for u in take:
            for p, d in self.stock.remove(u).items():
                deltas[p] = deltas.get(p, 0.0) + d
        sh.cart += [(u, plate) for u in take]
        self._record(t, "pick", sh, plate, take, deltas, was_misplaced, reach)

    def _place(self, t: float, visit: _Visit, unit: Unit) -> None:
        plate = visit.reach.plate
        deltas = self.stock.place(unit, plate)
        misplaced = self.stock.is_misplaced(unit, plate)
        self._record(t, "putback", visit.sh, plate, [unit], deltas, misplaced, visit.reach)

    def _record(
        self,
        t: float,
        kind: str,
        sh: _Shopper,
        plate: int,
        units: list[Unit],
        deltas: dict[int, float],
        misplaced: bool,
        reach: Reach,
    ) -> None:
        plates = tuple(sorted(deltas))
        for p in plates:
            self.steps.append(Step(p, t, deltas[p]))
        self.actions.append(
            Action(
                t=t,
                kind=kind,
                plate=plate,
                plates=plates,
                deltas_g=tuple(deltas[p] for p in plates),
                sku=units[0].sku,
                uids=tuple(u.uid for u in units),
                unit_weights_g=tuple(u.weight_g for u in units),
                account=sh.path.account,
                person=sh.path.index,
                misplaced=misplaced,
                reach=(reach.t0, reach.t1),
            )
        )

    # --- leaving -------------------------------------------------------------------------

    def _leave(self, t: float, sh: _Shopper) -> None:
        self.active.remove(sh)
        gate = min(self.exits_g, key=lambda g: math.dist(sh.pos, g.center))
        ux, uy = gate_inward(gate, self.store)
        lateral = float(self.rng.uniform(-0.2, 0.2)) * gate.width
        gx, gy = gate.center[0] - uy * lateral, gate.center[1] + ux * lateral
        out = math.atan2(-uy, -ux)
        t = self._walk(t, sh, (gx + ux * 1.0, gy + uy * 1.0), out)
        cross = self._walk(t, sh, (gx, gy), out)
        beyond = sh.speed * float(self.rng.uniform(0.5, 0.95))
        self._walk(cross, sh, (gx - ux * beyond, gy - uy * beyond), out)
        sh.path.exit_gate, sh.path.cross_t = gate.id, cross
        self.exits.append((round(cross, 3), gate.id))
        self._at(cross, self._gone)

    def _gone(self, t: float) -> None:
        self.inside -= 1
