"""Puts messages back in time order and drops duplicates, so delivery order never matters.

The spec lets a line arrive after lines up to 2 s later, and arrive twice. Holding every message
for ``window_s`` behind the newest time seen, then releasing in ``(t, kind, key)`` order, gives the
engine the same sequence whether it reads a file at full speed or a live feed as it comes.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from walkout.recording.models import EntryMsg, ExitMsg, TrackMsg, WeightMsg

AnyMessage = WeightMsg | EntryMsg | TrackMsg | ExitMsg

_KIND_RANK = {"entry": 0, "track": 1, "weight": 2, "exit": 3}


def message_key(msg: AnyMessage) -> tuple[float, int, str]:
    """Identity of a message: two deliveries with the same key are the same message."""
    if isinstance(msg, WeightMsg):
        return (msg.t, 2, msg.shelf)
    if isinstance(msg, TrackMsg):
        return (msg.t, 1, msg.id)
    if isinstance(msg, EntryMsg):
        return (msg.t, 0, f"{msg.gate}\x00{msg.account}")
    return (msg.t, 3, msg.gate)


@dataclass(slots=True)
class OrderingStats:
    duplicates: int = 0
    too_late: int = 0


@dataclass
class ReorderBuffer:
    """A bounded jitter buffer: push in delivery order, pop in time order."""

    window_s: float
    stats: OrderingStats = field(default_factory=OrderingStats)
    _heap: list[tuple[tuple[float, int, str], AnyMessage]] = field(default_factory=list)
    _seen: set[tuple[float, int, str]] = field(default_factory=set)
    _seen_order: deque[tuple[float, int, str]] = field(default_factory=deque)
    _newest_t: float = float("-inf")
    _released_t: float = float("-inf")

    @property
    def watermark(self) -> float:
        """Messages at or before this time are final: nothing earlier may still arrive."""
        return self._newest_t - self.window_s

    @property
    def released_t(self) -> float:
        return self._released_t

    def push(self, msg: AnyMessage) -> bool:
        """Queue a message; False if it is a duplicate or arrived too late to be ordered."""
        key = message_key(msg)
        if key in self._seen:
            self.stats.duplicates += 1
            return False
        if msg.t < self._released_t:
            self.stats.too_late += 1
            return False
        self._seen.add(key)
        self._seen_order.append(key)
        heapq.heappush(self._heap, (key, msg))
        if msg.t > self._newest_t:
            self._newest_t = msg.t
        return True

    def pop_ready(self, until: float | None = None) -> Iterator[AnyMessage]:
        """Release, in time order, every message at or before ``until`` (default: the watermark)."""
        limit = self.watermark if until is None else until
        heap = self._heap
        while heap and heap[0][0][0] <= limit:
            key, msg = heapq.heappop(heap)
            self._released_t = key[0]
            yield msg
        self._forget(self._released_t)

    def drain(self) -> Iterator[AnyMessage]:
        """Release everything still held (end of a recording)."""
        return self.pop_ready(float("inf"))

    def _forget(self, before: float) -> None:
        """Drop duplicate-detection keys older than any message that can still arrive."""
        order = self._seen_order
        seen = self._seen
        while order and order[0][0] < before:
            seen.discard(order.popleft())
        # Keys are queued in delivery order, not time order; the loop stops at the first one
        # still needed, which bounds the set by the delivery jitter, not the recording length.
        # A repeat of a forgotten key is older than released_t and is refused as too late.

    def __len__(self) -> int:
        return len(self._heap)
