"""Live carts over HTTP and WebSocket: each shopper sees its own cart, and only its own."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from tests.service.conftest import Harness, as_json


async def _collect(url: str, until_receipt: bool, out: list[dict[str, Any]]) -> None:
    """Read events from a cart WebSocket until the receipt arrives."""
    async with websockets.connect(url) as ws:
        out.append(json.loads(await ws.recv()))  # the cart as it is on connecting
        out.append({"type": "connected"})
        while until_receipt:
            event = json.loads(await ws.recv())
            out.append(event)
            if event["type"] == "receipt":
                return


def test_each_shopper_sees_own_picks_live_and_no_one_elses(
    service: Harness, two_shoppers: list[Any]
) -> None:
    device = service.key("device")
    key_a = service.key("shopper", "acct-a")
    key_b = service.key("shopper", "acct-b")
    seen_a: list[dict[str, Any]] = []
    seen_b: list[dict[str, Any]] = []

    async def run() -> None:
        tasks = [
            asyncio.create_task(
                _collect(f"{service.ws_url}/v1/carts/me/ws?key={key_a}", True, seen_a)
            ),
            asyncio.create_task(
                _collect(f"{service.ws_url}/v1/carts/me/ws?key={key_b}", True, seen_b)
            ),
        ]
        while len(seen_a) < 2 or len(seen_b) < 2:  # both connected and subscribed
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=service.url, headers={"X-API-Key": device}) as c:
            r = await c.post("/v1/messages", content=as_json(two_shoppers))
            assert r.status_code == 202, r.text
        await asyncio.wait_for(asyncio.gather(*tasks), 20)

    asyncio.run(run())
    assert seen_a[0] == {**seen_a[0], "type": "cart", "account": "acct-a", "items": {}}
    for account, seen, sku in (("acct-a", seen_a, "cola"), ("acct-b", seen_b, "chips")):
        assert {e.get("account") for e in seen if e["type"] != "connected"} == {account}
        picks = [e for e in seen if e["type"] == "cart" and e.get("change")]
        assert [p["change"]["items"] for p in picks] == [{sku: 1}]
        assert picks[0]["items"] == {sku: 1}
        receipt = seen[-1]
        assert receipt["receipt"]["items"] == {sku: 1}
        assert receipt["status"] == "charged"
        assert "review_reasons" not in receipt["receipt"]  # may name other accounts

    # and the plain reads agree: cart empty after leaving, one receipt each
    a = service.client(key_a)
    assert a.get("/v1/carts/me").json()["items"] == {}
    assert [r["items"] for r in a.get("/v1/receipts/me").json()] == [{"cola": 1}]


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        ("device", "GET", "/v1/carts/me", 403),
        ("device", "GET", "/v1/receipts/me", 403),
        ("device", "GET", "/v1/staff/reviews", 403),
        ("shopper", "POST", "/v1/messages", 403),
        ("shopper", "GET", "/v1/staff/reviews", 403),
        ("shopper", "GET", "/v1/staff/receipts", 403),
        ("shopper", "POST", "/v1/admin/keys", 403),
        ("staff", "POST", "/v1/admin/keys", 403),
        ("staff", "POST", "/v1/messages", 403),
        (None, "GET", "/v1/carts/me", 401),
        ("bogus", "GET", "/v1/staff/reviews", 401),
    ],
)
def test_roles(service: Harness, role: str | None, method: str, path: str, status: int) -> None:
    if role is None:
        key = None
    elif role == "bogus":
        key = "wk_not_a_key"
    else:
        key = service.key(role, "acct-a" if role == "shopper" else None)
    r = service.client(key).request(method, path, json={"role": "admin", "name": "x"})
    assert r.status_code == status, r.text


def test_shopper_reads_only_own_account(service: Harness, two_shoppers: list[Any]) -> None:
    service.feed(two_shoppers, service.key("device"))
    service.wait_fed()
    b = service.client(service.key("shopper", "acct-b"))
    receipts = b.get("/v1/receipts/me").json()
    assert [r["account"] for r in receipts] == ["acct-b"]
    # there is no way to name another account: the routes take the account from the key
    assert b.get("/v1/carts/me", params={"account": "acct-a"}).json()["account"] == "acct-b"


def test_websocket_refuses_non_shopper_keys(service: Harness) -> None:
    device = service.key("device")

    async def attempt(key: str) -> None:
        async with websockets.connect(f"{service.ws_url}/v1/carts/me/ws?key={key}") as ws:
            await ws.recv()

    for key in (device, "nonsense", service.admin_key):
        with pytest.raises(websockets.exceptions.InvalidStatus) as info:
            asyncio.run(attempt(key))
        assert info.value.response.status_code == 403
