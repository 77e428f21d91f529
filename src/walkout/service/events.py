"""Live events to listeners: shoppers' own carts and receipts, staff's everything.

The store's ingestor thread publishes; each listener (a WebSocket, an SSE stream, the MQTT
receipt pump) gets events on an asyncio queue in its own loop. Queues are bounded: a slow
listener loses events (counted), it never slows the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any


class Subscription:
    """One live listener: events arrive on ``queue`` in the listener's own event loop."""

    def __init__(
        self,
        hub: Hub,
        account: str | None,
        loop: asyncio.AbstractEventLoop,
        maxsize: int,
        kinds: frozenset[str] | None = None,
    ) -> None:
        self.hub = hub
        self.account = account
        self.kinds = kinds  # event types wanted; None: all
        self.loop = loop
        # events, then None once the store stops
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize)
        self.dropped = 0

    def _put(self, event: dict[str, Any] | None) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:  # a slow listener loses events, never slows the store
            self.dropped += 1

    def close(self) -> None:
        self.hub.remove(self)


class Hub:
    """Fan-out of events to subscribers, from any thread to each subscriber's loop.

    Shoppers' subscriptions see their own account's events only; staff subscriptions
    (account None) see everything, including staff-only events (reviews, alerts, people).
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(self, account: str | None, kinds: frozenset[str] | None = None) -> Subscription:
        sub = Subscription(self, account, asyncio.get_running_loop(), self.maxsize, kinds)
        with self._lock:
            self._subs.append(sub)
        return sub

    def remove(self, sub: Subscription) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._subs.remove(sub)

    def close_all(self) -> None:
        """Tell every listener the store is stopping (a ``None`` event), and forget them."""
        with self._lock:
            subs, self._subs = self._subs, []
        for sub in subs:
            with contextlib.suppress(RuntimeError):
                sub.loop.call_soon_threadsafe(sub._put, None)

    def has_staff(self) -> bool:
        """Is a staff screen listening to everything (then positions are worth sending)?"""
        return any(s.account is None and s.kinds is None for s in self._subs)

    def publish(self, event: dict[str, Any], staff_only: bool = False) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            if sub.kinds is not None and event.get("type") not in sub.kinds:
                continue
            if sub.account is None or (not staff_only and sub.account == event.get("account")):
                try:
                    sub.loop.call_soon_threadsafe(sub._put, event)
                except RuntimeError:  # its loop is closed: the listener is gone
                    self.remove(sub)
