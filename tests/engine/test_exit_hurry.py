"""With an exit window, a receipt does not wait out the reorder window meant for the rest of the
store: the window shrinks while an exit is held or a leaver's receipt waits, then grows back."""

from __future__ import annotations

from tests.engine.scenes import small_store
from tests.engine.test_engine_basics import one_shopper_scene
from tests.engine.test_late_gates import delayed

from walkout.engine import Engine, FinalReceipt
from walkout.engine.config import live_config
from walkout.engine.ordering import ReorderBuffer
from walkout.recording.models import ExitMsg, TrackMsg, WeightMsg


def readings(buffer: ReorderBuffer, t0: float, t1: float) -> list:  # type: ignore[type-arg]
    """Push one shelf's readings at 30 Hz from ``t0`` to ``t1``; return what was released."""
    out = []
    for i in range(round(t0 * 30), round(t1 * 30)):
        buffer.push(WeightMsg(t=i / 30.0, shelf="S1", g=[1.0]))
        out += buffer.pop_ready()
    return out


def test_an_exit_is_released_after_the_exit_window_then_the_full_window_is_back() -> None:
    buffer = ReorderBuffer(window_s=0.5, late_grace_s=2.0, exit_window_s=0.15)
    readings(buffer, 0.0, 2.0)
    exit_msg = ExitMsg(t=2.0, gate="out-1")
    assert buffer.push(exit_msg)
    out = readings(buffer, 2.0, 2.3)  # its bucket ends at 2.1: out once 2.25 is in
    assert exit_msg in out
    assert buffer.released_t >= 2.0
    # nobody waits: the window is 0.5 s again, so nothing after 2.1 comes out before 2.6
    held_from = buffer.closed_before
    out = readings(buffer, 2.3, 2.55)
    assert all(m.t < held_from for m in out)
    assert buffer.closed_before == held_from


def test_without_an_exit_window_an_exit_waits_the_whole_window() -> None:
    buffer = ReorderBuffer(window_s=0.5, late_grace_s=2.0)
    readings(buffer, 0.0, 2.0)
    exit_msg = ExitMsg(t=2.0, gate="out-1")
    buffer.push(exit_msg)
    assert exit_msg not in readings(buffer, 2.0, 2.5)


def test_the_window_stays_short_while_the_engine_says_a_leaver_waits() -> None:
    buffer = ReorderBuffer(window_s=0.5, exit_window_s=0.15)
    readings(buffer, 0.0, 2.0)
    buffer.set_waiting(True)
    readings(buffer, 2.0, 3.0)
    assert buffer.closed_before >= 2.8  # 3.0 less the short window, to the bucket
    buffer.set_waiting(False)
    readings(buffer, 3.0, 3.3)
    assert buffer.closed_before < 2.9  # back to 0.5 s behind: nothing more came out


def test_a_reading_released_early_that_comes_late_within_the_window_is_taken() -> None:
    buffer = ReorderBuffer(window_s=0.5, exit_window_s=0.15)
    readings(buffer, 0.0, 2.0)
    buffer.set_waiting(True)
    readings(buffer, 2.0, 3.0)
    late = WeightMsg(t=2.6, shelf="S2", g=[1.0])  # 0.4 s behind the newest: in the window
    assert buffer.push(late)
    assert late in buffer.pop_ready()
    assert not buffer.push(WeightMsg(t=2.3, shelf="S2", g=[1.0]))  # beyond the window
    assert buffer.stats.weights_taken_late == 1
    assert buffer.stats.too_late == 1


def test_the_receipt_comes_sooner_and_the_same() -> None:
    """Fed as a live feed brings it (every fifth track frame and reading 0.3 s late), the
    receipt is final about 0.15 s after the exit instead of 0.5 s, with the same items."""
    msgs = one_shopper_scene().build(14.0)
    late = {id(m) for m in msgs[::5] if isinstance(m, TrackMsg | WeightMsg)}
    delivered = delayed(msgs, 0.3, lambda m: id(m) in late)

    def run(exit_window_s: float | None) -> tuple[float, FinalReceipt]:
        engine = Engine(small_store(), live_config(exit_window_s=exit_window_s))
        for m in delivered:
            for out in engine.feed(m):
                if isinstance(out, FinalReceipt):
                    return engine.buffer.newest_t, out
        raise AssertionError("no receipt before the end of the feed")

    t_hurried, hurried = run(0.15)
    t_waited, waited = run(None)
    assert hurried.receipt.items == waited.receipt.items == {"cola": 1}
    assert hurried.receipt.needs_review == waited.receipt.needs_review is False
    assert t_hurried - 10.0 < 0.35  # the exit is at t=10
    assert t_waited - 10.0 >= 0.5
