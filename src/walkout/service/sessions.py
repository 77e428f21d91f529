"""Sessions: each party's visit from entry to charge, with its reviews and ID checks.

Everything here is derived from the engine's outputs (rebuilt from the log after a restart),
except staff decisions, which are stored and loaded back; the charging itself goes through
:mod:`walkout.service.ledger`, whose idempotency keys make a rebuild harmless.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from walkout.engine.cart import Cart, CartChange, FinalReceipt
from walkout.engine.receipt import Receipt
from walkout.recording.models import StoreLayout
from walkout.service import db
from walkout.service.ledger import PaymentLedger, make_entry, settle

Publish = Callable[[dict[str, Any], bool], None]
"""Send an event to subscribers: (event, staff_only)."""

DOUBTS_KEPT = 10_000
"""Doubtful cart changes remembered for review screens (bounds memory in a long day)."""


class Conflict(ValueError):
    """A staff decision that contradicts one already taken (or names something unknown)."""


@dataclass(slots=True)
class IdCheck:
    """An age-restricted product entered a cart: staff check the shopper's ID."""

    id: str
    session_id: str
    account: str
    sku: str
    t: float
    status: str = "pending"  # pending | confirmed | removed | void (the unit went back)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "account": self.account,
            "sku": self.sku,
            "t": self.t,
            "status": self.status,
        }


@dataclass(slots=True)
class Session:
    """One visit of an account's party, from its first entry to its receipt and charge."""

    session_id: str
    account: str
    receipt: Receipt | None = None
    explanations: list[dict[str, Any]] = field(default_factory=list)
    status: str = "open"  # open | held_for_review | held_for_id_check | charged
    charged: Decimal = Decimal("0")
    t_open: float = float("-inf")  # store time of its first entry
    t_last: float = 0.0  # store time of its last cart change
    checks: dict[str, IdCheck] = field(default_factory=dict)  # sku -> check


def _explain(change: CartChange) -> dict[str, Any]:
    """A cart change with the explanations that competed for it (for the review screen)."""
    return {
        "change_id": change.change_id,
        "kind": change.kind,
        "items": change.items,
        "confidence": round(change.confidence, 4),
        "t": change.event.t_end,
        "t_start": change.event.t_start,
        "t_step": change.event.t_step,
        "shelf": change.event.shelf,
        "plates": list(change.event.plates),
        "delta_g": list(change.event.delta_g),
        "products": [
            {"description": p.description, "items": p.items, "posterior": p.posterior}
            for p in change.products
        ],
        "people": [
            {"account": p.account, "pid": p.pid, "posterior": p.posterior} for p in change.people
        ],
    }


