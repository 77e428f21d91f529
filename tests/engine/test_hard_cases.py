"""The hard cases of a checkout-free store, each on a small recording the test makes.

Every scene is hand-built with :mod:`tests.engine.scenes` (one shelf of four plates, shoppers who
stand 0.4 m in front of it and reach in, weights that move mid-reach, 1.5 g noise) so that the
receipts a correct engine must give are known exactly. The last tests replay small simulated
recordings end to end and score them against the simulator's truth.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.engine.scenes import (
    ENTRY_XY,
    EXIT_XY,
    STAND_Y,
    Msg,
    Reach,
    Scene,
    deliver,
    plate_x,
    small_store,
)

from walkout.engine import Engine, FinalReceipt, Receipt
from walkout.engine.config import EngineConfig
from walkout.eval.score import score_receipts
from walkout.recording.models import EntryMsg, Gate, ReceiptOut, StoreLayout, Truth
from walkout.replay import replay
from walkout.sim import simulate

COLA, BEER, CHIPS, CHIPS2 = 0, 1, 2, 3  # plates of small_store()
SOUP_A, SOUP_B = 0, 1  # plates of small_store(near_equal=True)

Items = dict[str, int]
Act = tuple[int, float, float]  # plate, time the weight moves, grams (> 0 taken, < 0 put, 0 touch)


# -- helpers -------------------------------------------------------------------------------------


def cases(table: dict[str, tuple[Any, ...]], xfail: dict[str, str] | None = None) -> list[Any]:
    """pytest params from a table of named cases; the engine's known failures marked xfail."""
    known = xfail or {}
    return [
        pytest.param(
            *values,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=known[name])] if name in known else [],
        )
        for name, values in table.items()
    ]


def run(msgs: Sequence[Msg], store: StoreLayout) -> dict[str, Receipt]:
    """Feed every message, finish, and return the one final receipt of each account."""
    engine = Engine(store)
    finals: list[FinalReceipt] = []
    for m in msgs:
        finals.extend(o for o in engine.feed(m) if isinstance(o, FinalReceipt))
    finals.extend(o for o in engine.finish() if isinstance(o, FinalReceipt))
    accounts = [f.receipt.account for f in finals]
    assert len(accounts) == len(set(accounts)), f"an account got several receipts: {accounts}"
    return {f.receipt.account: f.receipt for f in finals}


def play(scene: Scene, t_end: float, ring_neighbours_g: float = 60.0) -> dict[str, Receipt]:
    """Render a scene in time order and run the engine over it."""
    return run(scene.build(t_end, ring_neighbours_g), scene.store)


def check(
    receipts: dict[str, Receipt],
    want: dict[str, Items],
    reviewed: dict[str, bool] | None = None,
) -> None:
    """Items per account, age checks that follow from them, and review where it is certain.

    ``reviewed`` lists the accounts whose review flag a correct engine's evidence settles
    (unambiguous scenes: no review); accounts not listed may go either way.
    """
    assert {a: r.items for a, r in receipts.items()} == want
    restricted = {p.sku for p in small_store().products if p.age_restricted}
    for account, r in receipts.items():
        assert r.age_check_required == any(s in restricted for s in r.items), account
    for account, flag in (reviewed or {}).items():
        assert receipts[account].needs_review == flag, receipts[account].review_reasons


def visit(
    scene: Scene,
    track: str,
    account: str | None,
    t_in: float,
    acts: Sequence[Act],
) -> float:
    """A shopper who walks to each act's plate, reaches in for 1.4 s and walks out.

    The weight moves in the middle of the reach; the shopper arrives 1.5 s before it and stands
    on until 1 s after (one stop for consecutive acts at one plate). Returns the exit time.
    """
    stops: list[tuple[float, float, float]] = []
    reaches: list[Reach] = []
    for plate, t, grams in acts:
        x = plate_x(plate)
        if stops and stops[-1][0] == x:
            stops[-1] = (x, stops[-1][1], t + 1.0)
        else:
            stops.append((x, t - 1.5, t + 1.0))
        reaches.append(Reach(plate, t - 0.7, t + 0.7))
        if grams > 0:
            scene.pick(plate, t, grams)
        elif grams < 0:
            scene.put(plate, t, -grams)
        else:  # a touch: the hand goes in and comes out empty
            scene.touches.append((plate, t - 0.6, t + 0.6))
    return scene.shopper(track, account, t_in, stops, reaches)


def new_scene(seed: int = 0, **store_kw: bool) -> Scene:
    """A scene where lifts take 0.15 s and a touching hand presses 40 g into the plate."""
    return Scene(small_store(**store_kw), seed=seed, ramp_s=0.15, press_g=40.0)


# -- 1. put-backs ----------------------------------------------------------------------------


PUTBACKS: dict[str, tuple[list[Act], Items]] = {
    "own plate": ([(COLA, 5.5, 366.4), (COLA, 9.5, -366.4)], {}),
    "own plate, one of two kept": (
        [(COLA, 5.5, 366.4), (COLA, 8.5, 371.0), (COLA, 11.5, -371.0)],
        {"cola": 1},
    ),
    "own plate, other product kept": (
        [(COLA, 5.5, 369.2), (CHIPS, 9.5, 158.7), (COLA, 13.5, -369.2)],
        {"chips": 1},
    ),
    "wrong plate": ([(BEER, 5.5, 512.3), (CHIPS, 9.5, -512.3)], {}),
    "wrong plate, far along the shelf": ([(COLA, 5.5, 366.4), (CHIPS2, 10.5, -366.4)], {}),
    "wrong plate, other product kept": (
        [(BEER, 5.5, 507.6), (CHIPS, 9.5, 161.1), (COLA, 13.5, -507.6)],
        {"chips": 1},
    ),
}


@pytest.mark.parametrize("case", PUTBACKS, ids=list(PUTBACKS))
def test_putback_leaves_the_cart(case: str) -> None:
    acts, want = PUTBACKS[case]
    scene = new_scene()
    t_exit = visit(scene, "t1", "acct-a", 2.0, acts)
    receipts = play(scene, t_exit + 4.0, ring_neighbours_g=60.0)
    check(receipts, {"acct-a": want}, reviewed={"acct-a": False})


MISPLACED = {
    # grams B lifts, B's receipt, whether the weight settles it (no review for B)
    "the misplaced beer": (512.3, {"beer": 1}, True),
    "a chips beside it": (159.4, {"chips": 1}, True),
    "two chips beside it": (159.4 + 161.0, {"chips": 2}, True),
    # 671.7 g is also 4 chips of 168 g: 5% over the listed weight, which real units can be
    "the beer and a chips": (512.3 + 159.4, {"beer": 1, "chips": 1}, False),
}


@pytest.mark.parametrize(("taken_g", "want", "sure"), cases(MISPLACED))
def test_misplaced_unit_is_charged_as_its_own_sku_to_whoever_takes_it(
    taken_g: float, want: Items, sure: bool
) -> None:
    """A leaves a beer on the chips plate; B later takes from that plate."""
    scene = new_scene()
    visit(scene, "ta", "acct-a", 2.0, [(BEER, 5.5, 512.3), (CHIPS, 9.5, -512.3)])
    t_exit = visit(scene, "tb", "acct-b", 13.0, [(CHIPS, 18.0, taken_g)])
    receipts = play(scene, t_exit + 4.0, ring_neighbours_g=60.0)
    reviewed = {"acct-a": False, "acct-b": False} if sure else {"acct-a": False}
    check(receipts, {"acct-a": {}, "acct-b": want}, reviewed=reviewed)


