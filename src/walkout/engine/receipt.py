"""What the engine concludes for one account: its receipt, line by line, with the causes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from walkout.recording.models import ReceiptOut


@dataclass(frozen=True, slots=True)
class Receipt:
    """One account's final receipt.

    Attributes:
        account: The shopper app's account id.
        items: sku to quantity, only quantities > 0.
        total: Sum of unit prices times quantities.
        confidence: Probability that every line is right (product of the event posteriors).
        needs_review: True when staff must confirm before the receipt is trusted.
        age_check_required: True when an age-restricted product is on the receipt.
        review_reasons: Why it needs review, readable by staff.
    """

    account: str
    items: dict[str, int]
    total: Decimal
    confidence: float
    needs_review: bool
    age_check_required: bool
    review_reasons: tuple[str, ...] = field(default_factory=tuple)

    def to_out(self) -> ReceiptOut:
        return ReceiptOut(
            account=self.account,
            items=dict(sorted(self.items.items())),
            total=f"{self.total:.2f}",
            confidence=round(self.confidence, 4),
            needs_review=self.needs_review,
            age_check_required=self.age_check_required,
            review_reasons=list(self.review_reasons),
        )