class Sessions:
    """Receipts, reviews, ID checks and charges, derived from the engine's outputs.

    Staff decisions are stored first (they cannot be rebuilt) and then applied; the receipts
    they act on are rebuilt from the log. A session is charged at exit unless its receipt needs
    review or an ID check is open: then it is held and charged when staff have decided.
    """

    def __init__(
        self,
        layout: StoreLayout,
        ledger: PaymentLedger,
        database: Engine,
        publish: Publish,
        review_below: float,
    ) -> None:
        self.products = {p.sku: p for p in layout.products}
        self.ledger = ledger
        self.db = database
        self.publish = publish
        self.review_below = review_below
        self.open: dict[str, Session] = {}
        self.by_id: dict[str, Session] = {}
        self.by_account: dict[str, list[Session]] = {}
        self.checks: dict[str, IdCheck] = {}
        self.resolutions: dict[str, dict[str, int]] = {}
        self.decisions: dict[str, str] = {}
        # recent doubtful changes: change id -> (accounts it may belong to, explanation)
        self._doubtful: OrderedDict[int, tuple[set[str], dict[str, Any]]] = OrderedDict()

    def load_decisions(self) -> None:
        """Staff decisions taken before a restart, applied again as the log is replayed."""
        with self.db.connect() as conn:
            for r in conn.execute(select(db.resolutions)).mappings():
                self.resolutions[r["session_id"]] = json.loads(r["items"])
            for r in conn.execute(select(db.id_decisions)).mappings():
                self.decisions[r["check_id"]] = r["decision"]

    # -- engine outputs ----------------------------------------------------------------------

    def on_entry(self, account: str, seq: int, t: float) -> None:
        """The first entry since the account's last receipt opens its session."""
        if account not in self.open:
            self._open(account, seq).t_open = t

    def on_change(self, change: CartChange, cart: Cart | None, seq: int) -> None:
        sess = self.open.get(change.account) or self._open(change.account, seq)
        sess.t_last = change.event.t_end
        if change.confidence < self.review_below:
            self._remember_doubt(change)
        if change.kind == "pick":
            self._ensure_checks(sess, change.items, change.event.t_end)
        view = self.cart_view(change.account, cart)
        view["change"] = {
            "kind": change.kind,
            "items": change.items,
            "confidence": round(change.confidence, 4),
            "t": change.event.t_end,
        }
        self.publish(view, False)

    def on_receipt(self, final: FinalReceipt, seq: int) -> None:
        receipt = final.receipt
        sess = self.open.pop(receipt.account, None) or self._open(receipt.account, seq, keep=False)
        sess.receipt = receipt
        self._ensure_checks(sess, receipt.items, sess.t_last)
        for sku, check in sess.checks.items():
            if check.status == "pending" and sku not in self._items(sess):
                check.status = "void"
                self.publish({"type": "id_check", **check.view()}, False)
        if receipt.needs_review:
            sess.explanations = [
                explanation
                for accounts, explanation in self._doubtful.values()
                if receipt.account in accounts and explanation["t"] >= sess.t_open
            ] or [_explain(c) for c in final.changes]
        self._settle(sess)
        if receipt.needs_review:
            self.publish({"type": "review", **self.review_view(sess)}, True)

    # -- staff decisions (callers hold the store lock) ---------------------------------------

    def resolve(self, session_id: str, items: dict[str, int], staff: str) -> dict[str, Any]:
        sess = self.by_id.get(session_id)
        if sess is None or sess.receipt is None or not sess.receipt.needs_review:
            raise Conflict(f"no receipt to review under {session_id!r}")
        if session_id in self.resolutions:
            raise Conflict(f"review {session_id!r} is already resolved")
        unknown = sorted(set(items) - set(self.products))
        if unknown:
            raise Conflict(f"unknown sku {', '.join(unknown)}")
        items = {s: n for s, n in sorted(items.items()) if n > 0}
        self._store(
            db.resolutions,
            {
                "session_id": session_id,
                "items": json.dumps(items),
                "staff": staff,
                "at": time.time(),
            },
        )
        self.resolutions[session_id] = items
        self._ensure_checks(sess, items, sess.t_last)
        self._settle(sess)
        self.publish({"type": "review", **self.review_view(sess)}, True)
        return self.review_view(sess)

    def decide(self, check_id: str, decision: str, staff: str) -> dict[str, Any]:
        check = self.checks.get(check_id)
        if check is None:
            raise Conflict(f"no ID check {check_id!r}")
        if check.status != "pending":
            raise Conflict(f"ID check {check_id!r} is already {check.status}")
        self._store(
            db.id_decisions,
            {"check_id": check_id, "decision": decision, "staff": staff, "at": time.time()},
        )
        self.decisions[check_id] = decision
        check.status = decision
        self.publish({"type": "id_check", **check.view()}, False)
        sess = self.by_id[check.session_id]
        if sess.receipt is not None:
            self._settle(sess)
        return check.view()

    def refund(self, session_id: str, amount: Decimal, key: str) -> dict[str, Any]:
        """Money back on a charged session, once per ``key`` (a retry returns the same entry)."""
        sess = self.by_id.get(session_id)
        if sess is None or sess.status != "charged":
            raise Conflict(f"no charged session {session_id!r}")
        full_key = f"refund:{session_id}:{key}"
        done = self.ledger.entries(session_id=session_id)
        again = next((e for e in done if e.key == full_key), None)
        if again is None:
            paid = sum((e.amount for e in done), Decimal("0"))
            if amount > paid:
                raise Conflict(f"refund {amount} is more than the {paid} paid")
            again = make_entry(
                full_key, "refund", session_id, sess.account, -amount, self.ledger.currency
            )
            self.ledger.record(again)
        return {"key": again.key, "session_id": session_id, "amount": f"{again.amount:.2f}"}

    # -- views -------------------------------------------------------------------------------

    def cart_view(self, account: str, cart: Cart | None) -> dict[str, Any]:
        """The live cart of an account as its shopper sees it (removed ID items left out)."""
        items: dict[str, int] = {}
        if cart is not None:
            for unit, _ in cart.units.values():
                items[unit.sku] = items.get(unit.sku, 0) + 1
        sess = self.open.get(account)
        if sess is not None:
            for sku, check in sess.checks.items():
                if check.status == "removed":
                    items.pop(sku, None)
        return {
            "type": "cart",
            "account": account,
            "items": dict(sorted(items.items())),
            "total": f"{self._total(items):.2f}",
            "session_id": sess.session_id if sess else None,
            "needs_review": bool(cart and cart.review_reasons),
        }

    def receipt_view(self, sess: Session, staff: bool) -> dict[str, Any]:
        assert sess.receipt is not None
        r = sess.receipt
        items = self._items(sess)
        view: dict[str, Any] = {
            "account": sess.account,
            "session_id": sess.session_id,
            "items": items,
            "total": f"{self._total(items):.2f}",
            "confidence": round(r.confidence, 4),
            "needs_review": r.needs_review,
            "age_check_required": r.age_check_required,
            "status": sess.status,
            "charged": f"{sess.charged:.2f}",
        }
        if staff:  # reasons and the engine's own items may name other accounts
            view["review_reasons"] = list(r.review_reasons)
            view["engine_items"] = r.items
        return view

    def receipt_views(self, account: str | None) -> list[dict[str, Any]]:
        sessions = self.by_account.get(account, []) if account else list(self.by_id.values())
        return [self.receipt_view(s, account is None) for s in sessions if s.receipt is not None]

    def review_view(self, sess: Session) -> dict[str, Any]:
        assert sess.receipt is not None
        resolved = self.resolutions.get(sess.session_id)
        return {
            "id": sess.session_id,
            "account": sess.account,
            "session_id": sess.session_id,
            "reasons": list(sess.receipt.review_reasons),
            "items": sess.receipt.items,
            "explanations": sess.explanations,
            "status": "resolved" if resolved is not None else "open",
            "resolved_items": resolved,
            "receipt_status": sess.status,
        }

    def review_views(self) -> list[dict[str, Any]]:
        return [
            self.review_view(s)
            for s in self.by_id.values()
            if s.receipt is not None and s.receipt.needs_review
        ]

    # -- inside --------------------------------------------------------------------------------

    def _open(self, account: str, seq: int, keep: bool = True) -> Session:
        sess = Session(f"{account}:{seq}", account)
        if keep:
            self.open[account] = sess
        self.by_id[sess.session_id] = sess
        self.by_account.setdefault(account, []).append(sess)
        return sess

    def _remember_doubt(self, change: CartChange) -> None:
        """Keep a doubtful change for the reviews of everyone it may belong to: the account
        that got it and every other candidate (whose own receipt then needs review too)."""
        accounts = {change.account} | {p.account for p in change.people if p.account}
        self._doubtful[change.change_id] = (accounts, _explain(change))
        while len(self._doubtful) > DOUBTS_KEPT:
            self._doubtful.popitem(last=False)

    def _ensure_checks(self, sess: Session, items: dict[str, int], t: float) -> None:
        for sku in items:
            product = self.products.get(sku)
            if product is None or not product.age_restricted or sku in sess.checks:
                continue
            check_id = f"{sess.session_id}:{sku}"
            check = IdCheck(
                check_id,
                sess.session_id,
                sess.account,
                sku,
                t,
                self.decisions.get(check_id, "pending"),
            )
            sess.checks[sku] = check
            self.checks[check_id] = check
            self.publish({"type": "id_check", **check.view()}, False)

    def _items(self, sess: Session) -> dict[str, int]:
        """What the customer owes for: staff's fix if any, else the engine's, minus ID removals."""
        assert sess.receipt is not None
        items = dict(self.resolutions.get(sess.session_id, sess.receipt.items))
        for sku, check in sess.checks.items():
            if check.status == "removed":
                items.pop(sku, None)
        return items

    def _total(self, items: dict[str, int]) -> Decimal:
        return sum((self.products[s].price * n for s, n in items.items()), Decimal("0"))

    def _settle(self, sess: Session) -> None:
        assert sess.receipt is not None
        if sess.receipt.needs_review and sess.session_id not in self.resolutions:
            status = "held_for_review"
        elif any(c.status == "pending" for c in sess.checks.values()):
            status = "held_for_id_check"
        else:
            status = "charged"
            _, sess.charged = settle(
                self.ledger, sess.session_id, sess.account, self._total(self._items(sess))
            )
        sess.status = status
        self.publish(
            {
                "type": "receipt",
                "account": sess.account,
                "session_id": sess.session_id,
                "status": status,
                "receipt": self.receipt_view(sess, False),
            },
            False,
        )

    def _store(self, table: Table, row: dict[str, Any]) -> None:
        try:
            with self.db.begin() as conn:
                conn.execute(insert(table), [row])
        except IntegrityError as exc:
            raise Conflict("already decided") from exc
