"""A live feed's reorder window drops readings later than it and the weight grace, never a late
entry, exit or track frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.engine.scenes import Scene, small_store
from tests.engine.test_engine_basics import one_shopper_scene

from walkout.engine import Engine, FinalReceipt
from walkout.engine.config import live_config
from walkout.engine.ordering import ReorderBuffer
from walkout.recording.models import EntryMsg, ExitMsg, TrackMsg, WeightMsg


def delayed(msgs: list, late_s: float, which: Callable[[Any], bool]) -> list:  # type: ignore[type-arg]
    """The stream as delivered when the messages ``which`` picks arrive ``late_s`` late."""
    arrivals = [(m.t + (late_s if which(m) else 0.0), i, m) for i, m in enumerate(msgs)]
    return [m for _, _, m in sorted(arrivals, key=lambda a: (a[0], a[1]))]


def receipts_while_fed(
    msgs: list,  # type: ignore[type-arg]
    late_grace_s: float,
) -> tuple[Engine, dict[str, tuple[float, FinalReceipt]]]:
    """The live engine fed ``msgs``, and account -> (store time it became final, receipt) of
    the receipts made before the end."""
    engine = Engine(small_store(), live_config(late_grace_s=late_grace_s))
    out: dict[str, tuple[float, FinalReceipt]] = {}
    for m in msgs:
        for o in engine.feed(m):
            if isinstance(o, FinalReceipt):
                out[o.receipt.account] = (engine.now, o)
    return engine, out


def test_an_exit_later_than_the_window_still_closes_the_receipt_at_once() -> None:
    exits = delayed(one_shopper_scene().build(14.0), 1.0, lambda m: isinstance(m, ExitMsg))
    final = receipts_while_fed(exits, late_grace_s=2.0)[1]  # the window is 0.5 s
    t_final, receipt = final["acct-1"]
    assert receipt.receipt.items == {"cola": 1}
    assert not receipt.receipt.needs_review
    assert t_final - 10.0 < 1.0  # the exit was at t=10
    # held like a reading, the late exit is dropped: nothing closes the receipt by the end
    assert "acct-1" not in receipts_while_fed(exits, late_grace_s=0.0)[1]


def test_a_scan_taken_after_its_shopper_was_first_seen_still_claims_them() -> None:
    scene = Scene(small_store())
    scene.entry(1.9, "acct-1")
    scene.person(
        "t1",
        [(2.0, 0.5, 0.3), (4.0, 1.0, 2.4), (7.0, 1.0, 2.4), (10.0, 3.5, 0.2), (11.0, 3.5, -0.5)],
        reaches=[(0, 4.8, 6.2)],
    )
    scene.pick(0, 5.5, 370.0)
    scene.exit(10.0)
    # the scan comes in after t1's first frames
    msgs = delayed(scene.build(14.0), 1.2, lambda m: isinstance(m, EntryMsg))
    final = receipts_while_fed(msgs, late_grace_s=2.0)[1]
    assert final["acct-1"][1].receipt.items == {"cola": 1}


def test_a_late_gate_message_is_released_once_and_a_late_reading_is_refused() -> None:
    buffer = ReorderBuffer(window_s=0.15, late_grace_s=2.0)
    for i in range(60):
        buffer.push(WeightMsg(t=i / 30.0, shelf="S1", g=[1.0]))
    out = buffer.pop_ready()
    exit_msg = ExitMsg(t=0.5, gate="out-1")
    assert buffer.push(exit_msg)
    assert not buffer.push(exit_msg)  # the same exit again: a duplicate
    assert not buffer.push(WeightMsg(t=0.5, shelf="S2", g=[1.0]))  # a late reading
    out += buffer.drain()
    assert out.count(exit_msg) == 1
    assert buffer.stats.taken_late == 1
    assert buffer.stats.duplicates == 1
    assert buffer.stats.too_late == 1
    # a gate message later than the window and the grace together is refused
    assert not buffer.push(ExitMsg(t=-2.0, gate="out-1"))


def test_late_track_frames_go_into_the_history_where_hands_are_read() -> None:
    scene = Scene(small_store())
    scene.entry(1.0, "acct-a")
    scene.entry(1.5, "acct-b")
    scene.person(
        "ta",
        [(2.0, 0.5, 0.3), (4.0, 1.2, 2.4), (8.0, 1.2, 2.4), (11.0, 3.5, 0.2), (12.0, 3.5, -0.5)],
        reaches=[(1, 5.0, 6.5)],
    )
    scene.person(
        "tb",
        [(2.5, 0.5, 0.3), (4.5, 1.6, 2.4), (9.0, 1.6, 2.4), (12.0, 3.5, 0.2), (13.0, 3.5, -0.5)],
        hands_visible=False,  # so only ta's hand in the plate says who took
    )
    scene.pick(1, 5.8, 512.0)
    scene.exit(11.0)
    scene.exit(12.0)
    # ta's frames around the reach arrive 1 s late (the window is 0.5 s)
    msgs = delayed(
        scene.build(16.0),
        1.0,
        lambda m: isinstance(m, TrackMsg) and m.id == "ta" and 4.5 <= m.t <= 7.0,
    )
    engine, fed = receipts_while_fed(msgs, late_grace_s=2.0)
    final = {account: o.receipt for account, (_, o) in fed.items()}
    assert final["acct-a"].items == {"beer": 1}
    assert not final["acct-a"].needs_review
    assert final["acct-b"].items == {}
    assert engine.buffer.stats.taken_late > 0


def test_scans_taken_late_in_a_queue_send_the_queue_to_review() -> None:
    """Two shoppers through one gate 0.4 s apart, both scans 1.5 s late: who is who is then
    told by the order alone, which a late line may have upset, so it is not charged silently."""
    scene = Scene(small_store())
    scene.entry(1.0, "acct-a")
    scene.entry(1.4, "acct-b")
    scene.person(
        "ta",
        [(1.2, 0.5, 0.3), (3.0, 1.0, 2.4), (7.0, 1.0, 2.4), (10.0, 3.5, 0.2), (11.0, 3.5, -0.5)],
        reaches=[(0, 4.8, 6.2)],
    )
    scene.person(
        "tb",
        [(1.6, 0.5, 0.3), (3.4, 1.8, 2.4), (7.4, 1.8, 2.4), (10.4, 3.5, 0.2), (11.4, 3.5, -0.5)],
        reaches=[(2, 5.0, 6.4)],
    )
    scene.pick(0, 5.5, 370.0)
    scene.pick(2, 5.7, 161.0)
    scene.exit(10.0)
    scene.exit(10.4)
    msgs = delayed(scene.build(15.0), 1.5, lambda m: isinstance(m, EntryMsg))
    final = receipts_while_fed(msgs, late_grace_s=2.0)[1]
    a, b = final["acct-a"][1].receipt, final["acct-b"][1].receipt
    assert (a.items, b.items) == ({"cola": 1}, {"chips": 1})  # nearest in time: right here
    assert a.needs_review and b.needs_review


def test_readings_later_than_the_window_are_taken_within_the_weight_grace() -> None:
    """Gate messages wait only a short window while readings get the weight grace too: every
    third reading 0.3 s late (the window 0.15 s) while the shopper shops is still weighed."""
    msgs = one_shopper_scene().build(14.0)
    weights = [m for m in msgs if isinstance(m, WeightMsg) and m.t < 9.0]  # the exit is at 10
    late = {id(m) for m in weights[::3]}
    delivered = delayed(msgs, 0.3, lambda m: id(m) in late)

    def run(weight_grace_s: float) -> tuple[Engine, dict[str, FinalReceipt]]:
        engine = Engine(
            small_store(), live_config(reorder_window_s=0.15, weight_grace_s=weight_grace_s)
        )
        out = [o for m in delivered for o in engine.feed(m)] + engine.finish()
        return engine, {o.receipt.account: o for o in out if isinstance(o, FinalReceipt)}

    engine, final = run(0.35)
    assert final["acct-1"].receipt.items == {"cola": 1}
    assert not final["acct-1"].receipt.needs_review
    assert engine.buffer.stats.too_late == 0
    assert engine.buffer.stats.weights_taken_late > 0
    # without the grace the same readings are refused
    assert run(0.0)[0].buffer.stats.too_late > 0


def test_a_late_reading_within_the_weight_grace_is_released_and_one_beyond_refused() -> None:
    buffer = ReorderBuffer(window_s=0.15, weight_grace_s=0.35)
    for i in range(60):
        buffer.push(WeightMsg(t=i / 30.0, shelf="S1", g=[1.0]))
    out = buffer.pop_ready()
    late = WeightMsg(t=1.6, shelf="S2", g=[1.0])  # 0.37 s behind the newest
    assert buffer.push(late)
    assert not buffer.push(WeightMsg(t=1.0, shelf="S2", g=[1.0]))  # beyond the grace
    out += buffer.drain()
    assert out.count(late) == 1
    assert buffer.stats.weights_taken_late == 1
    assert buffer.stats.too_late == 1
