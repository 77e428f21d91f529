"""How much of the review a recording could decide: each receipt classed by what the cameras saw.

    python bench/contested.py RECORDING [RECORDING...]
    python bench/contested.py --preset hard --seeds 1-20
    python bench/contested.py --preset hard --seeds 1-20 --list clear     # those receipts

Every true shelf event of ``truth.json`` (``events``) is classed from the observable track
messages alone (``events.jsonl`` ``track`` lines: id, pos, hands), with truth's map of track
ids to persons (``persons``) saying whose each frame was. Only people of *other* accounts
compete with the actor (one party shares one cart). The thresholds are the engine's geometry
(``engine/tracking.py`` ``proximity``, ``engine/config.py``, ``engine/store.py``):

- A hand is *in the plate* when it lies within ``IN_PLATE_M`` = 0.15 m of the volume above the
  event's plates: 2.5 ``hand_sd_m``, the engine's ``away_m``; beyond it a hand counts as away
  and its likelihood is under 5 %. A hand nearer another plate of the shelf reaches there, as
  the engine reads it.
- A *rival* is a person of another account who, within ``RIVAL_S`` = 1 s of the true step,
  either had a hand in the plate, or stood within ``ALONE_M`` = 1.2 m of where one stands to
  reach the plates (``stand_point``) and was not cleared by the engine's rule: fewer than
  ``hands_away_frames`` (3) frames with both hands seen away from the plates while the weight
  moved (``reach_before_s`` 0.6 s before the step to ``reach_after_s`` 0.4 s after). At
  1.2 m a person with unseen hands weighs ``occluded_hands_factor`` x exp(-(1.2 / 0.35)^2 / 2)
  = 0.0014 (``body_sd_m`` 0.35), under 0.3 % of the claim of an actor whose own hand is hidden
  and who stands where one reaches (0.5): no rival for a 0.9 review line.

Event classes, from best to worst:

- ``clear``: the actor's hand was seen in the plate during the reach (truth's ``reach``), and
  no rival.
- ``hidden, alone``: the actor's hand was never seen in the plate during the reach, no rival.
- ``contested, near``: a rival stood within reach with hands the engine cannot clear, but no
  other account's hand was seen in the plate.
- ``contested, hand by``: another account's hand was seen in the plate within 1 s of the step,
  but its stay there did not span the step: told apart by timing, in principle (the engine's
  ``_reach_timing``).
- ``contested, alike at step``: as below, but each such hand made an alike action of its own
  (the same product and count, on the same plates, within ``TWIN_S`` = 1.5 s): whoever made
  which step, the receipts are the same, so the recording decides them (the engine's
  ``run_confidence``).
- ``contested, hand at step``: another account's hand was seen in the plate both in the
  ``STAY_S`` = 0.5 s before the true step and in the 0.5 s after it (a stay spanning the step).
  Hands cannot say whose the step was.

A receipt takes the worst class of its account's events, and of the contested events in which
one of its people was the rival (the decision there moves its receipt too; column ``as rival``
counts those whose own events are better); ``no events`` when it has neither. Per class the
table gives receipts, how many the engine got exact, how many it sent to review, right but
reviewed, and wrong and not reviewed. The contested classes bound what review could save:
there, the recording often does not hold who did it; in ``clear`` and ``hidden, alone`` it
does, and every review there is the engine being unsure about a case the sensors decide.
Column ``ids changed`` counts receipts of which a person was seen under more than one track id
(lost, swapped): identity, not hands, may be the doubt there.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import recording
from walkout.engine.config import EngineConfig
from walkout.engine.store import StoreIndex
from walkout.eval.score import score_receipts
from walkout.recording.files import read_store, read_truth
from walkout.replay import replay

CFG = EngineConfig()
IN_PLATE_M = 2.5 * CFG.hand_sd_m
RIVAL_S = 1.0
ALONE_M = 1.2
STAY_S = 0.5
TWIN_S = 1.5

CLASSES = (
    "no events",
    "clear",
    "hidden, alone",
    "contested, near",
    "contested, hand by",
    "contested, alike at step",
    "contested, hand at step",
)
RANK = {name: i for i, name in enumerate(CLASSES)}

FloatArray = NDArray[np.float64]


@dataclass
class Frames:
    """One person's track frames in time order (from every id that was theirs)."""

    t: list[float] = field(default_factory=list)
    pos: list[tuple[float, float]] = field(default_factory=list)
    hands: list[list[tuple[float, float, float]]] = field(default_factory=list)

    def span(self, lo: float, hi: float) -> range:
        ts = np.asarray(self.t)
        return range(int(np.searchsorted(ts, lo)), int(np.searchsorted(ts, hi, side="right")))


