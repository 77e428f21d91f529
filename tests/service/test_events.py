"""The event hub: who hears what."""

from __future__ import annotations

import asyncio

from walkout.service.events import Hub


def test_listeners_hear_their_own_events_and_a_filtered_one_is_no_staff_screen() -> None:
    async def run() -> None:
        hub = Hub(maxsize=10)
        receipts_only = hub.subscribe(None, frozenset({"receipt"}))
        assert not hub.has_staff(), "a receipts pump must not switch on position updates"
        staff = hub.subscribe(None)
        shopper = hub.subscribe("acct-a")
        assert hub.has_staff()
        hub.publish({"type": "people", "account": None}, staff_only=True)
        hub.publish({"type": "cart", "account": "acct-b"})
        hub.publish({"type": "receipt", "account": "acct-a"})
        got = {
            name: [(await asyncio.wait_for(sub.queue.get(), 5))["type"] for _ in range(n)]
            for name, sub, n in (("receipts", receipts_only, 1), ("staff", staff, 3),
                                 ("shopper", shopper, 1))
        }  # fmt: skip
        assert got == {
            "receipts": ["receipt"],
            "staff": ["people", "cart", "receipt"],
            "shopper": ["receipt"],
        }
        assert receipts_only.queue.empty() and shopper.queue.empty()
        staff.close()
        assert not hub.has_staff()

    asyncio.run(run())
