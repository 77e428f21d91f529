"""What happened in the store, as decided by the shopper behaviour: the script the sensors render.

Behaviour decides; physics, cameras and truth only read these records, so every sensor agrees on
one story.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Reach:
    """A hand inside a plate from ``t0`` to ``t1``.

    Attributes:
        person: Index of the person reaching.
        plate: Index of the plate in store.json order.
        t0: Hand arrives on the plate (it travels there in the 0.3 s before).
        t1: Hand leaves the plate.
        hand: Where the hand is while on the plate, [x, y, z].
        occluded: The cameras miss this hand for the whole reach.
    """

    person: int
    plate: int
    t0: float
    t1: float
    hand: tuple[float, float, float]
    occluded: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """Goods on one plate change by ``delta_g``; the change is centred on ``t``."""

    plate: int
    t: float
    delta_g: float


@dataclass(frozen=True, slots=True)
class Lean:
    """A person leaning on a shelf edge: fluctuating extra load on one plate, net zero."""

    plate: int
    t0: float
    duration_s: float
    peak_g: float


@dataclass(frozen=True, slots=True)
class Action:
    """One true shelf action (a truth event).

    Attributes:
        t: Middle of the load change (the moment the goods were lifted or set down).
        kind: "pick" or "putback".
        plate: Plate the hand went into.
        plates: Plates whose load changed (two for a straddling unit on its home pair).
        deltas_g: Load change on each of ``plates`` (negative for a pick).
        sku: Real product of the units (the one to charge), whatever plate they were on.
        uids: The units moved.
        unit_weights_g: Each unit's own full weight.
        account: Account charged.
        person: Person who did it.
        misplaced: The units' sku is not in the planogram of ``plate`` (put-back on a wrong
            plate, or a pick of a unit someone misplaced there).
        reach: (t0, t1) of the reach.
    """

    t: float
    kind: str
    plate: int
    plates: tuple[int, ...]
    deltas_g: tuple[float, ...]
    sku: str
    uids: tuple[int, ...]
    unit_weights_g: tuple[float, ...]
    account: str
    person: int
    misplaced: bool
    reach: tuple[float, float]


@dataclass(slots=True)
class PersonPath:
    """One person's visit: keyframes of position and heading, and reaches.

    Position is linear between keyframes; ``heading[i]`` (radians) holds from ``times[i]`` on.
    """

    index: int
    account: str
    entry_gate: str
    scan_t: float
    enter_t: float
    exit_gate: str = ""
    cross_t: float = 0.0
    times: list[float] = field(default_factory=list)
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    heading: list[float] = field(default_factory=list)
    reaches: list[Reach] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"p-{self.index + 1:04d}"

    @property
    def end_t(self) -> float:
        return self.times[-1]

    def at(self, t: float, x: float, y: float, heading: float) -> None:
        """Add a keyframe (times only move forward)."""
        if self.times and t <= self.times[-1]:
            t = self.times[-1] + 1e-3
        self.times.append(t)
        self.xs.append(x)
        self.ys.append(y)
        self.heading.append(heading)


@dataclass(frozen=True, slots=True)
class Script:
    """Everything behaviour decided for one recording."""

    persons: list[PersonPath]
    actions: list[Action]
    steps: list[Step]
    leans: list[Lean]
    entries: list[tuple[float, str, str]]  # (t, gate, account)
    exits: list[tuple[float, str]]  # (t, gate)
    accounts: list[str]
    duration_s: float
