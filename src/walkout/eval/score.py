"""Scoring receipts against truth, exactly as the spec's Scoring section says.

The headline is the share of exact receipts: a shopper is charged right or wrong, and a
receipt that is off by one unit is as wrong as one that is off by ten. Unit precision and
recall are reported beside it because they show *how* an engine is wrong (charging for things
nobody took, or missing things that were taken). Review is no excuse: a flagged receipt counts
as exact only when its own items are right, and the share of flagged receipts is reported so
that an engine cannot buy exactness by flagging everything.

Everything here is pure: truth and receipts in, counts out. Reading files and printing belong
to the caller (the CLI, a bench).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rich.table import Table

from walkout.recording.models import ReceiptOut, Truth

__all__ = [
    "AccountResult",
    "Score",
    "combine",
    "score_dict",
    "score_json",
    "score_receipts",
    "score_table",
]


@dataclass(frozen=True, slots=True)
class AccountResult:
    """How one truth account came out; kept so a bad score can be traced to the shopper.

    Attributes:
        account: The account id from truth.
        truth_items: sku to quantity that the shopper really took (only quantities > 0).
        predicted_items: sku to quantity over all of the account's receipts, added up (only
            quantities > 0); empty when no receipt came.
        exact: Whether ``predicted_items`` equals ``truth_items`` and a receipt came at all.
        needs_review: Whether any of the account's receipts was sent to review.
        missing: Whether no receipt came for the account.
    """

    account: str
    truth_items: Mapping[str, int]
    predicted_items: Mapping[str, int]
    exact: bool
    needs_review: bool
    missing: bool = False


@dataclass(frozen=True, slots=True)
class Score:
    """Counts from one or more recordings; rates are derived so pooling stays exact.

    Attributes:
        accounts: Accounts in truth.
        exact: Truth accounts whose receipt items were exactly right.
        reviewed: Truth accounts with a receipt flagged ``needs_review``.
        units_predicted: Units on all receipts, including accounts not in truth.
        units_true: Units in truth.
        units_correct: Units in both (multiset intersection per account).
        details: One result per truth account, in truth order.
    """

    accounts: int
    exact: int
    reviewed: int
    units_predicted: int
    units_true: int
    units_correct: int
    details: tuple[AccountResult, ...] = field(default=(), compare=False)

    @property
    def exact_rate(self) -> float:
        """Share of truth accounts charged exactly right; 1.0 when nobody entered."""
        return self.exact / self.accounts if self.accounts else 1.0

    @property
    def review_rate(self) -> float:
        """Share of truth accounts sent to review; 0.0 when nobody entered."""
        return self.reviewed / self.accounts if self.accounts else 0.0

    @property
    def precision(self) -> float:
        """Share of charged units that were really taken; 1.0 when nothing was charged."""
        return self.units_correct / self.units_predicted if self.units_predicted else 1.0

    @property
    def recall(self) -> float:
        """Share of taken units that were charged; 1.0 when nothing was taken."""
        return self.units_correct / self.units_true if self.units_true else 1.0


def _positive(items: Mapping[str, int]) -> Counter[str]:
    """Only quantities > 0: the spec lists nothing else, so a stray 0 must not break equality."""
    return Counter({sku: qty for sku, qty in items.items() if qty > 0})


def score_receipts(truth: Truth, receipts: Sequence[ReceiptOut]) -> Score:
    """Score one recording's receipts against its truth.

    Several receipts for one account are added up (an engine may close a cart twice); a truth
    account without any receipt is wrong, even if its shopper took nothing.

    Raises:
        ValueError: If truth lists an account twice (truth is one receipt per account).
    """
    truth_items: dict[str, Counter[str]] = {}
    for receipt in truth.receipts:
        if receipt.account in truth_items:
            raise ValueError(f"truth lists account {receipt.account!r} twice")
        truth_items[receipt.account] = _positive(receipt.items)

    summed: dict[str, Counter[str]] = {}
    flagged: set[str] = set()
    for out in receipts:
        summed.setdefault(out.account, Counter()).update(out.items)
        if out.needs_review:
            flagged.add(out.account)
    predicted = {account: _positive(items) for account, items in summed.items()}

    details: list[AccountResult] = []
    units_correct = 0
    for account, want in truth_items.items():
        got = predicted.get(account)
        missing = got is None
        got = got if got is not None else Counter()
        units_correct += (want & got).total()
        details.append(
            AccountResult(
                account=account,
                truth_items=dict(sorted(want.items())),
                predicted_items=dict(sorted(got.items())),
                exact=not missing and got == want,
                needs_review=account in flagged,
                missing=missing,
            )
        )

    return Score(
        accounts=len(details),
        exact=sum(d.exact for d in details),
        reviewed=sum(d.needs_review for d in details),
        units_predicted=sum(items.total() for items in predicted.values()),
        units_true=sum(items.total() for items in truth_items.values()),
        units_correct=units_correct,
        details=tuple(details),
    )


def combine(scores: Iterable[Score]) -> Score:
    """Pool several recordings by adding counts, so big recordings weigh more than small ones.

    Averaging the rates instead would let a recording with two shoppers count as much as one
    with two hundred.
    """
    parts = list(scores)
    return Score(
        accounts=sum(s.accounts for s in parts),
        exact=sum(s.exact for s in parts),
        reviewed=sum(s.reviewed for s in parts),
        units_predicted=sum(s.units_predicted for s in parts),
        units_true=sum(s.units_true for s in parts),
        units_correct=sum(s.units_correct for s in parts),
        details=tuple(d for s in parts for d in s.details),
    )


# --- presentation ---------------------------------------------------------------------------


def score_table(
    rows: list[tuple[str, Score]], *, name_header: str = "recording", total: bool = True
) -> Table:
    """A rich table, one row per recording (or preset), plus a pooled row when there are several.

    Args:
        rows: (name, score) pairs in display order.
        name_header: Header of the first column, e.g. "recording" or "preset".
        total: Add a pooled "all" row (``combine``) when there is more than one row.
    """
    table = Table(show_footer=False)
    table.add_column(name_header)
    table.add_column("accounts", justify="right")
    table.add_column("exact %", justify="right")
    table.add_column("review %", justify="right")
    table.add_column("unit precision", justify="right")
    table.add_column("unit recall", justify="right")

    def add(name: str, s: Score, *, end_section: bool = False) -> None:
        table.add_row(
            name,
            str(s.accounts),
            f"{100 * s.exact_rate:.1f}",
            f"{100 * s.review_rate:.1f}",
            f"{s.precision:.3f}",
            f"{s.recall:.3f}",
            end_section=end_section,
        )

    for i, (name, s) in enumerate(rows):
        add(name, s, end_section=total and len(rows) > 1 and i == len(rows) - 1)
    if total and len(rows) > 1:
        add("all", combine(s for _, s in rows))
    return table


def score_dict(score: Score, *, details: bool = False) -> dict[str, object]:
    """One score as plain JSON-ready values: the counts and the derived rates."""
    out: dict[str, object] = {
        "accounts": score.accounts,
        "exact": score.exact,
        "reviewed": score.reviewed,
        "units_predicted": score.units_predicted,
        "units_true": score.units_true,
        "units_correct": score.units_correct,
        "exact_rate": score.exact_rate,
        "review_rate": score.review_rate,
        "precision": score.precision,
        "recall": score.recall,
    }
    if details:
        out["details"] = [
            {
                "account": d.account,
                "truth_items": dict(d.truth_items),
                "predicted_items": dict(d.predicted_items),
                "exact": d.exact,
                "needs_review": d.needs_review,
                "missing": d.missing,
            }
            for d in score.details
        ]
    return out


def score_json(rows: list[tuple[str, Score]], *, details: bool = False) -> dict[str, object]:
    """Plain dict for ``--json`` output: each named score and the pooled total.

    Args:
        rows: (name, score) pairs, as for ``score_table``.
        details: Include per-account results (large; for debugging a bad run).
    """
    return {
        "rows": [{"name": name, **score_dict(s, details=details)} for name, s in rows],
        "total": score_dict(combine(s for _, s in rows)),
    }