@dataclass(frozen=True)
class ReceiptClass:
    """One account's class and how the engine did on it."""

    recording: str
    account: str
    cls: str
    exact: bool
    reviewed: bool
    ids_changed: bool
    events: int
    as_rival: bool  # its class comes from another account's event, its own are better


def _track_lines(folder: Path) -> Iterator[dict[str, object]]:
    plain = folder / "events.jsonl"
    path = plain if plain.is_file() else folder / "events.jsonl.gz"
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        for line in fh:
            if '"track"' in line:
                msg = json.loads(line)
                if msg.get("type") == "track":
                    yield msg


def person_frames(folder: Path, persons: list[dict]) -> dict[str, Frames]:
    """Every track frame, given to the person truth says held that id at that moment."""
    spans: dict[str, list[tuple[float, float, str]]] = {}
    for p in persons:
        for tr in p["tracks"]:
            spans.setdefault(tr["id"], []).append((tr["t0"], tr["t1"], p["person"]))
    rows: dict[str, list[tuple[float, tuple[float, float], list]]] = {}
    for msg in _track_lines(folder):
        t = float(msg["t"])  # type: ignore[arg-type]
        owner = None
        for t0, t1, who in spans.get(str(msg["id"]), []):
            if t0 - 0.05 <= t <= t1 + 0.05:
                owner = who
                break
        if owner is None:
            continue
        pos = msg["pos"]
        hands = [tuple(h) for h in msg.get("hands") or []]  # type: ignore[union-attr]
        rows.setdefault(owner, []).append((t, (pos[0], pos[1]), hands))  # type: ignore[index]
    out: dict[str, Frames] = {}
    for who, items in rows.items():
        items.sort(key=lambda r: r[0])
        f = Frames()
        last = -1.0
        for t, pos, hands in items:
            if t == last:
                continue  # a duplicated line
            last = t
            f.t.append(t)
            f.pos.append(pos)
            f.hands.append(hands)
        out[who] = f
    return out


def _hand_d(store: StoreIndex, plates: list[int], others: list[int], hands: list) -> FloatArray:
    """Each hand's distance to the plates; a hand nearer another plate of the shelf is away
    (it reaches there), as the engine reads it."""
    if not hands:
        return np.full(0, np.inf)
    dist = store.distance_to_plates([*plates, *others], np.array(hands, dtype=float))
    d: FloatArray = dist[: len(plates)].min(axis=0)
    if others:
        d = np.where(dist[len(plates) :].min(axis=0) < d, np.inf, d)
    return d


def classify_event(
    store: StoreIndex,
    ev: dict,
    frames: dict[str, Frames],
    account_of: dict[str, str],
    events: list[dict] | None = None,
) -> tuple[str, set[str]]:
    """The event's class and the persons who were its rivals (``events``: all of the
    recording's true events, to find a rival's own alike action)."""
    plates = [store.plate_index[p] for p in (ev.get("plates") or [ev["plate"]])]
    shelf = {q for p in plates for q in store.shelves[store.shelf_of_plate[p]].plates}
    others = sorted(shelf - set(plates))
    stand = store.stand_point[plates]
    t = float(ev["t"])
    r0, r1 = ev.get("reach") or (t - 1.0, t + 1.0)
    actor = ev["person"]
    seen = False
    mine = frames.get(actor)
    if mine is not None:
        for i in mine.span(r0, r1):
            d = _hand_d(store, plates, others, mine.hands[i])
            if d.size and float(d.min()) <= IN_PLATE_M:
                seen = True
                break
    hands_at: set[str] = set()
    hands_in: set[str] = set()
    near: set[str] = set()
    for who, f in frames.items():
        if who == actor or account_of.get(who) == ev["account"]:
            continue
        body_m = np.inf
        cleared = 0
        hand_in = before = after = False
        for i in f.span(t - RIVAL_S, t + RIVAL_S):
            p = np.asarray(f.pos[i])
            body_m = min(body_m, float(np.linalg.norm(stand - p[None, :], axis=1).min()))
            d = _hand_d(store, plates, others, f.hands[i])
            in_step = t - CFG.reach_before_s <= f.t[i] <= t + CFG.reach_after_s
            if d.size and float(d.min()) <= IN_PLATE_M:
                hand_in = True
                before = before or t - STAY_S <= f.t[i] <= t
                after = after or t <= f.t[i] <= t + STAY_S
            if in_step and d.size == 2 and float(d.min()) > IN_PLATE_M:
                cleared += 1
        if before and after:
            hands_at.add(who)
        elif hand_in:
            hands_in.add(who)
        elif body_m <= ALONE_M and cleared < CFG.hands_away_frames:
            near.add(who)
    rivals = hands_at | hands_in | near
    if hands_at:
        twins = {
            e["person"]
            for e in events or []
            if e["person"] in hands_at
            and e["kind"] == ev["kind"]
            and e["sku"] == ev["sku"]
            and abs(e["qty"]) == abs(ev["qty"])
            and set(e.get("plates") or [e["plate"]]) & set(ev.get("plates") or [ev["plate"]])
            and abs(float(e["t"]) - t) <= TWIN_S
        }
        if twins == hands_at:
            return "contested, alike at step", rivals
        return "contested, hand at step", rivals
    if hands_in:
        return "contested, hand by", rivals
    if near:
        return "contested, near", rivals
    return ("clear" if seen else "hidden, alone"), set()


