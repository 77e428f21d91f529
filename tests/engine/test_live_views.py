"""What live screens and the exit gate rely on: the snapshot, and receipts final at once."""

from __future__ import annotations

import pytest
from tests.engine.scenes import Msg, Scene, small_store

from walkout.engine import Engine, FinalReceipt
from walkout.engine.cart import StoreAlert
from walkout.engine.config import EngineConfig
from walkout.recording.models import StoreLayout, TrackMsg, WeightMsg


def two_shelf_store() -> StoreLayout:
    """small_store plus a copy of its shelf, ``S2``, 6 m further east (out of reach)."""
    base = small_store()
    far = [
        p.model_copy(
            update={
                "id": p.id.replace("S1", "S2"),
                "shelf": "S2",
                "center": (p.center[0] + FAR_DX, *p.center[1:]),
            }
        )
        for p in base.plates
    ]
    return base.model_copy(update={"plates": [*base.plates, *far]})


FAR_DX = 6.0


def exit_while_someone_picks_far_away() -> list[Msg]:
    """acct-a takes a cola and exits at t=10; meanwhile a shopper 6 m away takes chips at
    t=8, a change still waiting to be decided when acct-a passes the gate."""
    near = exit_while_another_reaches()
    far = Scene(small_store(), seed=1)
    far.person("tc", [(6.0, 2.2, 2.4), (14.0, 2.2, 2.4)], reaches=[(3, 7.5, 8.8)])
    far.pick(3, 8.0, 161.0)
    moved: list[Msg] = []
    for msg in far.build(24.0):
        if isinstance(msg, WeightMsg):
            moved.append(msg.model_copy(update={"shelf": "S2"}))
        elif isinstance(msg, TrackMsg):
            hands = [(x + FAR_DX, y, z) for x, y, z in msg.hands or ()]
            moved.append(
                msg.model_copy(
                    update={"pos": (msg.pos[0] + FAR_DX, msg.pos[1]), "hands": hands or None}
                )
            )
    return sorted([*near.build(24.0), *moved], key=lambda m: m.t)


def cola_taker(scene: Scene) -> None:
    """acct-a walks in, takes a cola from plate 0 at t=5.5 and leaves at t=10."""
    scene.entry(1.0, "acct-a")
    scene.person(
        "ta",
        [(2.0, 0.5, 0.3), (4.0, 1.0, 2.4), (7.0, 1.0, 2.4), (10.0, 3.5, 0.2), (11.0, 3.5, -0.5)],
        reaches=[(0, 4.8, 6.2)],
    )
    scene.pick(0, 5.5, 370.0)
    scene.exit(10.0)


def exit_while_another_reaches() -> Scene:
    """acct-a takes a cola and leaves at t=10."""
    scene = Scene(small_store())
    cola_taker(scene)
    scene.entry(6.0, "acct-b")
    scene.person(
        "tb",
        [(7.0, 0.5, 0.3), (9.0, 2.2, 2.4), (17.0, 2.2, 2.4), (20.0, 3.5, 0.2), (21.0, 3.5, -0.5)],
        reaches=[(3, 10.4, 14.0)],
    )
    scene.pick(3, 13.0, 161.0)
    scene.exit(20.0)
    return scene


def test_receipt_is_not_held_by_a_pick_out_of_the_shoppers_reach() -> None:
    config = EngineConfig(reorder_window_s=0.5, exit_settle_s=0.0)
    engine = Engine(two_shelf_store(), config)
    final_at: dict[str, float] = {}
    far_pick_decided = None
    for msg in exit_while_someone_picks_far_away():
        for out in engine.feed(msg):
            if isinstance(out, FinalReceipt):
                final_at[out.receipt.account] = engine.now
            elif isinstance(out, StoreAlert) and out.event and out.event.shelf == "S2":
                far_pick_decided = engine.now
    # the far pick (nobody with an account near it) is decided well after acct-a's exit, and
    # acct-a's receipt does not wait for it: it is out within the reorder window and the
    # weight filter's delay (0.4 s at 30 Hz) of the exit at t=10
    assert far_pick_decided is not None and far_pick_decided > 10.9
    assert final_at["acct-a"] < 10.0 + config.reorder_window_s


