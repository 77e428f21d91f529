"""The naive engine: what anyone would write first, kept as the baseline the real engine must beat.

Nearest shopper, nearest product. Each plate's raw reading is compared with its last stable value;
a change that holds still for a moment is rounded to whole units of the planogram product whose
weight is closest, and charged to (or, for a put-back, refunded from) the account whose body was
nearest the plate. It takes messages in delivery order as they come, with no reordering, dedupe,
filtering, track repair, or doubt: every receipt has confidence 1.0 and none goes to review.

It has the same interface as the real engine (``feed`` then ``finish``) so that benches can run
both on the same recordings and report how much each of the real engine's ideas buys.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass
from decimal import Decimal

from walkout.engine.receipt import Receipt
from walkout.recording.models import (
    EntryMsg,
    ExitMsg,
    Plate,
    Product,
    StoreLayout,
    TrackMsg,
    WeightMsg,
)


@dataclass(slots=True)
class _PlateState:
    """One plate's change detector: the last stable load and the reading a change may settle at."""

    stable: float | None = None
    settling_since: float | None = None
    settling_g: float = 0.0


class NaiveEngine:
    """Nearest-shopper, nearest-product engine; a baseline, not a contender.

    Args:
        store: The store layout (plates, planogram, products).
        min_step_g: A reading this far from the last stable value starts a change. Lower catches
            lighter products but turns drift and hand pressure into phantom picks.
        settle_s: How long a changed reading must hold still before it counts. Longer waits out
            more hand pressure but merges quick successive picks into one.
        settle_tol_g: How far readings may wander while settling. Tighter rejects more hand
            pressure but noisy cells may never settle.
    """

    def __init__(
        self,
        store: StoreLayout,
        *,
        min_step_g: float = 10.0,
        settle_s: float = 0.3,
        settle_tol_g: float = 5.0,
    ) -> None:
        self._shelves: dict[str, list[Plate]] = store.shelves()
        self._products: dict[str, Product] = {p.sku: p for p in store.products}
        self._min_step_g = min_step_g
        self._settle_s = settle_s
        self._settle_tol_g = settle_tol_g
        self._plates: dict[str, _PlateState] = {p.id: _PlateState() for p in store.plates}
        self._carts: dict[str, Counter[str]] = {}  # account -> cart, in order of first entry
        self._waiting: deque[str] = deque()  # accounts scanned in, not yet bound to a track
        self._seen_tracks: set[str] = set()
        self._track_account: dict[str, str] = {}
        self._track_pos: dict[str, tuple[float, float]] = {}

    def feed(self, msg: WeightMsg | EntryMsg | TrackMsg | ExitMsg) -> None:
        """Take one message, in the order given."""
        if isinstance(msg, WeightMsg):
            for plate, g in zip(self._shelves.get(msg.shelf, []), msg.g, strict=False):
                if g is not None:
                    self._reading(plate, msg.t, g)
        elif isinstance(msg, EntryMsg):
            self._carts.setdefault(msg.account, Counter())
            self._waiting.append(msg.account)
        elif isinstance(msg, TrackMsg):
            if msg.id not in self._seen_tracks:
                self._seen_tracks.add(msg.id)
                if self._waiting:  # the first new track after a scan is that shopper
                    self._track_account[msg.id] = self._waiting.popleft()
            if msg.id in self._track_account:
                self._track_pos[msg.id] = msg.pos
        # ExitMsg: ignored. A departed shopper's last position is at the door, far from shelves.

    def finish(self) -> list[Receipt]:
        """One receipt per account that entered, in order of first entry."""
        receipts = []
        for account, cart in self._carts.items():
            items = {sku: qty for sku, qty in sorted(cart.items()) if qty > 0}
            products = [self._products[sku] for sku in items]
            receipts.append(
                Receipt(
                    account=account,
                    items=items,
                    total=sum((p.price * items[p.sku] for p in products), Decimal(0)),
                    confidence=1.0,
                    needs_review=False,
                    age_check_required=any(p.age_restricted for p in products),
                )
            )
        return receipts

    def _reading(self, plate: Plate, t: float, g: float) -> None:
        """Detect a settled change on one plate, raw reading by raw reading."""
        state = self._plates[plate.id]
        if state.stable is None:
            state.stable = g
            return
        if abs(g - state.stable) <= self._min_step_g:
            state.settling_since = None  # back to where it was: a touch, not a pick
            return
        if state.settling_since is None or abs(g - state.settling_g) > self._settle_tol_g:
            state.settling_since, state.settling_g = t, g
            return
        if t - state.settling_since >= self._settle_s:
            delta = g - state.stable
            state.stable, state.settling_since = g, None
            self._change(plate, delta)

    def _change(self, plate: Plate, delta: float) -> None:
        """Round a settled change to units of the closest-weight product; charge the nearest."""
        if not plate.skus:
            return
        sku = min(plate.skus, key=lambda s: abs(self._products[s].weight_g - abs(delta)))
        qty = max(1, round(abs(delta) / self._products[sku].weight_g))
        account = self._nearest_account(plate)
        if account is None:
            return
        cart = self._carts[account]
        if delta < 0:
            cart[sku] += qty
        else:
            cart[sku] = max(0, cart[sku] - qty)

    def _nearest_account(self, plate: Plate) -> str | None:
        """The account whose body (not hands) was last seen nearest the plate's centre."""
        cx, cy = plate.center[0], plate.center[1]
        best, best_d = None, math.inf
        for track, (x, y) in self._track_pos.items():
            d = math.hypot(x - cx, y - cy)
            if d < best_d:
                best, best_d = self._track_account[track], d
        return best
