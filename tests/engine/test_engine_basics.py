"""The engine on hand-built scenes: picks, put-backs, who did it, and delivery order."""

from __future__ import annotations

import random

from tests.engine.scenes import Scene, small_store

from walkout.engine import Engine, FinalReceipt, Receipt


def run(msgs: list, store=None) -> dict[str, Receipt]:  # type: ignore[no-untyped-def]
    engine = Engine(store or small_store())
    outputs = []
    for m in msgs:
        outputs.extend(engine.feed(m))
    outputs.extend(engine.finish())
    return {o.receipt.account: o.receipt for o in outputs if isinstance(o, FinalReceipt)}


def one_shopper_scene(seed: int = 0) -> Scene:
    scene = Scene(small_store(), seed=seed)
    scene.entry(1.0, "acct-1")
    # walk from the entry to stand in front of plate 0 (x=1.0), reach, walk out
    scene.person(
        "t1",
        [(2.0, 0.5, 0.3), (4.0, 1.0, 2.4), (7.0, 1.0, 2.4), (10.0, 3.5, 0.2), (11.0, 3.5, -0.5)],
        reaches=[(0, 4.8, 6.2)],
    )
    scene.pick(0, 5.5, 370.0)
    scene.exit(10.0)
    return scene


def test_single_pick_is_charged() -> None:
    receipts = run(one_shopper_scene().build(14.0))
    assert receipts["acct-1"].items == {"cola": 1}
    assert str(receipts["acct-1"].total) == "1.29"
    assert not receipts["acct-1"].needs_review


def test_delivery_order_and_duplicates_do_not_matter() -> None:
    msgs = one_shopper_scene().build(14.0)
    rng = random.Random(3)
    shuffled = []
    for m in msgs:
        shuffled.append((m.t + rng.uniform(0, 0.5), m))
        if rng.random() < 0.05:
            shuffled.append((m.t + rng.uniform(0, 0.5), m))
    shuffled.sort(key=lambda x: x[0])
    a = run(msgs)
    b = run([m for _, m in shuffled])
    assert a == b


def test_putback_removes_item_and_age_check() -> None:
    scene = Scene(small_store())
    scene.entry(1.0, "acct-1")
    scene.person(
        "t1",
        [(2.0, 0.5, 0.3), (4.0, 1.4, 2.4), (14.0, 1.4, 2.4), (17.0, 3.5, 0.2), (18.0, 3.5, -0.5)],
        reaches=[(1, 4.8, 6.2), (1, 7.8, 9.2), (1, 10.8, 12.2)],
    )
    scene.pick(1, 5.5, 512.0)
    scene.pick(1, 8.5, 507.0)
    scene.put(1, 11.5, 507.0)
    scene.exit(17.0)
    receipts = run(scene.build(21.0))
    assert receipts["acct-1"].items == {"beer": 1}
    assert receipts["acct-1"].age_check_required


def test_two_shoppers_each_charged_for_their_own() -> None:
    scene = Scene(small_store())
    scene.entry(1.0, "acct-a")
    scene.entry(3.5, "acct-b")
    scene.person(
        "ta",
        [(2.0, 0.5, 0.3), (4.0, 1.0, 2.4), (8.0, 1.0, 2.4), (11.0, 3.5, 0.2), (12.0, 3.5, -0.5)],
        reaches=[(0, 5.0, 6.5)],
    )
    scene.person(
        "tb",
        [(4.5, 0.5, 0.3), (6.0, 2.2, 2.4), (10.0, 2.2, 2.4), (13.0, 3.5, 0.2), (14.0, 3.5, -0.5)],
        reaches=[(2, 7.0, 8.4)],
    )
    scene.pick(0, 5.8, 366.0)
    scene.pick(2, 7.7, 161.0)
    scene.exit(11.0)
    scene.exit(13.0)
    receipts = run(scene.build(17.0, ring_neighbours_g=100.0))
    assert receipts["acct-a"].items == {"cola": 1}
    assert receipts["acct-b"].items == {"chips": 1}