def classify(folder: Path) -> list[ReceiptClass]:
    """Class every truth account of one recording and score the engine's receipts on it."""
    truth_raw = json.loads((folder / "truth.json").read_text())
    store = StoreIndex(read_store(folder))
    persons = truth_raw.get("persons", [])
    account_of = {p["person"]: p["account"] for p in persons}
    ids_changed: set[str] = {p["account"] for p in persons if len(p["tracks"]) > 1}
    frames = person_frames(folder, persons)
    cls: dict[str, str] = {}
    own: dict[str, str] = {}
    n_events: dict[str, int] = {}

    def worse(into: dict[str, str], account: str, c: str) -> None:
        if RANK[c] > RANK[into.get(account, "no events")]:
            into[account] = c

    for ev in truth_raw.get("events", []):
        c, rivals = classify_event(store, ev, frames, account_of, truth_raw.get("events", []))
        worse(cls, ev["account"], c)
        worse(own, ev["account"], c)
        n_events[ev["account"]] = n_events.get(ev["account"], 0) + 1
        for who in rivals:
            worse(cls, account_of[who], c)
    score = score_receipts(read_truth(folder), [r.to_out() for r in replay(folder).receipts])
    return [
        ReceiptClass(
            folder.name,
            d.account,
            cls.get(d.account, "no events"),
            d.exact,
            d.needs_review,
            d.account in ids_changed,
            n_events.get(d.account, 0),
            cls.get(d.account, "no events") != own.get(d.account, "no events"),
        )
        for d in score.details
    ]


def _seeds(text: str) -> list[int]:
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def table(rows: list[ReceiptClass], title: str) -> Table:
    out = Table(title=title)
    for name in (
        "class",
        "receipts",
        "as rival",
        "exact",
        "reviewed (share of all)",
        "right, reviewed",
        "wrong, not reviewed",
        "ids changed",
    ):
        out.add_column(name, justify="left" if name == "class" else "right")
    total = len(rows) or 1
    for name in (*CLASSES, "all"):
        mine = [r for r in rows if name in ("all", r.cls)]
        n = len(mine)
        exact = sum(r.exact for r in mine)
        rev = sum(r.reviewed for r in mine)
        out.add_row(
            name,
            f"{n} ({100 * n / total:.1f} %)",
            str(sum(r.as_rival for r in mine)),
            f"{exact} ({100 * exact / max(n, 1):.1f} %)",
            f"{rev} ({100 * rev / total:.1f} %)",
            str(sum(r.exact and r.reviewed for r in mine)),
            str(sum(not r.exact and not r.reviewed for r in mine)),
            str(sum(r.ids_changed for r in mine)),
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recordings", nargs="*", type=Path)
    parser.add_argument("--preset", help="Simulated recordings of this preset (bench cache).")
    parser.add_argument("--seeds", default="1-20")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--list",
        metavar="CLASS",
        help="Also list that class's receipts the engine reviewed or got wrong ('all': any).",
    )
    args = parser.parse_args()
    folders = list(args.recordings)
    if args.preset:
        folders += [recording(args.preset, s) for s in _seeds(args.seeds)]
    if not folders:
        parser.error("give recordings or --preset")
    with ProcessPoolExecutor(args.workers) as pool:
        rows = [r for rs in pool.map(classify, folders) for r in rs]
    console = Console(width=150)
    what = f"{args.preset} seeds {args.seeds}" if args.preset else f"{len(folders)} recordings"
    console.print(table(rows, f"receipts by what the cameras saw, {what}"))
    if args.list:
        for r in rows:
            if args.list in ("all", r.cls) and (r.reviewed or not r.exact):
                state = ("right" if r.exact else "WRONG") + (", reviewed" if r.reviewed else "")
                print(
                    f"{r.recording} {r.account} ({r.cls}{', as rival' if r.as_rival else ''}) "
                    f"{state} events={r.events}" + (" ids-changed" if r.ids_changed else "")
                )


if __name__ == "__main__":
    main()