# -- 2. several units in one reach -------------------------------------------------------------


MULTI: list[tuple[int, list[float], Items]] = [
    (COLA, [367.1, 370.2], {"cola": 2}),
    (COLA, [366.0, 369.5, 371.2], {"cola": 3}),
    (BEER, [508.8, 513.0], {"beer": 2}),
    (CHIPS, [158.9, 161.7], {"chips": 2}),
    (CHIPS, [160.3, 157.8, 162.0], {"chips": 3}),
]


@pytest.mark.parametrize("one_by_one", [False, True], ids=["together", "one by one"])
@pytest.mark.parametrize(("plate", "units", "want"), MULTI, ids=[str(w) for _, _, w in MULTI])
def test_several_units_in_one_reach(
    plate: int, units: list[float], want: Items, one_by_one: bool
) -> None:
    """All units lifted in one step, or one after another 0.35 s apart in the same reach."""
    scene = new_scene()
    scene.shopper("t1", "acct-a", 2.0, [(plate_x(plate), 4.0, 8.0)], [Reach(plate, 5.0, 6.8)])
    if one_by_one:
        for i, g in enumerate(units):
            scene.load.setdefault(plate, []).append((5.5 + 0.35 * i, -g))
        scene.touches.append((plate, 5.0, 6.8))
    else:
        scene.pick(plate, 5.9, sum(units))
    receipts = play(scene, 15.0, ring_neighbours_g=60.0)
    check(receipts, {"acct-a": want}, reviewed={"acct-a": False})


# -- 3. a party sharing one receipt ----------------------------------------------------------------


def test_party_members_share_one_receipt() -> None:
    """One account scans twice; both of its people pick; a stranger takes nothing."""
    scene = new_scene()
    visit(scene, "p1", "acct-party", 2.0, [(COLA, 6.5, 366.9)])
    visit(scene, "p2", "acct-party", 4.5, [(CHIPS, 9.5, 160.8), (CHIPS, 12.5, 158.2)])
    t_exit = visit(scene, "s1", "acct-s", 7.0, [(CHIPS2, 17.0, 0.0)])
    receipts = play(scene, t_exit + 4.0, ring_neighbours_g=60.0)
    check(
        receipts,
        {"acct-party": {"cola": 1, "chips": 2}, "acct-s": {}},
        reviewed={"acct-party": False, "acct-s": False},
    )


def test_party_receipt_waits_for_the_last_member() -> None:
    """The first member leaves early; the second picks afterwards: both on one receipt."""
    scene = new_scene()
    t_first_out = visit(scene, "p1", "acct-party", 2.0, [(BEER, 5.5, 511.4)])
    t_exit = visit(scene, "p2", "acct-party", 4.5, [(COLA, t_first_out + 4.0, 368.8)])
    receipts = play(scene, t_exit + 4.0, ring_neighbours_g=60.0)
    check(receipts, {"acct-party": {"beer": 1, "cola": 1}}, reviewed={"acct-party": False})


def test_party_members_take_from_one_plate_at_once() -> None:
    """Both members stand either side of the cola plate and take one each, 0.3 s apart."""
    scene = new_scene()
    x = plate_x(COLA)
    scene.shopper("p1", "acct-party", 2.0, [(x - 0.2, 5.5, 9.5)], [Reach(COLA, 7.3, 8.7, dx=-0.1)])
    scene.shopper("p2", "acct-party", 4.5, [(x + 0.2, 6.5, 11.0)], [Reach(COLA, 7.6, 9.0, dx=0.1)])
    scene.pick(COLA, 8.0, 366.1)
    scene.pick(COLA, 8.3, 369.7)
    receipts = play(scene, 18.0, ring_neighbours_g=120.0)
    check(receipts, {"acct-party": {"cola": 2}}, reviewed={"acct-party": False})


def test_party_member_puts_back_what_the_other_took() -> None:
    """A beer handed over inside the party and put back leaves the shared cart."""
    scene = new_scene()
    visit(scene, "p1", "acct-party", 2.0, [(BEER, 5.5, 509.1)])
    t_exit = visit(scene, "p2", "acct-party", 4.5, [(CHIPS, 8.5, 160.2), (BEER, 12.5, -509.1)])
    receipts = play(scene, t_exit + 4.0, ring_neighbours_g=60.0)
    check(receipts, {"acct-party": {"chips": 1}}, reviewed={"acct-party": False})


# -- 4. a unit straddling two plates ------------------------------------------------------------


STRADDLE = {
    # share of the box on plate 2 when lifted, when put back (None: kept), receipt
    "40/60 picked": (0.4, None, {"box": 1}),
    "25/75 picked": (0.25, None, {"box": 1}),
    "70/30 picked": (0.7, None, {"box": 1}),
    "40/60 picked and put back 40/60": (0.4, 0.4, {}),
    "60/40 picked and put back 45/55": (0.6, 0.45, {}),
}


@pytest.mark.parametrize(("share", "back_share", "want"), cases(STRADDLE))
def test_straddling_unit_picked_and_put_back(
    share: float, back_share: float | None, want: Items
) -> None:
    """A 903 g box stands across plates 2 and 3; the shopper stands at their seam."""
    scene = new_scene(straddle=True)
    seam = (plate_x(2) + plate_x(3)) / 2
    reaches = [Reach((2, 3), 4.8, 6.2)]
    scene.pick_across((2, 3), 5.5, 903.0, share)
    if back_share is not None:
        reaches.append(Reach((2, 3), 9.8, 11.2))
        scene.put_across((2, 3), 10.5, 903.0, back_share)
    scene.shopper("t1", "acct-a", 2.0, [(seam, 4.0, 12.0)], reaches)
    receipts = play(scene, 19.0, ring_neighbours_g=60.0)
    check(receipts, {"acct-a": want}, reviewed={"acct-a": False})


def test_straddling_unit_and_a_unit_of_the_shared_plate() -> None:
    """The box across plates 2-3 and, in another reach, a chips from plate 2."""
    scene = new_scene(straddle=True)
    seam = (plate_x(2) + plate_x(3)) / 2
    scene.pick_across((2, 3), 5.5, 896.0, 0.4)
    scene.pick(2, 9.0, 159.6)
    reaches = [Reach((2, 3), 4.8, 6.2), Reach(2, 8.3, 9.7)]
    scene.shopper("t1", "acct-a", 2.0, [(seam, 4.0, 11.0)], reaches)
    receipts = play(scene, 18.0, ring_neighbours_g=60.0)
    check(receipts, {"acct-a": {"box": 1, "chips": 1}}, reviewed={"acct-a": False})


@pytest.mark.xfail(
    strict=True,
    reason="The box (plates 2+3) and B's chips (plate 2), lifted 0.2 s apart, become one event "
    "'1 x chips + 1 x box' on S1-P3+S1-P4; hands are measured against the pair of plates as a "
    "whole, so A (hand over plate 3) and B (hand over plate 2 only) are equally likely for either "
    "unit: box to B, chips to A, confidence 0.49 (both reviewed).",
)
def test_straddling_unit_and_a_neighbour_reaching_into_the_shared_plate() -> None:
    """A lifts the box across plates 2-3 (hand over plate 3's side of the seam) while B, beside
    A, takes a chips from plate 2: only the box can come from where A's hand was."""
    scene = new_scene(straddle=True)
    seam = (plate_x(2) + plate_x(3)) / 2
    scene.shopper("ta", "acct-a", 2.0, [(seam + 0.1, 5.5, 9.5)], [Reach((2, 3), 7.3, 8.7, 0.05)])
    scene.shopper("tb", "acct-b", 4.5, [(plate_x(2) - 0.1, 6.5, 11.0)], [Reach(2, 7.5, 8.9, -0.1)])
    scene.pick_across((2, 3), 8.0, 897.0, 0.45)
    scene.pick(2, 8.2, 160.6)
    receipts = play(scene, 18.0, ring_neighbours_g=120.0)
    check(receipts, {"acct-a": {"box": 1}, "acct-b": {"chips": 1}})


