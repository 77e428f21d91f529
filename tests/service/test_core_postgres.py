"""The same service on PostgreSQL (a real server started for the test): log, receipts, ledger,
and a restart that rebuilds from the log without charging again."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import wait_until


def test_postgres_log_receipts_and_restart(
    make_service: Any, postgres_url: str, two_shoppers: list[Any]
) -> None:
    first = make_service(db_url=postgres_url)
    device = first.key("device")
    seqs = first.feed(two_shoppers, device)
    assert seqs == list(range(1, len(two_shoppers) + 1))
    charged = wait_until(
        lambda: len(r := first.receipts()) == 2 and all(x["status"] == "charged" for x in r) and r,
        "two charged receipts on PostgreSQL",
    )
    ledger = first.ledger()
    assert sorted(e["amount"] for e in ledger) == ["1.29", "1.99"]
    first.close()

    second = make_service(db_url=postgres_url)
    health = second.client().get("/v1/health").json()
    assert health["log_length"] - health["clock_ticks"] == len(two_shoppers)
    assert second.receipts() == charged  # rebuilt from the log, same session ids
    assert second.ledger() == ledger  # and nothing charged twice
    # keys live in the database too: the device key still works after the restart
    more = second.feed(two_shoppers[-5:], device)
    assert more[0] > health["log_length"]  # seqs go on after the rebuilt log