def test_receipt_waits_for_a_reach_begun_before_the_shopper_left() -> None:
    engine = Engine(small_store(), EngineConfig(reorder_window_s=0.5, exit_settle_s=0.0))
    scene = Scene(small_store())
    t_exit = scene.shopper(
        "ta", "acct-a", 2.0, [(1.0, 3.0, 8.2)], reaches=[(0, 6.4, 8.0)], walk_out_s=1.0
    )
    scene.pick(0, 7.6, 369.0)  # the load steps 1.2 s before acct-a walks away
    receipts = {}
    for msg in scene.build(t_exit + 6.0):
        for out in engine.feed(msg):
            if isinstance(out, FinalReceipt):
                receipts[out.receipt.account] = (engine.now, out.receipt.items)
    t_final, items = receipts["acct-a"]
    assert items == {"cola": 1}
    assert t_final > t_exit


def test_snapshot_shows_people_carts_and_stock() -> None:
    engine = Engine(small_store())
    snapshots = {}
    for msg in exit_while_another_reaches().build(24.0):
        engine.feed(msg)
        for t in (3.0, 9.0, 17.0):
            if t not in snapshots and engine.now >= t:
                snapshots[t] = engine.snapshot()
    before, early, late = snapshots[3.0], snapshots[9.0], snapshots[17.0]
    assert {p.account for p in early.people} == {"acct-a", "acct-b"}
    assert early.carts["acct-a"] == {"cola": 1}
    assert [p.account for p in late.people] == ["acct-b"]
    assert "acct-a" not in late.carts
    # the cola plate lost one unit, the chips plate one, the beer plate none
    assert late.plates[0].counts["cola"] == pytest.approx(before.plates[0].counts["cola"] - 1)
    assert late.plates[3].counts["chips"] == pytest.approx(before.plates[3].counts["chips"] - 1)
    assert late.plates[1].counts == before.plates[1].counts
    assert before.plates[1].counts["beer"] > 0
    assert all(not p.loose for p in late.plates)


def test_a_shopper_nobody_sees_any_more_gets_a_receipt_for_review() -> None:
    """acct-a takes a cola, then their track ends in the store and no exit is ever matched to
    them: the receipt is not held until the store closes, it comes out for review."""
    engine = Engine(small_store(), EngineConfig(reorder_window_s=0.5, exit_settle_s=0.0))
    scene = Scene(small_store())
    scene.entry(1.0, "acct-a")
    scene.person(
        "ta", [(2.0, 0.5, 0.3), (4.0, 1.0, 2.4), (8.0, 1.0, 2.4), (9.0, 2.0, 1.5)],
        reaches=[(0, 4.8, 6.2)],
    )  # fmt: skip
    scene.pick(0, 5.5, 370.0)
    finals = []
    for msg in scene.build(60.0):
        finals += [(engine.now, o.receipt) for o in engine.feed(msg) if isinstance(o, FinalReceipt)]
    assert len(finals) == 1
    t_final, receipt = finals[0]
    assert receipt.account == "acct-a" and receipt.items == {"cola": 1}
    assert receipt.needs_review
    assert any("no exit was matched" in r for r in receipt.review_reasons)
    assert 9.0 + 30.0 < t_final < 60.0


def test_a_store_gone_quiet_still_gives_the_leavers_receipt() -> None:
    """The feed stops 0.2 s after acct-a's exit (sensors off at closing, a network cut): the
    receipt does not wait for a next reading. The service's clock says store time went on,
    and ``advance_to`` gives the receipt the whole recording would have given."""
    config = EngineConfig(reorder_window_s=0.5, exit_settle_s=0.5)
    scene = Scene(small_store())
    t_exit = scene.shopper("ta", "acct-a", 2.0, [(1.0, 3.0, 8.2)], reaches=[(0, 4.0, 5.4)])
    scene.pick(0, 4.6, 369.0)
    msgs = scene.build(t_exit + 10.0)
    whole = [o.receipt for o in replay_all(Engine(small_store(), config), msgs)]

    engine = Engine(small_store(), config)
    cut = [m for m in msgs if m.t <= t_exit + 0.2]
    assert not [o for m in cut for o in engine.feed(m) if isinstance(o, FinalReceipt)]
    assert not [o for o in engine.advance_to(t_exit + 0.5) if isinstance(o, FinalReceipt)]
    finals = [o.receipt for o in engine.advance_to(t_exit + 3.0) if isinstance(o, FinalReceipt)]
    assert [r.account for r in finals] == ["acct-a"]
    assert finals[0].items == {"cola": 1} == whole[0].items
    assert finals[0].total == whole[0].total
    # store time moved on: a line stamped before the new watermark is refused as too late
    engine.feed(msgs[-1].model_copy(update={"t": t_exit + 1.0}))
    assert engine.buffer.stats.too_late == 1