# -- 5. crowding ----------------------------------------------------------------------------------


NEIGHBOURS = {
    # plate of A, A's units, plate of B, B's units, A's receipt, B's receipt
    "cola | beer": (COLA, [367.5], BEER, [511.2], {"cola": 1}, {"beer": 1}),
    "beer | chips": (BEER, [508.4], CHIPS, [160.9], {"beer": 1}, {"chips": 1}),
    "chips | 2 chips": (CHIPS, [159.1], CHIPS2, [161.4, 158.3], {"chips": 1}, {"chips": 2}),
    "2 chips | chips": (CHIPS, [161.4, 158.3], CHIPS2, [159.1], {"chips": 2}, {"chips": 1}),
}


@pytest.mark.parametrize("gap_s", [0.0, 0.4, 0.9])
@pytest.mark.parametrize(
    ("plate_a", "units_a", "plate_b", "units_b", "want_a", "want_b"),
    cases(NEIGHBOURS),
)
def test_crowding_neighbouring_plates(
    plate_a: int,
    units_a: list[float],
    plate_b: int,
    units_b: list[float],
    want_a: Items,
    want_b: Items,
    gap_s: float,
) -> None:
    """A and B stand side by side, 0.4 m apart, and take from neighbouring plates."""
    scene = new_scene()
    scene.shopper("ta", "acct-a", 2.0, [(plate_x(plate_a), 5.5, 9.5)], [Reach(plate_a, 7.3, 8.7)])
    scene.shopper(
        "tb",
        "acct-b",
        4.5,
        [(plate_x(plate_b), 6.5, 11.0)],
        [Reach(plate_b, 7.3 + gap_s, 8.7 + gap_s)],
    )
    scene.pick(plate_a, 8.0, sum(units_a))
    scene.pick(plate_b, 8.0 + gap_s, sum(units_b))
    receipts = play(scene, 18.0, ring_neighbours_g=120.0)
    check(
        receipts,
        {"acct-a": want_a, "acct-b": want_b},
        reviewed={"acct-a": False, "acct-b": False},
    )


ONE_PLATE = {
    # seconds between the lifts, half the time a hand is in the plate, units A lifts, B lifts
    "one each at once": (0.0, 0.7, [366.8], [370.1]),
    "one each 0.3 s apart": (0.3, 0.7, [366.8], [370.1]),
    "one each 0.8 s apart": (0.8, 0.7, [366.8], [370.1]),
    "two, then one 0.9 s later": (0.9, 0.5, [366.8, 370.6], [370.1]),
    "one, then two 0.9 s later": (0.9, 0.5, [366.8], [370.1, 367.4]),
}


@pytest.mark.parametrize(
    ("gap_s", "half_s", "units_a", "units_b"),
    cases(ONE_PLATE),
)
def test_crowding_one_plate(
    gap_s: float, half_s: float, units_a: list[float], units_b: list[float]
) -> None:
    """A and B stand either side of plate 0, 0.4 m apart; each reaches in and lifts in turn.

    Each hand is in the plate from ``half_s`` before its owner's lift to ``half_s`` after, so
    with 0.9 s between the lifts and 0.5 s reaches, each lift has only its taker's hand in the
    plate (the other's comes 0.4 s after or left 0.4 s before): the split is not a guess. Three
    noise draws, so that a coin-flip split cannot pass by luck.
    """
    x = plate_x(COLA)
    t_a, t_b = 8.0, 8.0 + gap_s
    for seed in (0, 1, 2):
        scene = new_scene(seed=seed)
        scene.shopper(
            "ta",
            "acct-a",
            2.0,
            [(x - 0.2, 5.5, 9.5)],
            [Reach(COLA, t_a - half_s, t_a + half_s, -0.1)],
        )
        scene.shopper(
            "tb",
            "acct-b",
            4.5,
            [(x + 0.2, 6.5, 11.0)],
            [Reach(COLA, t_b - half_s, t_b + half_s, 0.1)],
        )
        scene.pick(COLA, t_a, sum(units_a))
        scene.pick(COLA, t_b, sum(units_b))
        receipts = play(scene, 18.0, ring_neighbours_g=120.0)
        check(receipts, {"acct-a": {"cola": len(units_a)}, "acct-b": {"cola": len(units_b)}})


HAND_CAME_LATE = {
    # A's hand in the plate, A's lift and units; B's hand, B's lift (None: takes nothing), units
    "B's hand comes in just after A's lift": ((7.3, 8.7), 8.0, [366.8], (8.1, 9.2), None, []),
    "B's hand comes in after A's lift, B lifts later": (
        (7.4, 8.6),
        8.0,
        [366.8, 370.6],
        (8.1, 9.4),
        8.9,
        [370.1],
    ),
}


@pytest.mark.parametrize(
    ("hand_a", "t_a", "units_a", "hand_b", "t_b", "units_b"),
    cases(HAND_CAME_LATE),
)
def test_crowding_one_plate_hand_came_after_the_lift(
    hand_a: tuple[float, float],
    t_a: float,
    units_a: list[float],
    hand_b: tuple[float, float],
    t_b: float | None,
    units_b: list[float],
) -> None:
    """A and B either side of plate 0. B's hand comes into the plate 0.1 s after A's lift,
    while A's hand is still there: both hands are at the plate around the lift, but B's came
    in after the unit left, so B did not take it (nor share in it). Three noise draws."""
    x = plate_x(COLA)
    for seed in (0, 1, 2):
        scene = new_scene(seed=seed)
        scene.shopper("ta", "acct-a", 2.0, [(x - 0.2, 5.5, 9.5)], [Reach(COLA, *hand_a, -0.1)])
        scene.shopper("tb", "acct-b", 4.5, [(x + 0.2, 6.5, 11.0)], [Reach(COLA, *hand_b, 0.1)])
        scene.pick(COLA, t_a, sum(units_a))
        if t_b is not None:
            scene.pick(COLA, t_b, sum(units_b))
        receipts = play(scene, 18.0, ring_neighbours_g=120.0)
        want_b = {"cola": len(units_b)} if units_b else {}
        check(receipts, {"acct-a": {"cola": len(units_a)}, "acct-b": want_b})


def test_misplaced_light_unit_lifted_just_before_another_takes_a_heavy_one() -> None:
    """A puts a chips bag (160 g) down on the beer plate (510 g beers), lifts it again and,
    while A's hand is still leaving, B reaches in and lifts a beer 1.2 s later: one run of
    activity. It is cut into its two steps, though the bag is lighter than the share of a beer
    that runs on that plate are cut by: the bag lying there counts too."""
    scene = new_scene()
    x = plate_x(BEER)
    scene.shopper(
        "ta",
        "acct-a",
        2.0,
        [(plate_x(CHIPS), 5.5, 8.0), (x - 0.2, 9.0, 14.5)],
        [Reach(CHIPS, 6.3, 7.7), Reach(BEER, 9.1, 10.5, -0.1), Reach(BEER, 12.3, 13.7, -0.1)],
    )
    scene.shopper("tb", "acct-b", 4.5, [(x + 0.2, 7.0, 16.5)], [Reach(BEER, 13.5, 14.9, 0.1)])
    scene.pick(CHIPS, 7.0, 160.4)
    scene.put(BEER, 9.8, 160.4)
    scene.pick(BEER, 13.0, 160.4)
    scene.pick(BEER, 14.2, 509.1)
    receipts = play(scene, 24.0)
    check(receipts, {"acct-a": {"chips": 1}, "acct-b": {"beer": 1}})


