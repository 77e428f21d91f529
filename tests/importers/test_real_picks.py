"""The engine on real load cells: the AutoCheckout case's two labelled picks, and nothing else.

Reads the case from ../shared (never from the repository); skipped, with the reason, when the
shared folder is not beside the checkout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from walkout.importers import import_autocheckout
from walkout.importers.autocheckout import ACCOUNT
from walkout.replay import replay

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "autocheckout-cps-test-01"

pytestmark = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"real AutoCheckout case not found at {REAL} (kept outside the repo)"
)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("autocheckout")
    import_autocheckout(REAL, out)
    labels = json.loads((out / "truth.json").read_text())["events"]
    (out / "truth.json").unlink()  # the engine must not need it
    return replay(out, keep_changes=True), labels


def test_exactly_the_two_labelled_picks(replayed) -> None:  # type: ignore[no-untyped-def]
    result, labels = replayed
    picks = [c for c in result.changes if c.kind == "pick"]
    assert len(picks) == len(labels) == 2
    assert not [c for c in result.changes if c.kind == "putback"]
    for change, label in zip(sorted(picks, key=lambda c: c.event.t_step), labels, strict=True):
        assert change.items == {label["sku"]: 1}
        # the labelled plates are among the plates whose load moved
        assert set(label["plates"]) <= set(change.event.plates)
        # label times are whole seconds, truncated: the step comes within the next second
        assert label["t"] - 0.1 <= change.event.t_step <= label["t"] + 1.0
        assert change.account == ACCOUNT


def test_the_picks_end_on_the_synthetic_shoppers_receipt(replayed) -> None:  # type: ignore[no-untyped-def]
    result, labels = replayed
    assert [r.account for r in result.receipts] == [ACCOUNT]
    assert result.receipts[0].items == {label["sku"]: 1 for label in labels}
    # no other plate's ringing became an item or an unexplained alert
    assert [a for a in result.alerts if a.kind == "unexplained"] == []
