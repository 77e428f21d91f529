"""Staff decisions: a held receipt resolved and charged, an ID check confirmed or removed."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import Harness, wait_until


def _receipt(service: Harness, account: str, status: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        return next(
            (r for r in service.receipts() if r["account"] == account and r["status"] == status),
            None,
        )

    return wait_until(found, f"{account}'s receipt {status}")


def test_review_holds_the_charge_and_resolution_charges_the_fixed_items(
    service: Harness, ambiguous: list[Any]
) -> None:
    service.feed(ambiguous, service.key("device"))
    held_a = _receipt(service, "acct-a", "held_for_review")
    held_b = _receipt(service, "acct-b", "held_for_review")
    assert held_a["engine_items"] == {"cola": 1}
    assert service.ledger() == []  # nothing charged while held

    staff = service.client(service.key("staff"))
    queue = {r["account"]: r for r in staff.get("/v1/staff/reviews").json()}
    assert set(queue) == {"acct-a", "acct-b"}
    item = queue["acct-a"]
    assert item["status"] == "open"
    assert item["reasons"] and "confidence" in item["reasons"][0]
    # the competing explanations: who else could it have been, what else could it be
    change = item["explanations"][0]
    assert {p["account"] for p in change["people"]} == {"acct-a", "acct-b"}
    assert change["products"][0]["items"] == {"cola": 1}
    # acct-b's receipt is empty, yet its review shows the change that may be its own
    assert queue["acct-b"]["explanations"] == [change]

    # staff watched the video: acct-b took the cola, acct-a nothing
    r = staff.post(f"/v1/staff/reviews/{held_a['session_id']}/resolve", json={"items": {}})
    assert r.status_code == 200, r.text
    r = staff.post(f"/v1/staff/reviews/{held_b['session_id']}/resolve", json={"items": {"cola": 1}})
    assert r.json()["status"] == "resolved"
    again = staff.post(
        f"/v1/staff/reviews/{held_b['session_id']}/resolve", json={"items": {"cola": 2}}
    )
    assert again.status_code == 409
    charged = {r["account"]: r for r in service.receipts()}
    assert charged["acct-b"]["status"] == "charged"
    assert charged["acct-b"]["items"] == {"cola": 1}
    assert sorted((e["account"], e["kind"], e["amount"]) for e in service.ledger()) == [
        ("acct-a", "charge", "0.00"),
        ("acct-b", "charge", "1.29"),
    ]
    # the shopper sees the fixed receipt, not the engine's doubts
    mine = service.client(service.key("shopper", "acct-b")).get("/v1/receipts/me").json()
    assert mine[0]["items"] == {"cola": 1} and "review_reasons" not in mine[0]


def test_id_check_removed_takes_the_item_off_the_receipt(service: Harness, beer: list[Any]) -> None:
    service.feed(beer, service.key("device"))
    held = _receipt(service, "acct-c", "held_for_id_check")
    assert held["items"] == {"beer": 1, "cola": 1}
    assert service.ledger() == []

    staff = service.client(service.key("staff"))
    checks = staff.get("/v1/staff/id-checks").json()
    assert [(c["account"], c["sku"], c["status"]) for c in checks] == [
        ("acct-c", "beer", "pending")
    ]
    bad = staff.post(f"/v1/staff/id-checks/{checks[0]['id']}", json={"decision": "maybe"})
    assert bad.status_code == 422
    r = staff.post(f"/v1/staff/id-checks/{checks[0]['id']}", json={"decision": "removed"})
    assert r.json()["status"] == "removed"
    receipt = _receipt(service, "acct-c", "charged")
    assert receipt["items"] == {"cola": 1}
    assert receipt["total"] == "1.29"
    assert [(e["kind"], e["amount"]) for e in service.ledger()] == [("charge", "1.29")]
    again = staff.post(f"/v1/staff/id-checks/{checks[0]['id']}", json={"decision": "confirmed"})
    assert again.status_code == 409


def test_id_check_confirmed_charges_the_item(service: Harness, beer: list[Any]) -> None:
    staff = service.client(service.key("staff"))
    inside = [m for m in beer if m.t < 12.5]  # the shopper leaves at 13.0
    service.feed(inside, service.key("device"))
    # raised as soon as the beer is in the cart, while the shopper is still inside
    check = wait_until(lambda: staff.get("/v1/staff/id-checks").json(), "an ID check")[0]
    staff.post(f"/v1/staff/id-checks/{check['id']}", json={"decision": "confirmed"})
    assert service.receipts() == []
    service.feed(beer[len(inside) :], service.key("device"))
    receipt = _receipt(service, "acct-c", "charged")
    assert receipt["items"] == {"beer": 1, "cola": 1}
    assert [(e["kind"], e["amount"]) for e in service.ledger()] == [("charge", "3.78")]


def test_staff_decisions_survive_a_restart_without_charging_twice(
    make_service: Any, beer: list[Any]
) -> None:
    first = make_service()
    first.feed(beer, first.key("device"))
    _receipt(first, "acct-c", "held_for_id_check")
    staff = first.client(first.key("staff"))
    check = staff.get("/v1/staff/id-checks").json()[0]
    staff.post(f"/v1/staff/id-checks/{check['id']}", json={"decision": "removed"})
    session = _receipt(first, "acct-c", "charged")["session_id"]
    # the customer brings the cola back: refunded once, however often staff press the button
    for _ in range(2):
        r = staff.post(
            "/v1/staff/refunds", json={"session_id": session, "amount": "1.29", "key": "ret-1"}
        )
        assert r.status_code == 200, r.text
    too_much = {"session_id": session, "amount": "0.01", "key": "ret-2"}
    assert staff.post("/v1/staff/refunds", json=too_much).status_code == 409
    first.close()

    second = make_service()  # same database: the log is replayed, the decision re-applied
    receipt = _receipt(second, "acct-c", "charged")
    assert receipt["items"] == {"cola": 1}
    # the rebuild charges nothing again, and does not charge the refund back either
    assert [(e["kind"], e["amount"]) for e in second.ledger()] == [
        ("charge", "1.29"),
        ("refund", "-1.29"),
    ]
    assert second.client(second.admin_key).get("/v1/staff/id-checks").json()[0]["status"] == (
        "removed"
    )