ONE_PLATE_BACK = {
    # seconds between A's put-back and B's move, what B does (+1 put back, -1 take another)
    "both put back at once": (0.0, 1, {}, {}),
    "both put back 0.4 s apart": (0.4, 1, {}, {}),
    "both put back 0.9 s apart": (0.9, 1, {}, {}),
    "A puts back as B takes another, 0.9 s apart": (0.9, -1, {}, {"cola": 2}),
}


@pytest.mark.parametrize(
    ("gap_s", "b_move", "want_a", "want_b"),
    cases(ONE_PLATE_BACK),
)
def test_crowding_one_plate_putbacks(
    gap_s: float, b_move: int, want_a: Items, want_b: Items
) -> None:
    """A and B, either side of plate 0, each took a cola seconds apart; later, within a second
    of each other, A puts theirs back and B puts theirs back (or takes another)."""
    scene = new_scene()
    x = plate_x(COLA)
    t_a, t_b = 14.0, 14.0 + gap_s
    scene.shopper(
        "ta",
        "acct-a",
        2.0,
        [(x - 0.2, 5.5, 16.0)],
        [Reach(COLA, 6.3, 7.7, -0.1), Reach(COLA, t_a - 0.5, t_a + 0.5, -0.1)],
    )
    scene.shopper(
        "tb",
        "acct-b",
        4.5,
        [(x + 0.2, 8.0, 17.5)],
        [Reach(COLA, 9.3, 10.7, 0.1), Reach(COLA, t_b - 0.5, t_b + 0.5, 0.1)],
    )
    scene.pick(COLA, 7.0, 366.6)
    scene.pick(COLA, 10.0, 370.3)
    scene.put(COLA, t_a, 366.6)
    if b_move > 0:
        scene.put(COLA, t_b, 370.3)
    else:
        scene.pick(COLA, t_b, 368.9)
    receipts = play(scene, 25.0, ring_neighbours_g=120.0)
    check(receipts, {"acct-a": want_a, "acct-b": want_b})


# -- 6. near-equal weights on neighbouring plates --------------------------------------------------


NEAR_EQUAL: dict[str, tuple[list[Act], Items]] = {
    "light unit of the heavier product": ([(SOUP_B, 6.0, 352.1)], {"soup-b": 1}),
    "heavy unit of the lighter product": ([(SOUP_A, 6.0, 354.2)], {"soup-a": 1}),
    "one of each": ([(SOUP_A, 6.0, 353.0), (SOUP_B, 9.0, 353.4)], {"soup-a": 1, "soup-b": 1}),
    "two of the heavier": ([(SOUP_B, 6.0, 352.5 + 357.9)], {"soup-b": 2}),
}


@pytest.mark.parametrize(("acts", "want"), cases(NEAR_EQUAL))
def test_near_equal_weights_charged_by_plate(acts: list[Act], want: Items) -> None:
    """Soups of 350 g and 356 g side by side; units whose weight alone could be either."""
    scene = new_scene(near_equal=True)
    t_exit = visit(scene, "t1", "acct-a", 2.0, acts)
    receipts = play(scene, t_exit + 4.0, ring_neighbours_g=100.0)
    check(receipts, {"acct-a": want}, reviewed={"acct-a": False})


@pytest.mark.parametrize("gap_s", [0.0, 0.5])
def test_near_equal_weights_crowded(gap_s: float) -> None:
    """A at the 350 g soup and B at the 356 g soup beside it take one each, within 0.5 s; A's
    unit is a heavy one and B's a light one, so by weight alone each looks like the other's."""
    scene = new_scene(near_equal=True)
    scene.shopper("ta", "acct-a", 2.0, [(plate_x(SOUP_A), 5.5, 9.5)], [Reach(SOUP_A, 7.3, 8.7)])
    scene.shopper(
        "tb",
        "acct-b",
        4.5,
        [(plate_x(SOUP_B), 6.5, 11.0)],
        [Reach(SOUP_B, 7.3 + gap_s, 8.7 + gap_s)],
    )
    scene.pick(SOUP_A, 8.0, 354.6)
    scene.pick(SOUP_B, 8.0 + gap_s, 351.2)
    receipts = play(scene, 18.0, ring_neighbours_g=120.0)
    check(receipts, {"acct-a": {"soup-a": 1}, "acct-b": {"soup-b": 1}})


# -- 7. sensor trouble and leaning -----------------------------------------------------------------


def disturbed_scene(kind: str) -> Scene:
    """A takes one chips from plate 2; B stands beside A at plate 1 for 8 s and takes nothing.

    The sensors misbehave (``kind``), and with "lean" B leans on plate 1, hand on it, while A's
    chips comes off the plate next to it.
    """
    scene = new_scene(seed=5)
    scene.shopper("ta", "acct-a", 2.0, [(plate_x(CHIPS), 6.0, 12.0)], [Reach(CHIPS, 8.3, 9.7)])
    scene.pick(CHIPS, 9.0, 159.3)
    b_reaches = [Reach(BEER, 8.0, 12.0)] if kind in ("lean", "all") else []
    scene.shopper("tb", "acct-b", 4.5, [(plate_x(BEER), 7.0, 15.0)], b_reaches)
    if kind in ("spikes", "all"):
        for plate, t, g in [
            (0, 3.1, 480.0), (1, 6.2, -420.0), (2, 8.95, 510.0), (3, 9.4, -380.0),
            (1, 11.0, 650.0), (0, 14.2, -300.0), (2, 16.0, 700.0), (3, 17.5, 250.0),
        ]:  # fmt: skip
            scene.spike(plate, t, g)
    if kind in ("drops", "all"):
        scene.drop_values = 0.05
        scene.drop_messages = 0.02
        scene.gap(CHIPS, 8.9, 9.2)  # the picked plate is silent through the lift
    if kind in ("drift", "all"):
        scene.drift_g_per_min = 6.0
    if kind in ("lean", "all"):
        scene.lean(BEER, 8.0, 12.0, 150.0)  # B leans on plate 1, then lets go
        scene.lean(COLA, 8.5, 11.5, 60.0)  # ... and the plate on its other side feels it
    return scene


@pytest.mark.parametrize("kind", ["spikes", "drops", "drift", "lean", "all"])
def test_sensor_trouble_makes_no_phantom_items(kind: str) -> None:
    scene = disturbed_scene(kind)
    receipts = play(scene, 22.0, ring_neighbours_g=60.0)
    check(receipts, {"acct-a": {"chips": 1}, "acct-b": {}}, reviewed={"acct-b": False})


