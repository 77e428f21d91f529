"""The dashboard's routes over HTTP, without a browser: snapshot, event stream, trace pictures.

They run on the core's real service fixtures (``service``: a started service over the engine
tests' one-shelf store) with its small hand-built scenes.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.service.conftest import Harness, wait_until

from walkout.service.staff_api import KEEPALIVE_S, render_trace

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SNAPSHOT_KEYS = {
    "store_id", "t", "layout", "products", "people", "plates", "carts", "reviews", "id_checks",
    "alerts",
}  # fmt: skip


def test_snapshot_has_the_design_shape_by_header_or_query(
    service: Harness, two_shoppers: list[Any]
) -> None:
    staff = service.key("staff")
    service.feed(two_shoppers, service.key("device"))
    service.wait_fed()
    by_header = service.client(staff).get("/v1/staff/snapshot")
    by_query = service.client().get("/v1/staff/snapshot", params={"key": staff})
    assert by_header.status_code == by_query.status_code == 200
    snap = by_header.json()
    assert set(snap) >= SNAPSHOT_KEYS
    assert [p["id"] for p in snap["layout"]["plates"]] == ["S1-P1", "S1-P2", "S1-P3", "S1-P4"]
    assert snap["products"]["beer"]["age_restricted"] is True
    assert {p["id"] for p in snap["plates"]} == {"S1-P1", "S1-P2", "S1-P3", "S1-P4"}


def test_stream_sends_each_staff_event_as_one_json_data_line(
    service: Harness, two_shoppers: list[Any]
) -> None:
    staff, device = service.key("staff"), service.key("device")
    seen: dict[str, list[dict[str, Any]]] = {}
    with service.client().stream("GET", "/v1/staff/stream", params={"key": staff}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        deadline = time.monotonic() + 2 * KEEPALIVE_S  # a quiet stream still sends keepalives
        assert next(lines) == "retry: 2000"  # subscribed: whatever is fed now is streamed
        # Both inside (a ``people`` event follows a committed batch), then the rest.
        service.feed([m for m in two_shoppers if m.t < 6.0], device)
        service.feed([m for m in two_shoppers if m.t >= 6.0], device)
        for line in lines:
            if line.startswith("data: "):
                event = json.loads(line.removeprefix("data: "))
                seen.setdefault(event["type"], []).append(event)
            receipts = {e["account"] for e in seen.get("receipt", [])}
            if receipts == {"acct-a", "acct-b"} and seen.get("people"):
                break
            assert time.monotonic() < deadline, f"events so far: {sorted(seen)}"
    carts = {e["account"]: e["items"] for e in seen["cart"]}
    assert carts == {"acct-a": {"cola": 1}, "acct-b": {"chips": 1}}
    inside = seen["people"][0]["people"]
    assert sorted(p["account"] for p in inside) == ["acct-a", "acct-b"]
    assert all(len(p["pos"]) == 2 for p in inside)


def test_trace_png_of_a_review_is_drawn_from_the_log(
    service: Harness, ambiguous: list[Any]
) -> None:
    staff = service.client(service.key("staff"))
    service.feed(ambiguous, service.key("device"))

    def review() -> dict[str, Any] | None:
        return next(iter(staff.get("/v1/staff/reviews").json()), None)

    item = wait_until(review, "a review")
    r = staff.get(f"/v1/staff/reviews/{item['id']}/trace.png")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.content.startswith(PNG_MAGIC) and len(r.content) > 20_000  # axes, not a placeholder
    assert staff.get("/v1/staff/reviews/nobody:1/trace.png").status_code == 404


def test_a_trace_with_no_weight_events_is_a_small_note() -> None:
    png = render_trace(_layout(), [], [])
    assert png.startswith(PNG_MAGIC)


def _layout() -> Any:
    from tests.engine.scenes import small_store

    return small_store()