def replay_all(engine: Engine, msgs: list[Msg]) -> list[FinalReceipt]:
    finals = [o for m in msgs for o in engine.feed(m) if isinstance(o, FinalReceipt)]
    return finals + [o for o in engine.finish() if isinstance(o, FinalReceipt)]


def test_a_shelf_that_goes_silent_mid_reach_does_not_hold_the_receipt_for_ever() -> None:
    """The shelf's controller dies while acct-a lifts a cola (its readings stop at t=5.4); the
    cameras go on. The plate never reads calm again, so the receipt cannot wait for it: it is
    made a while after the exit and sent to review, saying which shelf was not read."""
    scene = Scene(small_store())
    cola_taker(scene)
    scene.entry(20.0, "acct-b")  # someone else walks about, so the camera clock goes on
    scene.person("tb", [(21.0, 0.5, 0.3), (120.0, 3.0, 0.5)])
    msgs = [m for m in scene.build(120.0) if not (isinstance(m, WeightMsg) and m.t > 5.4)]
    engine = Engine(small_store(), EngineConfig(reorder_window_s=0.5, exit_settle_s=0.0))
    finals = [(engine.now, o.receipt) for m in msgs for o in engine.feed(m)
              if isinstance(o, FinalReceipt)]  # fmt: skip
    assert [r.account for _, r in finals] == ["acct-a"]
    t_final, receipt = finals[0]
    assert 10.0 < t_final < 120.0
    assert receipt.needs_review
    assert any("S1" in reason and "not read" in reason for reason in receipt.review_reasons)


def test_a_meeting_holds_only_the_changes_of_plates_its_people_came_near() -> None:
    """acct-b and acct-c meet in front of shelf S2 (6 m east of S1) at t=6; until the tracker
    judges whether their ids swapped, a change on S2 must wait for the verdict, a change on
    S1 need not: nobody in the meeting came within reach of S1."""
    scene = Scene(small_store())  # its people only: the shelves are two_shelf_store's
    scene.entry(1.0, "acct-a")
    scene.person("ta", [(2.0, 0.5, 0.3), (4.0, 1.0, 2.4), (8.0, 1.0, 2.4)])
    scene.entry(1.0, "acct-b")
    scene.person("tb", [(2.0, 3.5, 0.3), (4.0, 7.0, 0.6), (6.0, 7.0, 1.5), (8.0, 7.0, 2.4)])
    scene.entry(1.5, "acct-c")
    scene.person("tc", [(2.5, 3.5, 0.3), (4.0, 7.6, 2.4), (6.0, 7.3, 1.6), (8.0, 7.6, 0.6)])
    engine = Engine(two_shelf_store(), EngineConfig(reorder_window_s=0.5))
    for msg in scene.build(8.0):
        if isinstance(msg, WeightMsg):
            continue
        engine.feed(msg)
        if engine.now >= 6.2:
            break
    people = engine.people
    opened = people.open_encounter_since()
    assert opened is not None and 5.0 < opened < 6.2
    assert people.open_encounter_near([4], 4.0, 6.2) == opened  # S2's first plate
    assert people.open_encounter_near([0, 1], 4.0, 6.2) is None  # S1's


def test_an_account_whose_scan_nobody_came_through_is_closed_for_review() -> None:
    """acct-a scans at t=1 but nobody walks through the gate (the cameras missed them, or
    they turned back); acct-b shops as usual. acct-a's cart can never be given anything, so
    its receipt comes out soon, for review, instead of staying open until the store closes."""
    scene = Scene(small_store())
    scene.entry(1.0, "acct-a")
    t_exit = scene.shopper("tb", "acct-b", 8.0, [(1.0, 10.0, 13.0)], reaches=[(0, 11.0, 12.4)])
    scene.pick(0, 11.8, 369.0)
    engine = Engine(small_store(), EngineConfig(reorder_window_s=0.5, exit_settle_s=0.0))
    finals = {}
    for msg in scene.build(t_exit + 3.0):
        for out in engine.feed(msg):
            if isinstance(out, FinalReceipt):
                finals[out.receipt.account] = (engine.now, out.receipt)
    t_final, receipt = finals["acct-a"]
    assert t_final < t_exit  # within a prune round (5 s) of the scan going stale
    assert receipt.items == {} and receipt.needs_review
    assert any("nobody came through" in r for r in receipt.review_reasons)
    assert finals["acct-b"][1].items == {"cola": 1} and not finals["acct-b"][1].needs_review