@pytest.mark.xfail(
    strict=True,
    reason="The lean keeps plate 2 moving from 8.0 to 12.0 s and the engine dates the -158 g step "
    "at t=10.7 (it was 9.0), so it looks for hands in 10.1-11.1 s, after A's reach (8.3-9.7 s); "
    "A, whose hands are then seen away from the plate, is cleared and the chips goes to B "
    "(B 0.4 m away: confidence 0.98, not reviewed; 0.8 m: 0.53, reviewed).",
)
@pytest.mark.parametrize(
    "b_x", [plate_x(CHIPS2), plate_x(CHIPS2) + 0.4], ids=["B 0.4 m", "B 0.8 m"]
)
def test_lean_on_the_plate_another_takes_from(b_x: float) -> None:
    """B leans on plate 2 (150 g of wobbling pressure for 4 s, B's hands hidden by B's body)
    while A, standing at plate 2, reaches in and takes a chips 1 s into the lean."""
    scene = new_scene(seed=5)
    scene.shopper("ta", "acct-a", 2.0, [(plate_x(CHIPS), 6.0, 12.0)], [Reach(CHIPS, 8.3, 9.7)])
    scene.pick(CHIPS, 9.0, 159.3)
    scene.shopper(
        "tb", "acct-b", 4.5, [(b_x, 7.0, 15.0)], [Reach(CHIPS, 8.0, 12.0, dx=0.15, hidden="both")]
    )
    scene.lean(CHIPS, 8.0, 12.0, 150.0)
    receipts = play(scene, 22.0)
    check(receipts, {"acct-a": {"chips": 1}, "acct-b": {}})


# -- 8. track ids swapped at a crossing ------------------------------------------------------------


LOOK_A = (0.9, -0.4, 1.2, 0.1, -1.1, 0.5, 0.0, -0.7)
LOOK_B = (-0.3, 0.8, -0.5, 1.0, 0.6, -0.9, 1.3, 0.2)
LOOK_C = (0.2, 0.1, -1.2, -0.6, 0.4, 1.1, -0.8, -1.0)
"""Two people's appearance descriptors (the optional ``look`` of track frames)."""


def with_looks(scene: Scene) -> Scene:
    scene.looks = {"ta": LOOK_A, "tb": LOOK_B}
    return scene


def crossing_scene(swapped: bool, lost: bool = False, looks: bool = False) -> Scene:
    """A walks west and B east along the aisle, passing 0.2 m apart at t=8.25; then A takes a
    cola from plate 0 and B a chips from plate 3. ``lost``: B's track is also lost for 1.5 s
    once B stands at the shelf, and comes back under a new id. ``looks``: the camera system
    sends each person's look with their frames."""
    scene = with_looks(new_scene()) if looks else new_scene()
    scene.entry(1.0, "acct-a")
    scene.person(
        "ta",
        [(2.0, 0.5, 0.3), (5.0, 2.6, 2.0), (7.0, 2.6, 2.0), (9.0, 1.0, 2.0), (9.5, 1.0, STAND_Y),
         (12.0, 1.0, STAND_Y), (15.0, 3.5, 0.2), (15.8, 3.5, -0.5)],
        [Reach(COLA, 9.8, 11.2)],
        both_hands=True,
    )  # fmt: skip
    scene.exit(15.0)
    scene.entry(3.5, "acct-b")
    scene.person(
        "tb",
        [(4.5, 0.5, 0.3), (6.5, 0.6, 2.2), (7.0, 0.6, 2.2), (9.0, 2.2, 2.2), (9.5, 2.2, STAND_Y),
         (13.5, 2.2, STAND_Y), (16.5, 3.5, 0.2), (17.3, 3.5, -0.5)],
        [Reach(CHIPS2, 9.9, 11.3)],
        both_hands=True,
    )  # fmt: skip
    scene.exit(16.5)
    scene.pick(COLA, 10.5, 367.9)
    scene.pick(CHIPS2, 10.6, 160.4)
    if swapped:
        scene.swap_ids("ta", "tb", 8.25)
    if lost:
        scene.lose_track("ta" if swapped else "tb", 11.6, 13.1, "tb-2")
    return scene


CROSSING_WANT = {"acct-a": {"cola": 1}, "acct-b": {"chips": 1}}


def side_by_side_scene(swapped: bool, looks: bool = False) -> Scene:
    """A and B walk east along the aisle side by side, 0.5 m apart, for 2.5 s (A on the shelf
    side); their ids swap 1.5 s into the walk. Then A takes a chips from plate 3 and B, turning
    back west, a cola from plate 0."""
    scene = with_looks(new_scene()) if looks else new_scene()
    scene.entry(1.0, "acct-a")
    scene.person(
        "ta",
        [(2.0, 0.5, 0.3), (4.0, 0.6, 1.9), (6.0, 0.6, 1.9), (8.5, 2.6, 1.9), (9.5, 2.2, STAND_Y),
         (12.5, 2.2, STAND_Y), (15.5, 3.5, 0.2), (16.3, 3.5, -0.5)],
        [Reach(CHIPS2, 10.3, 11.7)],
        both_hands=True,
    )  # fmt: skip
    scene.exit(15.5)
    scene.entry(3.5, "acct-b")
    scene.person(
        "tb",
        [(4.5, 0.5, 0.3), (6.0, 0.6, 1.4), (8.5, 2.6, 1.4), (10.5, 1.0, STAND_Y),
         (13.0, 1.0, STAND_Y), (17.0, 3.5, 0.2), (17.8, 3.5, -0.5)],
        [Reach(COLA, 11.3, 12.7)],
        both_hands=True,
    )  # fmt: skip
    scene.exit(17.0)
    scene.pick(CHIPS2, 11.0, 160.9)
    scene.pick(COLA, 12.0, 368.4)
    if swapped:
        scene.swap_ids("ta", "tb", 7.5)
    return scene


SWAPS = {
    "head-on crossing, ids kept": (lambda: crossing_scene(False), CROSSING_WANT),
    "head-on crossing, ids swapped": (lambda: crossing_scene(True), CROSSING_WANT),
    "side by side, ids kept": (
        lambda: side_by_side_scene(False),
        {"acct-a": {"chips": 1}, "acct-b": {"cola": 1}},
    ),
    "side by side, ids swapped": (
        lambda: side_by_side_scene(True),
        {"acct-a": {"chips": 1}, "acct-b": {"cola": 1}},
    ),
}


@pytest.mark.parametrize(
    ("make", "want"),
    cases(
        SWAPS,
        xfail={
            "head-on crossing, ids swapped": "The ids swap at the closest approach (0.2 m, "
            "0.35 s after the pair came within the 0.7 m swap zone); the tracker reads the "
            "motion after from the zone on, so its fit mixes both stories and the swap does not "
            "beat keeping by the margin: receipts exchanged, not reviewed. Reading the motion "
            "later as well fixes this but makes false swaps in busy (1.4 % of track messages).",
            "side by side, ids swapped": "The tracker does not notice that the ids of two "
            "people walking side by side at one speed were exchanged (both ids jump 0.5 m "
            "sideways in one frame): no swap, no doubt, so the receipts are exchanged (cola on "
            "A's, chips on B's) and not reviewed.",
        },
    ),
)
def test_id_swap(make: Callable[[], Scene], want: dict[str, Items]) -> None:
    """Two shoppers pass close, the tracker may exchange their ids; then each picks."""
    receipts = play(make(), 21.0)
    check(receipts, want)


LOOKED_SWAPS = {
    "head-on crossing, ids kept": (lambda: crossing_scene(False, looks=True), CROSSING_WANT),
    "head-on crossing, ids swapped": (lambda: crossing_scene(True, looks=True), CROSSING_WANT),
    "head-on crossing, ids swapped, one lost": (
        lambda: crossing_scene(True, lost=True, looks=True),
        CROSSING_WANT,
    ),
    "side by side, ids kept": (
        lambda: side_by_side_scene(False, looks=True),
        {"acct-a": {"chips": 1}, "acct-b": {"cola": 1}},
    ),
    "side by side, ids swapped": (
        lambda: side_by_side_scene(True, looks=True),
        {"acct-a": {"chips": 1}, "acct-b": {"cola": 1}},
    ),
}


