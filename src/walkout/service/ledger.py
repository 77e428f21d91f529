"""Money: the ledger of charges, refunds and adjustments, and the policy of when to charge.

The ledger is the durable record of what a customer was asked to pay. Receipts are rebuilt from
the message log after a restart, and the charging policy runs again over them; because every
entry has a unique key and a session is only ever brought to the amount it owes (``settle``),
a rebuild, a duplicated exit message or a retried request never charges twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from walkout.service import db


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One money movement; ``amount`` is signed (a refund is negative)."""

    key: str
    kind: str  # charge | refund | adjustment
    session_id: str
    account: str
    amount: Decimal
    currency: str
    at: float


def make_entry(
    key: str, kind: str, session_id: str, account: str, amount: Decimal, currency: str
) -> LedgerEntry:
    return LedgerEntry(key, kind, session_id, account, amount, currency, time.time())


class PaymentLedger(Protocol):
    """Where money movements go; a payment provider's adapter implements the same two calls."""

    currency: str

    def record(self, entry: LedgerEntry) -> bool:
        """Store an entry; False (and nothing done) when its key was already used."""
        ...

    def entries(
        self, session_id: str | None = None, account: str | None = None
    ) -> list[LedgerEntry]: ...


class SqlLedger:
    """The ledger in the service's database; the unique key column makes every entry once-only."""

    def __init__(self, engine: Engine, currency: str) -> None:
        self.db = engine
        self.currency = currency

    def record(self, entry: LedgerEntry) -> bool:
        row = {
            "key": entry.key,
            "kind": entry.kind,
            "session_id": entry.session_id,
            "account": entry.account,
            "amount": f"{entry.amount:.2f}",
            "currency": entry.currency,
            "at": entry.at,
        }
        try:
            with self.db.begin() as conn:
                conn.execute(insert(db.ledger), [row])
        except IntegrityError:
            return False
        return True

    def entries(
        self, session_id: str | None = None, account: str | None = None
    ) -> list[LedgerEntry]:
        q = select(db.ledger).order_by(db.ledger.c.id)
        if session_id is not None:
            q = q.where(db.ledger.c.session_id == session_id)
        if account is not None:
            q = q.where(db.ledger.c.account == account)
        with self.db.connect() as conn:
            rows = conn.execute(q).mappings().all()
        return [
            LedgerEntry(
                r["key"],
                r["kind"],
                r["session_id"],
                r["account"],
                Decimal(r["amount"]),
                r["currency"],
                r["at"],
            )
            for r in rows
        ]

    def refund(self, key: str, session_id: str, account: str, amount: Decimal) -> bool:
        """Give money back (a return, a goodwill gesture); ``key`` makes a retry a no-op."""
        entry = make_entry(key, "refund", session_id, account, -abs(amount), self.currency)
        return self.record(entry)


CHARGING = ("charge", "adjustment")
"""Entry kinds the charging policy makes; refunds are staff's and the policy leaves them be."""


def _charged(ledger: PaymentLedger, session_id: str) -> list[LedgerEntry]:
    return [e for e in ledger.entries(session_id=session_id) if e.kind in CHARGING]


def settle(
    ledger: PaymentLedger, session_id: str, account: str, owed: Decimal
) -> tuple[LedgerEntry | None, Decimal]:
    """Bring a session's net charge to ``owed``: the charge at first, an adjustment after.

    Idempotent: called again with the same amount it does nothing, so it can run on every
    rebuild. Refunds are not counted (a rebuild must not charge a refund back). Returns the
    entry it made (if any) and the session's net charge after it.
    """
    done = _charged(ledger, session_id)
    net = sum((e.amount for e in done), Decimal("0"))
    if not done:
        key, kind, amount = f"charge:{session_id}", "charge", owed
    elif owed == net:
        return None, net
    else:
        key, kind, amount = f"adjustment:{session_id}:{len(done)}", "adjustment", owed - net
    entry = make_entry(key, kind, session_id, account, amount, ledger.currency)
    if not ledger.record(entry):  # another writer got there first: read what it did
        return None, sum((e.amount for e in _charged(ledger, session_id)), Decimal("0"))
    return entry, net + entry.amount


# --- the charging policy: sessions, their receipts, and why one is held ------------------------
