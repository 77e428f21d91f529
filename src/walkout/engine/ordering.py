"""Puts messages back in time order and drops duplicates, so delivery order never matters.

The spec lets a line arrive after lines up to 2 s later, and arrive twice. Holding every message
for ``window_s`` behind the newest time seen, then releasing in ``(t, kind, key)`` order, gives the
engine the same sequence whether it reads a file at full speed or a live feed as it comes.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from walkout.recording.models import EntryMsg, ExitMsg, TrackMsg, WeightMsg

AnyMessage = WeightMsg | EntryMsg | TrackMsg | ExitMsg

_KIND_RANK = {"entry": 0, "track": 1, "weight": 2, "exit": 3}


def message_key(msg: AnyMessage) -> tuple[float, int, str]:
    """Identity of a message: two deliveries with the same key are the same message."""
    if type(msg) is WeightMsg:
        return (msg.t, 2, msg.shelf)
    if isinstance(msg, TrackMsg):
        return (msg.t, 1, msg.id)
    if isinstance(msg, EntryMsg):
        return (msg.t, 0, f"{msg.gate}\x00{msg.account}")
    assert isinstance(msg, ExitMsg)
    return (msg.t, 3, msg.gate)


@dataclass(slots=True)
class OrderingStats:
    duplicates: int = 0
    too_late: int = 0


BUCKET_S = 0.1
"""Width of the time buckets the buffer sorts in; messages wait at most this much longer."""


@dataclass
class ReorderBuffer:
    """A bounded jitter buffer: push in delivery order, pop in time order.

    Messages are kept in time buckets of ``BUCKET_S``; a bucket is sorted and released whole
    once all of it is older than the newest time seen minus ``window_s``. Feeds are nearly in
    order, so sorting a small bucket is cheaper than a heap over the whole window.
    """

    window_s: float
    stats: OrderingStats = field(default_factory=OrderingStats)
    _buckets: dict[int, list[tuple[tuple[float, int, str], AnyMessage]]] = field(
        default_factory=dict
    )
    _keys: dict[int, set[tuple[float, int, str]]] = field(default_factory=dict)
    _order: list[int] = field(default_factory=list)  # heap of bucket numbers held
    _newest_t: float = float("-inf")
    _released_upto: int = -(1 << 62)  # buckets below this number are gone
    _released_t: float = float("-inf")
    _held: int = 0

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
        number = int(msg.t // BUCKET_S)
        if number < self._released_upto:
            self.stats.too_late += 1
            return False
        keys = self._keys.get(number)
        if keys is None:
            keys = self._keys[number] = set()
            self._buckets[number] = []
            heapq.heappush(self._order, number)
        elif key in keys:
            self.stats.duplicates += 1
            return False
        keys.add(key)
        self._buckets[number].append((key, msg))
        self._held += 1
        if msg.t > self._newest_t:
            self._newest_t = msg.t
        return True

    def has_ready(self) -> bool:
        """Is any held bucket old enough to be released?"""
        order = self._order
        return bool(order) and (order[0] + 1) * BUCKET_S <= self._newest_t - self.window_s

    def pop_ready(self, until: float | None = None) -> Iterator[AnyMessage]:
        """Release, in time order, every bucket wholly at or before ``until`` (the watermark)."""
        limit = self.watermark if until is None else until
        order = self._order
        while order and (order[0] + 1) * BUCKET_S <= limit:
            number = heapq.heappop(order)
            bucket = self._buckets.pop(number)
            del self._keys[number]
            self._released_upto = number + 1
            bucket.sort(key=_first)
            self._held -= len(bucket)
            for key, msg in bucket:
                self._released_t = key[0]
                yield msg

    def drain(self) -> Iterator[AnyMessage]:
        """Release everything still held (end of a recording)."""
        return self.pop_ready(math.inf)

    def __len__(self) -> int:
        return self._held


def _first(item: tuple[tuple[float, int, str], AnyMessage]) -> tuple[float, int, str]:
    return item[0]
