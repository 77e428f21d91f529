"""truth.json agrees with the story the sensors tell: receipts, persons and gates."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from pathlib import Path

import pytest

from walkout.sim import simulate_config
from walkout.sim.presets import BUSY


@pytest.mark.parametrize("name", ["easy", "busy", "hard"])
def test_receipts_are_picks_minus_putbacks(name: str, request: pytest.FixtureRequest) -> None:
    rec = request.getfixturevalue(name)
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in rec.truth["events"]:
        assert (e["qty"] > 0) == (e["kind"] == "pick")
        assert len(e["unit_ids"]) == len(e["unit_weights_g"]) == abs(e["qty"])
        totals[e["account"]][e["sku"]] += e["qty"]
    for receipt in rec.truth["receipts"]:
        expected = {s: n for s, n in totals[receipt["account"]].items() if n > 0}
        assert receipt["items"] == expected
        assert all(n >= 0 for n in totals[receipt["account"]].values())


@pytest.mark.parametrize("name", ["easy", "busy", "hard"])
def test_one_receipt_per_account_that_entered(name: str, request: pytest.FixtureRequest) -> None:
    rec = request.getfixturevalue(name)
    entered = sorted({m.account for m in rec.messages if m.type == "entry"})
    assert [r["account"] for r in rec.truth["receipts"]] == entered


def test_each_unit_is_put_back_only_after_it_was_taken(hard) -> None:  # type: ignore[no-untyped-def]
    holder: dict[int, str] = {}
    for e in hard.truth["events"]:
        for uid in e["unit_ids"]:
            if e["kind"] == "pick":
                assert uid not in holder
                holder[uid] = e["person"]
            else:
                assert holder.pop(uid) == e["person"]


def test_entries_gates_and_persons(busy) -> None:  # type: ignore[no-untyped-def]
    entries = [m for m in busy.messages if m.type == "entry"]
    persons = busy.truth["persons"]
    assert len(entries) == len(persons)
    by_gate: dict[str, list[float]] = defaultdict(list)
    for m in entries:
        by_gate[m.gate].append(m.t)
    for times in by_gate.values():
        assert all(b - a >= 2.0 for a, b in itertools.pairwise(times))
    exits = [m for m in busy.messages if m.type == "exit"]
    assert len(exits) == len(persons)
    for p in persons:
        assert 0.5 <= p["enter_t"] - p["scan_t"] <= 2.5
        assert p["tracks"][-1]["t1"] <= p["exit_t"] + 1.0
        assert p["tracks"][0]["t0"] >= p["enter_t"]


def test_parties_share_an_account(tmp_path: Path) -> None:
    cfg = BUSY.model_validate({**BUSY.model_dump(), "p_party": 1.0})
    simulate_config(tmp_path, cfg, seed=2, minutes=1.0)
    truth = json.loads((tmp_path / "truth.json").read_text())
    accounts = [p["account"] for p in truth["persons"]]
    assert len(accounts) == 2 * len(set(accounts))
