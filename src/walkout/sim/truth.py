"""truth.json of a simulated recording: the receipts, plus every true shelf action and person.

``receipts`` is the spec's shape. ``events`` and ``persons`` are optional extras for diagnosing
an engine (which event it missed, which track was whom); evaluation reads only ``receipts``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from walkout.recording.models import StoreLayout, Truth, TruthReceipt
from walkout.sim.cameras import IdSpan
from walkout.sim.script import Script


class TruthEvent(BaseModel):
    """One true shelf action."""

    t: float = Field(description="Middle of the load change, store clock.")
    kind: Literal["pick", "putback"]
    plate: str = Field(description="Plate the hand went into.")
    plates: list[str] = Field(description="Plates whose load changed (2 for a straddler).")
    delta_g: list[float] = Field(description="Load change per plate of `plates`, grams.")
    sku: str = Field(description="Real product of the units, the one to charge.")
    qty: int = Field(description="Units: positive for a pick, negative for a put-back.")
    account: str
    person: str
    unit_ids: list[int] = Field(description="Physical units moved; the same id = the same item.")
    unit_weights_g: list[float] = Field(description="Each unit's own full weight.")
    misplaced: bool = Field(description="The sku is not in the planogram of `plate`.")
    reach: tuple[float, float] = Field(description="Hand on the plate from, to.")


class TrackSpan(BaseModel):
    """A stretch of time during which a person carried one track id."""

    id: str
    t0: float
    t1: float


class TruthPerson(BaseModel):
    """One person who walked in, and the track ids the cameras gave them."""

    person: str
    account: str
    entry_gate: str
    exit_gate: str
    scan_t: float
    enter_t: float
    exit_t: float
    track_ids: list[str]
    tracks: list[TrackSpan]


class SimTruth(Truth):
    """Spec truth plus diagnosis extras."""

    events: list[TruthEvent] = Field(default_factory=list)
    persons: list[TruthPerson] = Field(default_factory=list)


def build_truth(store: StoreLayout, script: Script, track_history: list[list[IdSpan]]) -> SimTruth:
    """Receipts from the actions (picks minus put-backs per account), plus events and persons."""
    qty: dict[str, dict[str, int]] = {a: {} for a in script.accounts}
    names = [p.name for p in script.persons]
    events = []
    for a in script.actions:
        n = len(a.uids) if a.kind == "pick" else -len(a.uids)
        cart = qty[a.account]
        cart[a.sku] = cart.get(a.sku, 0) + n
        events.append(
            TruthEvent(
                t=round(a.t, 3),
                kind="pick" if a.kind == "pick" else "putback",
                plate=store.plates[a.plate].id,
                plates=[store.plates[p].id for p in a.plates],
                delta_g=[round(d, 1) for d in a.deltas_g],
                sku=a.sku,
                qty=n,
                account=a.account,
                person=names[a.person],
                unit_ids=list(a.uids),
                unit_weights_g=list(a.unit_weights_g),
                misplaced=a.misplaced,
                reach=(round(a.reach[0], 3), round(a.reach[1], 3)),
            )
        )
    receipts = [
        TruthReceipt(account=acct, items={s: n for s, n in sorted(items.items()) if n > 0})
        for acct, items in qty.items()
    ]
    persons = []
    for p, history in zip(script.persons, track_history, strict=True):
        spans = [TrackSpan(id=h.id, t0=h.t0, t1=h.t1) for h in history]
        ids = list(dict.fromkeys(s.id for s in spans))
        persons.append(
            TruthPerson(
                person=p.name,
                account=p.account,
                entry_gate=p.entry_gate,
                exit_gate=p.exit_gate,
                scan_t=round(p.scan_t, 3),
                enter_t=round(p.enter_t, 3),
                exit_t=round(p.cross_t, 3),
                track_ids=ids,
                tracks=spans,
            )
        )
    return SimTruth(receipts=receipts, events=events, persons=persons)
