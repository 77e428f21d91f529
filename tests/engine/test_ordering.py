"""The reorder buffer: time order out of any delivery order, duplicates dropped, bounded."""

from __future__ import annotations

import random

from walkout.engine.ordering import ReorderBuffer
from walkout.recording.models import EntryMsg, TrackMsg, WeightMsg


def weights(n: int) -> list[WeightMsg]:
    return [WeightMsg(t=i / 30.0, shelf=f"S{i % 3}", g=[float(i)]) for i in range(n)]


def drain_all(buffer: ReorderBuffer, msgs: list) -> list:  # type: ignore[type-arg]
    out = []
    for m in msgs:
        buffer.push(m)
        if buffer.has_ready():
            out.extend(buffer.pop_ready())
    out.extend(buffer.drain())
    return out


def test_late_and_shuffled_messages_come_out_in_time_order() -> None:
    msgs = weights(600)
    rng = random.Random(1)
    delivered = sorted(msgs, key=lambda m: m.t + rng.uniform(0.0, 1.9))
    out = drain_all(ReorderBuffer(window_s=2.0), delivered)
    assert [m.t for m in out] == sorted(m.t for m in msgs)


def test_duplicates_are_dropped_and_counted() -> None:
    msgs = weights(100)
    delivered = []
    for i, m in enumerate(msgs):
        delivered.append(m)
        if i % 9 == 0:
            delivered.append(msgs[max(0, i - 20)])  # a repeat from up to 0.7 s before
    buffer = ReorderBuffer(window_s=2.0)
    out = drain_all(buffer, delivered)
    assert [m.t for m in out] == [m.t for m in msgs]
    assert buffer.stats.duplicates == len(delivered) - len(msgs)


def test_ties_are_ordered_by_kind_then_source_whatever_the_delivery() -> None:
    a = [
        TrackMsg(t=1.0, id="b", pos=(0.0, 0.0)),
        WeightMsg(t=1.0, shelf="S1", g=[1.0]),
        EntryMsg(t=1.0, gate="in", account="x"),
        TrackMsg(t=1.0, id="a", pos=(0.0, 0.0)),
    ]
    first = drain_all(ReorderBuffer(window_s=2.0), a)
    second = drain_all(ReorderBuffer(window_s=2.0), list(reversed(a)))
    assert first == second
    assert [type(m).__name__ for m in first] == ["EntryMsg", "TrackMsg", "TrackMsg", "WeightMsg"]


def test_a_message_later_than_the_window_is_refused_not_reordered() -> None:
    buffer = ReorderBuffer(window_s=2.0)
    out = drain_all(buffer, [*weights(300), WeightMsg(t=0.5, shelf="S9", g=[0.0])])
    assert buffer.stats.too_late == 1
    assert all(m.shelf != "S9" for m in out)


def test_memory_is_bounded_by_the_window_not_the_stream() -> None:
    buffer = ReorderBuffer(window_s=2.0)
    peak = 0
    for m in weights(30 * 60 * 5):  # five minutes at 30 Hz
        buffer.push(m)
        if buffer.has_ready():
            list(buffer.pop_ready())
        peak = max(peak, len(buffer), len(buffer._buckets))
    assert peak <= 2.2 * 30 + 5
