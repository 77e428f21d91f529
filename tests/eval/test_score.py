"""Scoring rules from the spec, one table row per rule, so a changed rule shows up by name."""

from __future__ import annotations

import pytest
from rich.console import Console

from walkout.eval.score import Score, combine, score_json, score_receipts, score_table
from walkout.recording.models import ReceiptOut, Truth, TruthReceipt


def truth(*receipts: tuple[str, dict[str, int]]) -> Truth:
    return Truth(receipts=[TruthReceipt(account=a, items=i) for a, i in receipts])


def out(account: str, items: dict[str, int], *, review: bool = False) -> ReceiptOut:
    return ReceiptOut(
        account=account,
        items=items,
        total="0.00",
        confidence=1.0,
        needs_review=review,
        age_check_required=False,
    )


T2 = truth(("a", {"cola": 2}), ("b", {"chips": 1, "cola": 1}))

# (id, truth, receipts, expected counts: accounts, exact, reviewed, predicted, true, correct)
CASES = [
    (
        "all exact",
        T2,
        [out("a", {"cola": 2}), out("b", {"chips": 1, "cola": 1})],
        (2, 2, 0, 4, 4, 4),
    ),
    ("missing receipt", T2, [out("a", {"cola": 2})], (2, 1, 0, 2, 4, 2)),
    (
        "missing receipt of empty truth is wrong",
        truth(("a", {}), ("b", {"cola": 1})),
        [out("b", {"cola": 1})],
        (2, 1, 0, 1, 1, 1),
    ),
    (
        "two receipts for one account are added up",
        T2,
        [out("a", {"cola": 1}), out("a", {"cola": 1}), out("b", {"chips": 1, "cola": 1})],
        (2, 2, 0, 4, 4, 4),
    ),
    (
        "units on unknown account are false positives",
        T2,
        [out("a", {"cola": 2}), out("b", {"chips": 1, "cola": 1}), out("zz", {"cola": 3})],
        (2, 2, 0, 7, 4, 4),
    ),
    (
        "reviewed but right counts exact",
        T2,
        [out("a", {"cola": 2}, review=True), out("b", {"chips": 1, "cola": 1})],
        (2, 2, 1, 4, 4, 4),
    ),
    (
        "reviewed and wrong does not",
        T2,
        [out("a", {"cola": 3}, review=True), out("b", {"chips": 1, "cola": 1})],
        (2, 1, 1, 5, 4, 4),
    ),
    (
        "review of unknown account is not counted",
        T2,
        [out("a", {"cola": 2}), out("b", {"chips": 1, "cola": 1}), out("zz", {}, review=True)],
        (2, 2, 0, 4, 4, 4),
    ),
    (
        "zero quantities ignored",
        T2,
        [out("a", {"cola": 2, "chips": 0}), out("b", {"chips": 1, "cola": 1})],
        (2, 2, 0, 4, 4, 4),
    ),
    (
        "wrong product: partial unit credit",
        T2,
        [out("a", {"cola": 1, "chips": 1}), out("b", {"chips": 1, "cola": 1})],
        (2, 1, 0, 4, 4, 3),
    ),
    ("empty predictions", T2, [], (2, 0, 0, 0, 4, 0)),
    ("nobody entered", truth(), [], (0, 0, 0, 0, 0, 0)),
]


@pytest.mark.parametrize(
    ("truth_", "receipts", "counts"),
    [pytest.param(t, r, c, id=name) for name, t, r, c in CASES],
)
def test_score_receipts_counts(
    truth_: Truth, receipts: list[ReceiptOut], counts: tuple[int, int, int, int, int, int]
) -> None:
    s = score_receipts(truth_, receipts)
    got = (s.accounts, s.exact, s.reviewed, s.units_predicted, s.units_true, s.units_correct)
    assert got == counts


@pytest.mark.parametrize(
    ("receipts", "precision", "recall", "exact_rate", "review_rate"),
    [
        pytest.param([], 1.0, 0.0, 0.0, 0.0, id="empty predictions: precision 1"),
        pytest.param(
            [out("a", {"cola": 2}), out("b", {"chips": 1, "cola": 1}), out("zz", {"cola": 4})],
            0.5,
            1.0,
            1.0,
            0.0,
            id="unknown account halves precision",
        ),
        pytest.param([out("a", {"cola": 2}, review=True)], 1.0, 0.5, 0.5, 0.5, id="one of two"),
    ],
)
def test_rates(
    receipts: list[ReceiptOut],
    precision: float,
    recall: float,
    exact_rate: float,
    review_rate: float,
) -> None:
    s = score_receipts(T2, receipts)
    assert (s.precision, s.recall, s.exact_rate, s.review_rate) == pytest.approx(
        (precision, recall, exact_rate, review_rate)
    )


def test_rates_with_nothing_in_truth() -> None:
    s = score_receipts(truth(), [])
    assert (s.precision, s.recall, s.exact_rate, s.review_rate) == (1.0, 1.0, 1.0, 0.0)


def test_details_name_the_wrong_account() -> None:
    s = score_receipts(T2, [out("a", {"cola": 3}), out("a", {"chips": 0})])
    by_account = {d.account: d for d in s.details}
    assert by_account["a"].predicted_items == {"cola": 3}
    assert not by_account["a"].exact and not by_account["a"].missing
    assert by_account["b"].missing and by_account["b"].predicted_items == {}


def test_duplicate_truth_account_is_rejected() -> None:
    with pytest.raises(ValueError, match="twice"):
        score_receipts(truth(("a", {}), ("a", {"cola": 1})), [])


def test_combine_pools_counts_not_rates() -> None:
    small = Score(accounts=1, exact=0, reviewed=1, units_predicted=2, units_true=1, units_correct=1)
    big = Score(accounts=9, exact=9, reviewed=0, units_predicted=8, units_true=9, units_correct=8)
    pooled = combine([small, big])
    assert pooled == Score(
        accounts=10, exact=9, reviewed=1, units_predicted=10, units_true=10, units_correct=9
    )
    assert pooled.exact_rate == pytest.approx(0.9)  # the mean of rates would be 0.5
    assert combine([]) == Score(0, 0, 0, 0, 0, 0)


def test_combine_keeps_details() -> None:
    a = score_receipts(T2, [out("a", {"cola": 2})])
    assert len(combine([a, a]).details) == 4


def test_table_and_json() -> None:
    a = score_receipts(T2, [out("a", {"cola": 2}), out("b", {"chips": 1, "cola": 1})])
    b = score_receipts(T2, [])
    table = score_table([("one", a), ("two", b)], name_header="preset")
    console = Console(width=120, record=True)
    console.print(table)
    text = console.export_text()
    assert "preset" in text and "all" in text and "100.0" in text and "50.0" in text

    data = score_json([("one", a), ("two", b)], details=True)
    rows = data["rows"]
    assert isinstance(rows, list) and rows[0]["name"] == "one"
    assert rows[1]["exact_rate"] == 0.0
    assert data["total"] == {
        "accounts": 4,
        "exact": 2,
        "reviewed": 0,
        "units_predicted": 4,
        "units_true": 8,
        "units_correct": 4,
        "exact_rate": 0.5,
        "review_rate": 0.0,
        "precision": 1.0,
        "recall": 0.5,
    }
