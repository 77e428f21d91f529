"""The naive engine on a tiny hand-built store: one shelf, two plates, one product each."""

from __future__ import annotations

from decimal import Decimal

import pytest

from walkout.eval.baseline import NaiveEngine
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

COLA, BEER = 368.0, 500.0
STORE = StoreLayout(
    products=[
        Product(sku="cola", price=Decimal("1.29"), weight_g=COLA),
        Product(sku="beer", price=Decimal("2.50"), weight_g=BEER, age_restricted=True),
    ],
    plates=[
        Plate(
            id="P1",
            shelf="S",
            center=(1.0, 2.0, 1.2),
            size=(0.3, 0.4),
            facing=(0, -1),
            skus=["cola"],
        ),
        Plate(
            id="P2",
            shelf="S",
            center=(3.0, 2.0, 1.2),
            size=(0.3, 0.4),
            facing=(0, -1),
            skus=["beer"],
        ),
    ],
    gates=[
        Gate(id="in", kind="entry", center=(0.5, 0.0), width=0.9),
        Gate(id="out", kind="exit", center=(2.5, 0.0), width=0.9),
    ],
)
NEAR_P1, NEAR_P2 = (1.0, 1.5), (3.0, 1.5)
RATE = 30.0


def weights(t0: float, t1: float, p1: float, p2: float) -> list[Msg]:
    """Shelf readings at 30 Hz with a small deterministic wobble, like a quiet load cell."""
    n = round((t1 - t0) * RATE)
    wobble = [0.8, -0.5, 0.3, -0.9, 0.1]
    return [
        WeightMsg(
            t=t0 + i / RATE,
            shelf="S",
            g=[p1 + wobble[i % 5], p2 - wobble[(i + 2) % 5]],
        )
        for i in range(n)
    ]


def shopper(account: str, track: str, pos: tuple[float, float], t: float) -> list[Msg]:
    return [EntryMsg(t=t, gate="in", account=account), TrackMsg(t=t + 0.5, id=track, pos=pos)]


def run(msgs: list[Msg]) -> dict[str, dict[str, int]]:
    engine = NaiveEngine(STORE)
    for msg in msgs:
        engine.feed(msg)
    return {r.account: r.items for r in engine.finish()}


P1, P2 = 10 * COLA, 4 * BEER

SCENARIOS: list[tuple[str, list[Msg], dict[str, dict[str, int]]]] = [
    (
        "one pick",
        [
            *shopper("a", "t1", NEAR_P1, 0.0),
            *weights(0, 1, P1, P2),
            *weights(1, 2, P1 - COLA, P2),
            ExitMsg(t=2.5, gate="out"),
        ],
        {"a": {"cola": 1}},
    ),
    (
        "two at once",
        [
            *shopper("a", "t1", NEAR_P1, 0.0),
            *weights(0, 1, P1, P2),
            *weights(1, 2, P1 - 2 * COLA, P2),
        ],
        {"a": {"cola": 2}},
    ),
    (
        "pick two, put one back",
        [
            *shopper("a", "t1", NEAR_P1, 0.0),
            *weights(0, 1, P1, P2),
            *weights(1, 2, P1 - 2 * COLA, P2),
            *weights(2, 3, P1 - COLA, P2),
        ],
        {"a": {"cola": 1}},
    ),
    (
        "hand pressure that does not settle is no pick",
        [
            *shopper("a", "t1", NEAR_P1, 0.0),
            *weights(0, 1, P1, P2),
            *weights(1, 1.2, P1 + 60, P2),
            *weights(1.2, 2, P1, P2),
        ],
        {"a": {}},
    ),
    (
        "nearest of two shoppers is charged",
        [
            *shopper("a", "t1", NEAR_P1, 0.0),
            *shopper("b", "t2", NEAR_P2, 0.2),
            *weights(0, 1, P1, P2),
            *weights(1, 2, P1, P2 - BEER),
        ],
        {"a": {}, "b": {"beer": 1}},
    ),
    (
        "a track that appears before the scan is ignored",
        [
            TrackMsg(t=0.0, id="stranger", pos=NEAR_P1),
            *shopper("a", "t1", NEAR_P2, 0.1),
            *weights(0, 1, P1, P2),
            *weights(1, 2, P1 - COLA, P2),
        ],
        {"a": {"cola": 1}},
    ),
    (
        "nobody in the store: nothing charged",
        [*weights(0, 1, P1, P2), *weights(1, 2, P1 - COLA, P2)],
        {},
    ),
]


@pytest.mark.parametrize(
    ("msgs", "expected"), [pytest.param(m, e, id=name) for name, m, e in SCENARIOS]
)
def test_naive_scenarios(msgs: list[Msg], expected: dict[str, dict[str, int]]) -> None:
    assert run(msgs) == expected


def test_receipt_fields() -> None:
    engine = NaiveEngine(STORE)
    msgs = [
        *shopper("a", "t1", NEAR_P2, 0.0),
        *weights(0, 1, P1, P2),
        *weights(1, 2, P1, P2 - 2 * BEER),
    ]
    for msg in msgs:
        engine.feed(msg)
    (receipt,) = engine.finish()
    assert receipt.items == {"beer": 2}
    assert receipt.total == Decimal("5.00")
    assert receipt.age_check_required
    assert receipt.confidence == 1.0 and not receipt.needs_review
    assert receipt.to_out().total == "5.00"


def test_dropped_samples_are_skipped() -> None:
    msgs: list[Msg] = [*shopper("a", "t1", NEAR_P1, 0.0), *weights(0, 1, P1, P2)]
    msgs += [WeightMsg(t=1.0, shelf="S", g=[None, None])]
    msgs += weights(1.05, 2, P1 - COLA, P2)
    assert run(msgs) == {"a": {"cola": 1}}