@pytest.mark.parametrize(("make", "want"), cases(LOOKED_SWAPS))
def test_id_swap_seen_by_looks(make: Callable[[], Scene], want: dict[str, Items]) -> None:
    """The same meetings when track frames carry each person's look: the swaps that motion
    alone misses are found, and ids that were kept stay kept. Nobody is sent to review."""
    receipts = play(make(), 21.0)
    check(receipts, want, reviewed={"acct-a": False, "acct-b": False})


@pytest.mark.parametrize(
    "swap_at",
    [3.6, 3.5, None],
    ids=["ids swapped a frame after the birth", "ids swapped at the birth", "ids kept"],
)
def test_shopper_stepping_in_beside_another(swap_at: float | None) -> None:
    """A came in a second ago and lingers by the entry gate; B steps in through it 0.5 m from
    A, and the camera system swaps the two ids one frame after B's id is born, or at its very
    first frame (then B's id is born where A is). The new id has no motion before the
    meeting; where it was born stands in for it, unless it was born at the meeting's first
    moment, when only A's motion before can tell. The swap is seen either way (and no swap is
    seen where there was none)."""
    scene = new_scene()
    scene.entry(1.0, "acct-a")
    a_path = [(2.0, *ENTRY_XY), (3.4, 0.8, 0.6), (3.9, 0.9, 0.8)]
    a_path += [(6.5, plate_x(BEER), STAND_Y), (10.0, plate_x(BEER), STAND_Y)]
    a_path += [(13.0, *EXIT_XY), (13.8, EXIT_XY[0], EXIT_XY[1] - 0.7)]
    scene.person("ta", a_path, [Reach(BEER, 7.3, 8.7)], both_hands=True)
    scene.exit(13.0)
    scene.pick(BEER, 8.0, 509.6)
    scene.entry(2.5, "acct-b")
    b_path = [(3.5, *ENTRY_XY), (8.0, plate_x(CHIPS2), STAND_Y), (12.5, plate_x(CHIPS2), STAND_Y)]
    b_path += [(15.5, *EXIT_XY), (16.3, EXIT_XY[0], EXIT_XY[1] - 0.7)]
    scene.person("tb", b_path, [Reach(CHIPS2, 10.3, 11.7)], both_hands=True)
    scene.exit(15.5)
    scene.pick(CHIPS2, 11.0, 161.3)
    if swap_at is not None:
        scene.swap_ids("ta", "tb", swap_at)
    receipts = play(scene, 22.0)
    check(receipts, {"acct-a": {"beer": 1}, "acct-b": {"chips": 1}})


def test_id_taken_over_and_its_person_back_under_a_new_id_are_put_right_by_looks() -> None:
    """A and B stand 0.5 m apart at the shelf. The camera system loses A and carries A's id
    on B (B's own id ends); 1.5 s later A is found again under a new id. B's lost id is no
    match for the new one (it looks like A, not B), so it starts out as nobody's; once its
    signature is learnt it matches A's, while A's own id no longer looks like A: A gets the
    new id back, and B (lost) the one that looks like B."""
    scene = new_scene()
    scene.looks = {"ta": LOOK_A, "tb": LOOK_B}
    scene.shopper("ta", "acct-a", 2.0, [(plate_x(COLA), 4.5, 14.0)], [Reach(COLA, 11.3, 12.7)])
    scene.pick(COLA, 12.0, 368.4)
    scene.shopper("tb", "acct-b", 4.0, [(1.5, 6.5, 15.0)], [Reach(BEER, 12.8, 14.2)])
    scene.pick(BEER, 13.5, 509.6)
    scene.swap_ids("ta", "tb", 7.0)
    scene.lose_track("tb", 7.0, 8.5, "ta-2")
    receipts = play(scene, 26.0)
    check(receipts, {"acct-a": {"cola": 1}, "acct-b": {"beer": 1}})


def two_entry_scene() -> Scene:
    """:func:`new_scene` with a second entry gate, ``in-2``, 1.4 m east of ``in``: gates stand
    side by side in a store with queues."""
    scene = new_scene()
    gates = [*scene.store.gates, Gate(id="in-2", kind="entry", center=(1.9, 0.0), width=1.0)]
    scene.store = scene.store.model_copy(update={"gates": gates})
    return scene


def test_ids_swapped_while_looks_are_learnt_are_put_right_by_looks() -> None:
    """A and B come in together through neighbouring gates and stop 0.25 m apart to talk;
    their ids swap 0.45 s in, while each one's look signature is still being learnt from
    their first 20 frames, and standing that close, motion cannot tell. The frames of each id
    are then two people's: the signature keeps only those before the swap (a mean of both
    would be nobody's look), and with it the looks give the ids back. Then A takes a cola
    from plate 0 and B chips from plate 3. (C, in earlier, is there so that the spread of
    one person's look is known.)"""
    scene = two_entry_scene()
    scene.looks = {"ta": LOOK_A, "tb": LOOK_B, "tc": LOOK_C}
    scene.entry(0.0, "acct-c")
    scene.person("tc", [(1.0, *ENTRY_XY), (3.0, 3.0, 1.5), (20.0, 3.0, 1.5), (21.0, *EXIT_XY)])
    scene.exit(21.0)
    scene.messages.append(EntryMsg(t=4.0, gate="in", account="acct-a"))
    scene.messages.append(EntryMsg(t=4.0, gate="in-2", account="acct-b"))
    a_path = [(5.0, 0.6, 0.3), (5.3, 1.2, 1.0), (8.0, 1.2, 1.0), (10.0, plate_x(COLA), STAND_Y)]
    a_path += [(15.0, plate_x(COLA), STAND_Y), (18.0, *EXIT_XY), (18.8, 3.5, -0.5)]
    scene.person("ta", a_path, [Reach(COLA, 12.3, 13.7)], both_hands=True)
    scene.exit(18.0)
    b_path = [(5.0, 1.8, 0.3), (5.3, 1.45, 1.0), (8.0, 1.45, 1.0)]
    b_path += [(10.5, plate_x(CHIPS2), STAND_Y), (16.0, plate_x(CHIPS2), STAND_Y)]
    b_path += [(23.0, *EXIT_XY), (23.8, 3.5, -0.5)]
    scene.person("tb", b_path, [Reach(CHIPS2, 13.3, 14.7)], both_hands=True)
    scene.exit(23.0)
    scene.pick(COLA, 13.0, 368.4)
    scene.pick(CHIPS2, 14.0, 160.9)
    scene.swap_ids("ta", "tb", 5.45)
    receipts = play(scene, 30.0)
    check(receipts, {"acct-a": {"cola": 1}, "acct-b": {"chips": 1}, "acct-c": {}})


def test_track_without_a_scan_does_not_take_the_neighbouring_gates_scan() -> None:
    """B scans at ``in-2``; before B steps through, somebody with no scan of their own comes
    through ``in`` next to it. The scan is ``in-2``'s: B's, not the newcomer's, so B's pick is
    B's. (In a busy hour, one scan taken next door shifted a queue of entrants by one
    account each.)"""
    scene = two_entry_scene()
    scene.messages.append(EntryMsg(t=1.0, gate="in-2", account="acct-b"))
    stray = [(1.5, *ENTRY_XY), (4.0, 0.5, 1.5), (9.0, 0.5, 1.5), (12.0, *EXIT_XY)]
    scene.person("tx", [*stray, (12.8, EXIT_XY[0], EXIT_XY[1] - 0.7)], both_hands=True)
    scene.exit(12.0)
    b_path = [(2.5, 1.9, 0.3), (6.0, plate_x(CHIPS2), STAND_Y), (10.0, plate_x(CHIPS2), STAND_Y)]
    b_path += [(13.5, *EXIT_XY), (14.3, EXIT_XY[0], EXIT_XY[1] - 0.7)]
    scene.person("tb", b_path, [Reach(CHIPS2, 7.3, 8.7)], both_hands=True)
    scene.exit(13.5)
    scene.pick(CHIPS2, 8.0, 161.3)
    receipts = play(scene, 20.0)
    check(receipts, {"acct-b": {"chips": 1}})


