"""Exit, receipt, charge: once, whatever is delivered twice; bad messages refused, not fatal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from tests.engine.test_late_gates import delayed
from tests.service.conftest import Harness, as_json, wait_until

from walkout.recording.models import ExitMsg, WeightMsg
from walkout.service import db


def _charged(service: Harness, n: int) -> list[dict[str, Any]]:
    def done() -> list[dict[str, Any]] | None:
        receipts = service.receipts()
        return (
            receipts
            if len(receipts) == n and all(r["status"] == "charged" for r in receipts)
            else None
        )

    return wait_until(done, f"{n} charged receipts")


def test_exit_gives_receipt_and_one_charge_even_with_exit_duplicated(
    service: Harness, two_shoppers: list[Any]
) -> None:
    device = service.key("device")
    exits = [m for m in two_shoppers if isinstance(m, ExitMsg)]
    # every exit message delivered twice, once at once and once again after the receipts
    doubled: list[Any] = []
    for m in two_shoppers:
        doubled.append(m)
        if isinstance(m, ExitMsg):
            doubled.append(m)
    service.feed(doubled, device)
    receipts = _charged(service, 2)
    service.feed(exits, device)
    service.wait_fed()
    assert {r["account"]: r["items"] for r in service.receipts()} == {
        "acct-a": {"cola": 1},
        "acct-b": {"chips": 1},
    }
    ledger = service.ledger()
    assert sorted((e["account"], e["kind"], e["amount"]) for e in ledger) == [
        ("acct-a", "charge", "1.29"),
        ("acct-b", "charge", "1.99"),
    ]
    assert {e["key"] for e in ledger} == {f"charge:{r['session_id']}" for r in receipts}
    assert service.client(service.admin_key).get("/v1/health").json()["duplicates"] >= 2


def test_malformed_messages_get_422_with_what_and_where_and_good_ones_are_logged(
    service: Harness,
) -> None:
    device = service.key("device", name="shelf-ctl-7")
    body = [
        {"t": 1.0, "type": "weight", "shelf": "S1", "g": [3000.0, 3000.0, 3000.0, 3000.0]},
        {"t": 1.1, "type": "weight", "shelf": "S1", "g": [3000.0]},
        {"t": 1.2, "type": "track", "id": "p1", "pos": [1.0]},
        {"t": 1.3, "type": "teleport"},
        "not an object",
        {"t": 1.4, "type": "entry", "gate": "in", "account": "acct-z"},
        {"t": 1.5, "type": "exit", "gate": "nowhere"},
    ]
    r = service.client(device).post("/v1/messages", content=as_json(body))
    assert r.status_code == 422
    answer = r.json()
    assert answer["accepted"] == 2
    assert len(answer["seqs"]) == 2
    errors = {e["index"]: e["error"] for e in answer["errors"]}
    assert set(errors) == {1, 2, 3, 4, 6}
    assert all("shelf-ctl-7" in e and f"[{i}]" in e for i, e in errors.items())  # where
    assert "has 4 plates, got 1 readings" in errors[1]  # what
    assert "pos" in errors[2]
    assert "teleport" in errors[3]
    assert "expected a JSON object" in errors[4]
    assert "unknown gate 'nowhere'" in errors[6]

    with service.store.db.connect() as conn:
        logged = conn.execute(select(db.messages.c.seq, db.messages.c.type)).all()
        dead = conn.execute(select(db.dead_letters.c.where, db.dead_letters.c.error)).all()
    assert [tuple(row) for row in logged] == [
        (answer["seqs"][0], "weight"),
        (answer["seqs"][1], "entry"),
    ]
    assert len(dead) == 5
    assert any("[1]" in w and "readings" in e for w, e in dead)

    # not JSON at all: one error, nothing accepted, the service goes on
    r = service.client(device).post("/v1/messages", content=b"{nope")
    assert r.status_code == 422
    assert r.json()["accepted"] == 0
    assert "not valid JSON" in r.json()["errors"][0]["error"]
    assert service.client().get("/v1/health").json()["ok"]


def test_gate_scan_turns_entry_token_into_entry_messages(
    service: Harness, two_shoppers: list[Any]
) -> None:
    device = service.key("device")
    shopper = service.client(service.key("shopper", "acct-a"))
    token = shopper.post("/v1/sessions", json={"party_size": 1}).json()["token"]
    gate = service.client(device)
    r = gate.post("/v1/gates/in/scan", json={"token": token, "t": 1.0})
    assert r.status_code == 200, r.text
    assert r.json()["account"] == "acct-a"
    again = gate.post("/v1/gates/in/scan", json={"token": token, "t": 3.0})
    assert again.status_code == 409
    assert "party of 1" in again.json()["detail"]
    assert gate.post("/v1/gates/out/scan", json={"token": token, "t": 3.0}).status_code == 404
    assert gate.post("/v1/gates/in/scan", json={"token": "forged", "t": 3.0}).status_code == 409
    # the shopper's own scene without its recorded entry: the gate's entry stands in for it
    scene = [m for m in two_shoppers if not (m.type == "entry" and m.account == "acct-a")]
    service.feed(scene, device)
    receipts = _charged(service, 2)
    mine = next(r for r in receipts if r["account"] == "acct-a")
    assert mine["items"] == {"cola": 1}
    assert mine["session_id"] == f"acct-a:{r.json()['seq']}"  # deterministic: first entry's seq


def test_a_device_clock_far_ahead_is_refused_and_does_not_stall_the_store(
    service: Harness, two_shoppers: list[Any]
) -> None:
    device = service.client(service.key("device", name="gate-ctl"))
    first, rest = two_shoppers[:100], two_shoppers[100:]
    assert device.post("/v1/messages", content=as_json(first)).status_code == 202
    wrong = {"t": first[-1].t + 86_400.0, "type": "exit", "gate": "out"}
    r = device.post("/v1/messages", content=as_json([wrong]))
    assert r.status_code == 422
    assert "ahead of the store clock" in r.json()["errors"][0]["error"]
    service.feed(rest, service.key("device"))  # the rest is not too late: the clock held
    assert {r["account"]: r["items"] for r in _charged(service, 2)} == {
        "acct-a": {"cola": 1},
        "acct-b": {"chips": 1},
    }
    assert service.client().get("/v1/health").json()["too_late"] == 0


def _charged_when_late(
    service: Harness, msgs: list[Any], late_s: float, which: Callable[[Any], bool]
) -> dict[str, dict[str, int]]:
    """Feed ``msgs`` as delivered when those ``which`` picks arrive ``late_s`` late; the
    charged items."""
    service.feed(delayed(msgs, late_s, which), service.key("device"))
    return {r["account"]: r["items"] for r in _charged(service, 2)}


def test_an_exit_later_than_the_reorder_window_still_charges_its_receipt(
    service: Harness, two_shoppers: list[Any]
) -> None:
    """A gate controller's exit line held up 1 s on the network (the live window is 0.5 s)
    is taken out of order, not dropped: both receipts come and are charged right."""
    items = _charged_when_late(service, two_shoppers, 1.0, lambda m: isinstance(m, ExitMsg))
    assert items == {"acct-a": {"cola": 1}, "acct-b": {"chips": 1}}
    health = service.client().get("/v1/health").json()
    assert health["taken_late"] == 2
    assert health["too_late"] == 0


def test_readings_later_than_the_reorder_window_are_weighed_within_the_weight_grace(
    make_service: Any, two_shoppers: list[Any]
) -> None:
    """A shelf controller's lines held up 0.55 s on the network (the window 0.5 s, a weight
    grace of 0.1 s more): taken, not dropped, and the receipts are the same."""
    service = make_service(weight_grace_s=0.1)
    first_exit = min(m.t for m in two_shoppers if isinstance(m, ExitMsg))
    items = _charged_when_late(
        service,
        two_shoppers,
        0.55,
        lambda m: isinstance(m, WeightMsg) and m.t < first_exit - 1.0,
    )
    assert items == {"acct-a": {"cola": 1}, "acct-b": {"chips": 1}}
    health = service.client().get("/v1/health").json()
    assert health["weights_taken_late"] > 0
    assert health["too_late"] == 0
