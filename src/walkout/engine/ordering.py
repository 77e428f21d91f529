"""Puts messages back in time order and drops duplicates, so delivery order never matters.

The spec lets a line arrive after lines up to 2 s later, and arrive twice. Holding every message
for ``window_s`` behind the newest time seen, then releasing in ``(t, kind, key)`` order, gives the
engine the same sequence whether it reads a file at full speed or a live feed as it comes.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from walkout.recording.models import EntryMsg, ExitMsg, TrackMsg, WeightLine, WeightMsg

AnyMessage = WeightMsg | EntryMsg | TrackMsg | ExitMsg | WeightLine
"""A message as the engine takes it: a model, or a weight line as a plain dict (replay's
light form, see ``iter_messages``)."""

_KIND_RANK = {"entry": 0, "track": 1, "weight": 2, "exit": 3}


Key = tuple[float, int, str]
"""(time, kind rank, source): what makes a message the same message."""


def message_key(msg: AnyMessage) -> Key:
    """Identity of a message: two deliveries with the same key are the same message."""
    if isinstance(msg, dict):
        return (msg["t"], 2, msg["shelf"])
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
    taken_late: int = 0  # gate messages and track frames taken after their time was released
    weights_taken_late: int = 0  # readings taken after their time was released (weight grace)


_LATE_RANKS = (0, 1, 3)
"""Kind ranks of the messages a live feed may take late: entries, track frames, exits."""


BUCKET_S = 0.1
"""Width of the time buckets the buffer sorts in; messages wait at most this much longer."""


@dataclass(slots=True)
class ReorderBuffer:
    """A bounded jitter buffer: push in delivery order, pop in time order.

    Messages are kept in time buckets of ``BUCKET_S``; a bucket is sorted and released whole
    once all of it is older than the newest time seen minus ``window_s``. Feeds are nearly in
    order, so sorting a small bucket is cheaper than a heap over the whole window. A bucket
    maps each key to its message: one lookup both finds duplicates and keeps the message, and
    the keys (unique within a bucket) sort without a key function.
    """

    window_s: float
    late_grace_s: float = 0.0
    """An entry, exit or track frame later than the window by up to this much is still taken,
    out of time order, at the next release, instead of being dropped. A late exit would cost a
    whole receipt (its party would wait for the 30 s unseen rule) and late track frames the
    hands and looks that tell shoppers apart, while the engine can place these in the past (in
    the tracks' history); a late weight reading costs one sample. So a live feed can run a
    window as short as its devices' batching."""
    weight_grace_s: float = 0.0
    """A weight reading later than the window by up to this much is still released, out of
    time order (first, at the next release): the engine places it among the readings its
    shelf holds back (see ``ShelfDetector.add_late``) or, if the shelf has read past it, drops
    it there. Copies are not remembered here: the shelf knows the times it holds."""
    exit_window_s: float | None = None
    """While an exit is held, or the engine says a party that left waits for its receipt
    (``set_waiting``), the window shrinks to this: a receipt need not wait out the window meant
    for the rest of the store. What comes later than that is taken by the late paths (a
    reading is placed among its shelf's unread ones, or dropped). None, or as long as the
    window: the window never shrinks."""
    stats: OrderingStats = field(default_factory=OrderingStats)
    # Bucket numbers are whole floats (``t // BUCKET_S``), not ints: the same numbers and the
    # same arithmetic on them, without an int() for every message.
    _buckets: dict[float, dict[Key, AnyMessage]] = field(default_factory=dict)  # number -> bucket
    _order: list[float] = field(default_factory=list)  # heap of bucket numbers held
    _newest_t: float = float("-inf")
    _next_release_t: float = float("inf")  # end of the oldest bucket held
    _released_upto: float = float("-inf")  # buckets below this number are gone
    _released_t: float = float("-inf")
    _late: list[AnyMessage] = field(default_factory=list)  # taken late, not yet released
    _late_keys: set[Key] = field(default_factory=set)  # of messages that may come late, taken
    _late_key_order: deque[Key] = field(default_factory=deque)  # the same, as taken
    _lag: float = math.nan  # the window in force: ``window_s``, or ``_hurry_lag`` in a hurry
    _hurry_lag: float = math.nan  # the window in a hurry: ``exit_window_s``, at most ``window_s``
    _exit_through: float = float("-inf")  # the latest exit taken
    _waiting: bool = False  # a party that left waits for its receipt (the engine says)

    def __post_init__(self) -> None:
        self._lag = self.window_s
        exit_window = self.window_s if self.exit_window_s is None else self.exit_window_s
        self._hurry_lag = min(exit_window, self.window_s)

    @property
    def watermark(self) -> float:
        """Messages at or before this time are released (in a hurry for a receipt, sooner than
        the window: something earlier may then still come, and takes the late paths)."""
        return self._newest_t - self._lag

    @property
    def hurry_window_s(self) -> float:
        """The window while an exit is held or a leaver's receipt waits."""
        return self._hurry_lag

    @property
    def newest_t(self) -> float:
        """The latest time stamp taken: on a live feed, about the wall clock."""
        return self._newest_t

    @property
    def closed_before(self) -> float:
        """Lines stamped before this time are refused as too late (their bucket is gone)."""
        return self._released_upto * BUCKET_S

    @property
    def released_t(self) -> float:
        return self._released_t

    def push(self, msg: AnyMessage) -> bool:
        """Queue a message; False if it is a duplicate or arrived too late to be ordered."""
        refused = self.stats.duplicates + self.stats.too_late
        self.offer(msg)
        return self.stats.duplicates + self.stats.too_late == refused

    def offer(self, msg: AnyMessage) -> bool:
        """Queue a message (a duplicate or a late one is only counted in ``stats``); True when
        a bucket can be released. ``push`` and ``has_ready`` in one call, for every message."""
        if isinstance(msg, dict):  # a weight line, nearly every message of a replay
            t = msg["t"]
            key: Key = (t, 2, msg["shelf"])
        else:
            t = msg.t
            key = (t, 2, msg.shelf) if type(msg) is WeightMsg else message_key(msg)
        number = t // BUCKET_S
        if number < self._released_upto:
            if self.late_grace_s and key[1] in _LATE_RANKS:
                return self._take_late(msg, key)
            if key[1] == 2:
                return self._take_late_weight(msg, key)
            self.stats.too_late += 1
            return False
        bucket = self._buckets.get(number)
        if bucket is None:
            bucket = self._buckets[number] = {}
            heapq.heappush(self._order, number)
            self._next_release_t = (self._order[0] + 1) * BUCKET_S
        size = len(bucket)
        bucket.setdefault(key, msg)  # one hash of the key, not two (``in``, then store)
        if len(bucket) == size:  # the key was there: the same message, delivered again
            self.stats.duplicates += 1
            return False
        if self.late_grace_s and key[1] in _LATE_RANKS:
            self._remember(key)
        if key[1] == 3 and self.exit_window_s is not None:
            self._hurry_for_exit(t)
        newest = self._newest_t
        if t > newest:
            self._newest_t = newest = t
        return self._next_release_t <= newest - self._lag

    def release_many(self, msgs: Iterable[AnyMessage]) -> Iterator[list[AnyMessage]]:
        """``offer`` each message in turn and yield ``pop_ready()`` whenever a bucket can be
        released: the same releases, at the same points, as offering them one by one, without
        a method call per message (a replay's batches). The state the loop keeps in locals is
        written back before each release, so the buffer is consistent while its caller works."""
        buckets = self._buckets
        order = self._order
        stats = self.stats
        window = self._lag
        late_grace = self.late_grace_s
        hurry = self.exit_window_s is not None
        newest = self._newest_t
        released_upto = self._released_upto
        next_release = self._next_release_t
        heappush = heapq.heappush
        for msg in msgs:
            if isinstance(msg, dict):  # a weight line, nearly every message of a replay
                t = msg["t"]
                key: Key = (t, 2, msg["shelf"])
            else:
                t = msg.t
                key = (t, 2, msg.shelf) if type(msg) is WeightMsg else message_key(msg)
            number = t // BUCKET_S
            if number < released_upto:
                if late_grace and key[1] in _LATE_RANKS:
                    take_late = self._take_late
                elif key[1] == 2:
                    take_late = self._take_late_weight
                else:
                    stats.too_late += 1
                    continue
                self._newest_t = newest
                self._next_release_t = next_release
                if take_late(msg, key):
                    yield self.pop_ready()
                    released_upto = self._released_upto
                    next_release = self._next_release_t
                    newest = self._newest_t
                    window = self._lag
                continue
            bucket = buckets.get(number)
            if bucket is None:
                bucket = buckets[number] = {}
                heappush(order, number)
                next_release = (order[0] + 1) * BUCKET_S
            size = len(bucket)
            bucket.setdefault(key, msg)
            if len(bucket) == size:
                stats.duplicates += 1
                continue
            if late_grace and key[1] in _LATE_RANKS:
                self._newest_t = newest
                self._remember(key)
            if hurry and key[1] == 3:
                self._hurry_for_exit(t)
                window = self._lag
            if t > newest:
                newest = t
            if next_release <= newest - window:
                self._newest_t = newest
                self._next_release_t = next_release
                yield self.pop_ready()
                released_upto = self._released_upto
                next_release = self._next_release_t
                newest = self._newest_t
                window = self._lag
        self._newest_t = newest
        self._next_release_t = next_release

    def _hurry_for_exit(self, t: float) -> None:
        """An exit at ``t`` is held: release up to it without waiting out the window."""
        if t > self._exit_through:
            self._exit_through = t
        self._update_lag()

    def set_waiting(self, waiting: bool) -> None:
        """The engine says whether a party that left waits for its receipt: while one does
        (or an exit is still held), the window is ``exit_window_s``."""
        self._waiting = waiting
        self._update_lag()

    def _update_lag(self) -> None:
        held = self._exit_through >= self._released_upto * BUCKET_S
        self._lag = self._hurry_lag if self._waiting or held else self.window_s

    def _remember(self, key: Key) -> None:
        """Keep the key of a message that may come late while a copy of it could still come."""
        self._late_keys.add(key)
        order = self._late_key_order
        order.append(key)
        horizon = self._newest_t - self.window_s - self.late_grace_s - BUCKET_S
        while order[0][0] < horizon:  # taken nearly in time order: the oldest are in front
            self._late_keys.discard(order.popleft())

    def _take_late(self, msg: AnyMessage, key: Key) -> bool:
        """A gate message or track frame whose time was already released: taken (True)
        unless it is a copy of one taken before or later than the window and the grace."""
        if key in self._late_keys:
            self.stats.duplicates += 1
            return False
        if key[0] < self._newest_t - self.window_s - self.late_grace_s:
            self.stats.too_late += 1
            return False
        self._remember(key)
        self._late.append(msg)
        self.stats.taken_late += 1
        return True

    def _take_late_weight(self, msg: AnyMessage, key: Key) -> bool:
        """A weight reading whose time was already released: taken (True) if it is within
        the window and the weight grace (released early in a hurry for a receipt, or held
        back for the grace), else counted as too late. Its shelf places it, if it has not
        read past it. Without a grace or an exit window every one is too late."""
        may_take = self.weight_grace_s or self.exit_window_s is not None
        if not may_take or key[0] < self._newest_t - self.window_s - self.weight_grace_s:
            self.stats.too_late += 1
            return False
        self._late.append(msg)
        self.stats.weights_taken_late += 1
        return True

    def advance(self, t: float) -> list[AnyMessage]:
        """Store time has reached ``t`` though no message stamped ``t`` came: release what
        is due, and refuse from now on anything stamped before the watermark, even where no
        bucket was held (a quiet feed leaves gaps), so the engine's clock never goes back."""
        if t > self._newest_t:
            self._newest_t = t
        released = self.pop_ready()
        self._released_upto = max(self._released_upto, self.watermark // BUCKET_S)
        return released

    def has_ready(self) -> bool:
        """Is any held bucket old enough to be released (or a late message taken)?"""
        return self._next_release_t <= self._newest_t - self._lag or bool(self._late)

    def pop_ready(self, until: float | None = None) -> list[AnyMessage]:
        """Release, in time order, every bucket wholly at or before ``until`` (the watermark)."""
        limit = self.watermark if until is None else until
        order = self._order
        released: list[AnyMessage] = []
        if self._late:  # older than anything still held: they go first
            released, self._late = self._late, []
        while order and (order[0] + 1) * BUCKET_S <= limit:
            number = heapq.heappop(order)
            bucket = self._buckets.pop(number)
            self._released_upto = number + 1
            self._next_release_t = (order[0] + 1) * BUCKET_S if order else math.inf
            keys = sorted(bucket)
            self._released_t = keys[-1][0]
            released.extend(map(bucket.__getitem__, keys))
        if self._lag != self.window_s:
            self._update_lag()
        return released

    def drain(self) -> list[AnyMessage]:
        """Release everything still held (end of a recording)."""
        return self.pop_ready(math.inf)

    def __len__(self) -> int:
        """Messages held (counted when asked: the buckets are few, the messages many)."""
        return sum(map(len, self._buckets.values())) + len(self._late)