def test_track_appearing_inside_just_before_a_scan_is_not_its_shopper() -> None:
    """A track appears 1.5 m inside the store (nobody lost nearby: the camera system's double
    of someone, or a shopper lost too long) 0.2 s before A scans; A steps through the gate a
    second later. A scan's shopper comes through the gate after it: a track seen before the
    scan is only theirs if it started in the gate itself, so A's pick is A's."""
    scene = new_scene()
    stray = [(4.8, 0.6, 1.5), (9.0, 0.6, 1.5), (12.0, *EXIT_XY)]
    scene.person("tx", [*stray, (12.8, EXIT_XY[0], EXIT_XY[1] - 0.7)], both_hands=True)
    scene.exit(12.0)
    scene.shopper("ta", "acct-a", 6.0, [(plate_x(BEER), 8.5, 12.0)], [Reach(BEER, 9.3, 10.7)])
    scene.pick(BEER, 10.0, 509.6)
    receipts = play(scene, 22.0)
    check(receipts, {"acct-a": {"beer": 1}})


# -- 9. a track lost and back under a new id ----------------------------------------------------


LOST = {
    "walking in": [("ta", 3.5, 5.0, "ta-2")],
    "standing at the shelf": [("ta", 5.5, 7.0, "ta-2")],
    "around the reach": [("ta", 7.2, 8.7, "ta-2")],
    "both lost at once": [("ta", 5.5, 7.0, "ta-2"), ("tb", 5.6, 7.1, "tb-2")],
}


@pytest.mark.parametrize("case", LOST, ids=list(LOST))
def test_lost_track_back_under_a_new_id(case: str) -> None:
    """A (beer at plate 1) loses its track for 1.5 s; B stands 0.8 m away at plate 3."""
    scene = new_scene()
    scene.shopper("ta", "acct-a", 2.0, [(plate_x(BEER), 4.5, 10.0)], [Reach(BEER, 7.3, 8.7)])
    scene.shopper("tb", "acct-b", 4.5, [(plate_x(CHIPS2), 6.5, 13.0)], [Reach(CHIPS2, 10.8, 12.2)])
    scene.pick(BEER, 8.0, 509.6)
    scene.pick(CHIPS2, 11.5, 161.3)
    for track, t0, t1, new_id in LOST[case]:
        scene.lose_track(track, t0, t1, new_id)
    receipts = play(scene, 20.0, ring_neighbours_g=60.0)
    check(receipts, {"acct-a": {"beer": 1}, "acct-b": {"chips": 1}})


def test_lost_tracks_of_two_walking_side_by_side() -> None:
    """A and B, walking side by side 0.5 m apart, are both lost for 1.5 s and come back as new
    ids 1.2 m further on: who is who follows from where each was heading (a doubt may flag
    review, but the items must be right)."""
    scene = side_by_side_scene(swapped=False)
    scene.lose_track("ta", 6.8, 8.3, "ta-2")
    scene.lose_track("tb", 6.8, 8.3, "tb-2")
    receipts = play(scene, 21.0)
    check(receipts, {"acct-a": {"chips": 1}, "acct-b": {"cola": 1}})


def test_party_member_track_lost() -> None:
    """The second member of a party is lost for 1.5 s on the way in; a stranger shops too."""
    scene = new_scene()
    visit(scene, "p1", "acct-party", 2.0, [(COLA, 7.0, 367.0)])
    visit(scene, "p2", "acct-party", 4.5, [(CHIPS, 9.0, 160.0)])
    visit(scene, "s1", "acct-s", 7.0, [(CHIPS2, 12.0, 159.0)])
    scene.lose_track("p2", 6.0, 7.5, "p2-again")
    receipts = play(scene, 20.0)
    check(
        receipts,
        {"acct-party": {"chips": 1, "cola": 1}, "acct-s": {"chips": 1}},
        reviewed={"acct-party": False, "acct-s": False},
    )


# -- 10. hands unseen during a reach ---------------------------------------------------------------


@pytest.mark.parametrize("other_hands", [True, False], ids=["other's hands seen", "never seen"])
@pytest.mark.parametrize("hidden", ["both", "reaching"])
@pytest.mark.parametrize(
    "other_xy",
    [(plate_x(COLA) + 1.5, STAND_Y), (plate_x(COLA), STAND_Y - 1.5)],
    ids=["other 1.5 m along the shelf", "other 1.5 m behind"],
)
def test_occluded_hands_charge_the_one_at_the_plate(
    hidden: str, other_xy: tuple[float, float], other_hands: bool
) -> None:
    """A reaches into plate 0 unseen; B stands still 1.5 m away, hands at their sides."""
    scene = new_scene()
    scene.shopper(
        "ta", "acct-a", 2.0, [(plate_x(COLA), 5.0, 9.0)], [Reach(COLA, 6.8, 8.2, hidden=hidden)]
    )
    scene.pick(COLA, 7.5, 369.3)
    scene.entry(3.5, "acct-b")
    ox, oy = other_xy
    scene.person(
        "tb",
        [(4.5, 0.5, 0.3), (6.5, ox, oy), (10.5, ox, oy), (13.0, 3.5, 0.2), (13.8, 3.5, -0.5)],
        hands_visible=other_hands,
        both_hands=True,
    )
    scene.exit(13.0)
    receipts = play(scene, 17.0, ring_neighbours_g=60.0)
    check(receipts, {"acct-a": {"cola": 1}, "acct-b": {}}, reviewed={"acct-b": False})


# -- 11. late, out-of-order and duplicated delivery -----------------------------------------------


def busy_scene() -> Scene:
    """A party, a crowded shelf, a put-back on the wrong plate and a shopper who takes nothing."""
    scene = new_scene(seed=2)
    visit(scene, "p1", "acct-party", 2.0, [(COLA, 6.0, 366.9), (BEER, 10.0, 511.8)])
    visit(scene, "p2", "acct-party", 4.5, [(CHIPS, 9.0, 158.8), (CHIPS2, 13.0, -511.8)])
    visit(scene, "c1", "acct-c", 7.0, [(COLA, 12.0, 368.3), (COLA, 15.0, -368.3)])
    visit(scene, "d1", "acct-d", 9.5, [(CHIPS2, 17.5, 512.0)])
    return scene


BUSY_WANT = {
    "acct-party": {"cola": 1, "chips": 1},
    "acct-c": {},
    "acct-d": {"beer": 1},
}


DELIVERY = {
    "busy shelf": (busy_scene, 26.0, BUSY_WANT),
    "crossing and lost track": (lambda: crossing_scene(False, lost=True), 20.0, CROSSING_WANT),
}


@pytest.mark.parametrize("max_late_s", [0.5, 1.9])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", DELIVERY, ids=list(DELIVERY))
def test_delivery_order_does_not_change_receipts(case: str, seed: int, max_late_s: float) -> None:
    """Lines up to ``max_late_s`` late (so out of order) and 5% twice: the same receipts."""
    make, t_end, want = DELIVERY[case]
    scene = make()
    msgs = scene.build(t_end, ring_neighbours_g=60.0)
    in_order = run(msgs, scene.store)
    check(in_order, want)
    late = run(
        deliver(msgs, seed, max_late_s=max_late_s, p_late=0.3, p_duplicate=0.05), scene.store
    )
    assert late == in_order


# -- 12. age checks and empty receipts ------------------------------------------------------------


AGE: dict[str, tuple[list[Act], Items]] = {
    "beer": ([(BEER, 6.0, 510.7)], {"beer": 1}),
    "beer and cola": ([(BEER, 6.0, 513.9), (COLA, 9.0, 366.2)], {"beer": 1, "cola": 1}),
    "cola only": ([(COLA, 6.0, 370.4)], {"cola": 1}),
    "beer put back": ([(BEER, 6.0, 507.5), (BEER, 9.0, -507.5)], {}),
    "nothing": ([], {}),
}


@pytest.mark.parametrize("case", AGE, ids=list(AGE))
def test_age_check_and_empty_receipt(case: str) -> None:
    acts, want = AGE[case]
    scene = new_scene()
    if acts:
        t_exit = visit(scene, "t1", "acct-a", 2.0, acts)
    else:  # walks to the shelf, looks, leaves
        t_exit = scene.shopper("t1", "acct-a", 2.0, [(plate_x(BEER), 4.5, 8.0)])
    receipts = play(scene, t_exit + 4.0, ring_neighbours_g=60.0)
    check(receipts, {"acct-a": want}, reviewed={"acct-a": False})
    assert receipts["acct-a"].age_check_required == ("beer" in want)


# -- end to end on simulated recordings -----------------------------------------------------------


@dataclass(frozen=True)
class Simulated:
    """A simulated recording whose truth was taken out of the folder before the replay."""

    folder: Path
    truth: Truth
    receipts: list[ReceiptOut]
    rejected: int


def simulate_and_replay(folder: Path, preset: str, seed: int, minutes: float) -> Simulated:
    simulate(folder, preset=preset, seed=seed, minutes=minutes)
    truth_file = folder / "truth.json"
    truth = Truth.model_validate_json(truth_file.read_text())
    truth_file.unlink()  # the engine must do without it
    result = replay(folder)
    return Simulated(folder, truth, result.receipts_file().receipts, len(result.rejected))


@pytest.fixture(scope="module")
def hard_run(tmp_path_factory: pytest.TempPathFactory) -> Simulated:
    """``hard``, seed 9, 4 minutes: 7 accounts (2 parties), 29 shelf actions with 6 put-backs
    (6 misplaced units), 2 multi-unit reaches and 6 straddling units, track ids swapped and
    lost, on top of the preset's leaning, drift, spikes, dropped values and late lines. Chosen
    as the richest of seeds 0-19 before looking at the engine's score on it."""
    return simulate_and_replay(tmp_path_factory.mktemp("hard") / "rec", "hard", 9, 4.0)


def test_simulated_easy_recording_is_exact(tmp_path: Path) -> None:
    """``easy``, seed 0, 5 minutes (4 accounts, clean sensors): every receipt exact, none
    reviewed. Measured on seeds 0-9: all exact."""
    run_ = simulate_and_replay(tmp_path / "rec", "easy", 0, 5.0)
    score = score_receipts(run_.truth, run_.receipts)
    assert score.accounts >= 3
    assert score.exact_rate == 1.0, [d for d in score.details if not d.exact]
    assert score.review_rate == 0.0


def test_simulated_hard_recording_end_to_end(hard_run: Simulated) -> None:
    """A receipt that is wrong must at least be sent to review; most units land right.

    ``hard`` became as harsh as the real AutoCheckout shelves (whole-shelf ringing, store-wide
    shocks, loose shelves, lasting shifts): measured then, on this recording, 3 of 7 receipts
    exact, unit precision 0.68 and recall 0.75, every wrong receipt sent to review (it was 7 of
    7 exact before). The thresholds leave a little room below those figures; the review
    guarantee has none.
    """
    assert hard_run.rejected == 0
    assert not (hard_run.folder / "truth.json").exists()
    score = score_receipts(hard_run.truth, hard_run.receipts)
    assert score.accounts >= 6
    assert score.exact_rate >= 0.4, [d for d in score.details if not d.exact]
    assert score.precision >= 0.6
    assert score.recall >= 0.65
    wrong_and_trusted = [d for d in score.details if not d.exact and not d.needs_review]
    assert not wrong_and_trusted


def test_engine_never_reads_truth(hard_run: Simulated, tmp_path: Path) -> None:
    """A decoy truth.json beside the events (one no parser accepts) changes nothing."""
    decoy = tmp_path / "rec"
    shutil.copytree(hard_run.folder, decoy)
    (decoy / "truth.json").write_text("this is not the truth {")
    with_decoy = replay(decoy).receipts_file().receipts
    assert [r.model_dump() for r in with_decoy] == [r.model_dump() for r in hard_run.receipts]


def exit_queue_scene(looks: bool) -> tuple[Scene, float, float]:
    """A (cola) and B (chips) walk to the exit one behind the other, 0.5 m apart; their ids
    swap 0.4 s before A crosses the line, too late for anyone to judge the meeting. Returns
    the scene and the two exit times."""
    scene = with_looks(new_scene()) if looks else new_scene()
    scene.entry(1.0, "acct-a")
    scene.person(
        "ta",
        [(2.0, 0.5, 0.3), (4.0, 1.0, STAND_Y), (7.0, 1.0, STAND_Y), (10.0, 3.5, 0.9),
         (11.0, 3.5, 0.2), (11.8, 3.5, -0.5)],
        [Reach(COLA, 4.8, 6.2)],
        both_hands=True,
    )  # fmt: skip
    scene.exit(11.0)
    scene.entry(2.5, "acct-b")
    scene.person(
        "tb",
        [(3.5, 0.5, 0.3), (5.5, 2.2, STAND_Y), (8.0, 2.2, STAND_Y), (10.5, 3.5, 1.4),
         (11.0, 3.5, 0.9), (12.0, 3.5, 0.2), (12.8, 3.5, -0.5)],
        [Reach(CHIPS2, 6.0, 7.4)],
        both_hands=True,
    )  # fmt: skip
    scene.exit(12.0)
    scene.pick(COLA, 5.5, 367.9)
    scene.pick(CHIPS2, 6.7, 160.4)
    scene.swap_ids("ta", "tb", 10.6)
    return scene, 11.0, 12.0


def test_ids_swapped_in_the_exit_queue_are_put_right_by_looks() -> None:
    """The one crossing the line is told by their look, so A's receipt is final at A's exit
    (not B's) and each receipt holds its own items, reviewed for the late correction."""
    scene, exit_a, exit_b = exit_queue_scene(looks=True)
    engine = Engine(scene.store, EngineConfig(reorder_window_s=0.5, exit_settle_s=0.0))
    final_at: dict[str, float] = {}
    receipts: dict[str, Receipt] = {}
    for msg in scene.build(16.0):
        for out in engine.feed(msg):
            if isinstance(out, FinalReceipt):
                final_at[out.receipt.account] = engine.now
                receipts[out.receipt.account] = out.receipt
    assert {a: r.items for a, r in receipts.items()} == {
        "acct-a": {"cola": 1},
        "acct-b": {"chips": 1},
    }
    assert exit_a <= final_at["acct-a"] < exit_b
    assert final_at["acct-b"] >= exit_b
