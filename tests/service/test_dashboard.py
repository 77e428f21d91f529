"""The staff dashboard end to end: the real service, a simulated store fed over HTTP, the page
in headless Debian Chromium.

Each test starts the whole service (``RunningService``: LiveStore, SQLite log, uvicorn) on a
short seeded ``easy`` recording, opens ``/dashboard`` with a staff key and feeds the
recording's messages in store-time slices with ``POST /v1/messages``, asserting what staff see
after each slice. Nothing sleeps: every wait is Playwright's, with a deadline.

Seeds, measured with the live engine config: seed 7 holds one shopper whose receipt goes to
review (a put-back the engine is not sure of); seed 6 one shopper who takes an age-restricted
product (an ID check).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from walkout.recording.files import iter_messages, write_store
from walkout.sim import simulate
from walkout.sim.presets import BUSY
from walkout.sim.simulate import simulate_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 20_000
"""Longest any one thing may take to show on the page (the engine decides within ~2 s)."""

BATCH = 2000
"""Messages per POST (well under the service's batch_max)."""

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@dataclass
class Store:
    """A running service on a simulated recording, with keys of every role."""

    url: str
    folder: Path
    messages: list[dict[str, Any]]
    truth: dict[str, Any]
    staff: str
    device: str
    shopper: str
    sent_until: float = float("-inf")

    def feed_until(self, t: float) -> None:
        """POST every message with sent_until < t' <= t, in store-time order, as a device."""
        batch = [m for m in self.messages if self.sent_until < m["t"] <= t]
        for i in range(0, len(batch), BATCH):
            r = httpx.post(
                f"{self.url}/v1/messages",
                content=json.dumps(batch[i : i + BATCH]),
                headers={"X-API-Key": self.device, "Content-Type": "application/json"},
                timeout=30,
            )
            assert r.status_code == 202, r.text
        self.sent_until = t

    def get(self, path: str, key: str | None = None) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers={"X-API-Key": key or self.staff}, timeout=30)

    def page_url(self, key: str) -> str:
        return f"{self.url}/dashboard/?key={key}"  # as docs/dashboard.md says to open it


def _service(tmp: Path, seed: int, crowded: bool = False) -> Iterator[Store]:
    """A service on a seeded simulated recording (``easy``, or a crowded ``busy``)."""
    folder = tmp / f"sim-{seed}"
    if crowded:  # busy, with people coming in fast enough to fill the store for a picture
        cfg = BUSY.model_validate({**BUSY.model_dump(), "accounts_per_minute": 6.0})
        simulate_config(folder, cfg, seed=seed, minutes=2.5)
    else:
        simulate(folder, "easy", seed=seed, minutes=1.0)
    truth = json.loads((folder / "truth.json").read_text())
    yield from _run(
        tmp, folder, list(iter_messages(folder)), truth["receipts"][0]["account"], truth
    )


def _run(
    tmp: Path, folder: Path, msgs: list[Any], account: str, truth: dict[str, Any]
) -> Iterator[Store]:
    """The real service over ``folder``'s store, with keys of every role; ``msgs`` to feed."""
    from walkout.service.server import RunningService
    from walkout.service.settings import ServiceSettings

    # A live feed on a local network arrives in time order; the file's up-to-2-s-late lines
    # would be "too late" for the live reorder window.
    messages = sorted((m.model_dump(mode="json", exclude_none=True) for m in msgs), key=_t)
    admin = "dashboard-test-admin-key"
    settings = ServiceSettings(
        store_dir=folder,
        db_url=f"sqlite:///{folder / 'walkout.db'}",
        port=0,
        mqtt=False,
        admin_key=admin,
    )
    with RunningService(settings) as svc:

        def key(role: str, account: str | None = None) -> str:
            body = {"role": role, "name": f"test {role}", "account": account}
            r = httpx.post(
                f"{svc.url}/v1/admin/keys", json=body, headers={"X-API-Key": admin}, timeout=30
            )
            assert r.status_code == 201, r.text
            return str(r.json()["key"])

        yield Store(
            svc.url,
            folder,
            messages,
            truth,
            staff=key("staff"),
            device=key("device"),
            shopper=key("shopper", account),
        )


def _t(msg: dict[str, Any]) -> float:
    return float(msg["t"])


@pytest.fixture(scope="module")
def review_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from _service(tmp_path_factory.mktemp("dash-review"), seed=7)


@pytest.fixture(scope="module")
def id_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from _service(tmp_path_factory.mktemp("dash-id"), seed=6)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; closed before the service stops, so no event stream keeps it waiting."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"the page threw: {errors}"


def _open(page: Any, store: Store) -> None:
    page.goto(store.page_url(store.staff))
    expect(page.get_by_test_id("status")).to_have_attribute("data-state", "live", timeout=WAIT_MS)
    expect(page.get_by_test_id("store-map")).to_be_visible()
    assert "key=" not in page.url  # kept for the tab, out of the address bar and history


def _person_xy(page: Any, account: str) -> tuple[float, float]:
    dot = page.locator(f'[data-testid^="person-"][data-account="{account}"]')
    expect(dot).to_have_count(1, timeout=WAIT_MS)
    return float(dot.get_attribute("data-x")), float(dot.get_attribute("data-y"))


def test_pick_shows_in_the_cart_and_the_shopper_moves_on_the_map(
    page: Any, review_store: Store
) -> None:
    store = review_store
    _open(page, store)
    account = store.truth["receipts"][0]["account"]
    first_pick = next(e for e in store.truth["events"] if e["kind"] == "pick")

    # The shopper is in and walking, nothing taken yet.
    store.feed_until(first_pick["t"] - 3.0)
    x0, y0 = _person_xy(page, account)
    expect(page.get_by_test_id(f"cart-{account}")).to_have_count(0)

    # The shopper has walked to the shelf.
    store.feed_until(first_pick["t"] + 3.0)
    page.wait_for_function(
        """([account, x0, y0]) => {
            const sel = `[data-testid^="person-"][data-account="${account}"]`;
            const dot = document.querySelector(sel);
            return dot && Math.hypot(dot.dataset.x - x0, dot.dataset.y - y0) > 0.5;
        }""",
        arg=[account, x0, y0],
        timeout=WAIT_MS,
    )
    # The first pick shows in the open cart. A change is decided 1.5 s after the plate is
    # read still (decide_delay_s), the filtered reading comes 0.4 s late, and the feed is read
    # in 1 s chunks: 4 s after the lift is enough.
    store.feed_until(first_pick["t"] + 4.0)
    item = page.get_by_test_id(f"cart-item-{account}-{first_pick['sku']}")
    expect(item).to_be_visible(timeout=WAIT_MS)
    expect(item).to_have_attribute("data-qty", str(first_pick["qty"]))
    expect(page.get_by_test_id(f"stock-row-{first_pick['plate']}")).to_be_visible()
    expect(page.get_by_test_id("count-carts")).to_have_text("1 cart")


def test_a_review_is_resolved_from_the_page(page: Any, review_store: Store) -> None:
    store = review_store
    _open(page, store)
    store.feed_until(store.messages[-1]["t"])
    truth = store.truth["receipts"][0]
    account = truth["account"]

    card = page.locator(f'[data-testid^="review-"][data-account="{account}"]')
    expect(card).to_have_count(1, timeout=WAIT_MS)
    review_id = card.get_attribute("data-testid").removeprefix("review-")
    # The weight trace of the doubtful event is drawn from the log.
    trace = page.get_by_test_id(f"review-trace-{review_id}")
    trace.scroll_into_view_if_needed()
    page.wait_for_function(
        "(el) => el.complete && el.naturalWidth > 200", arg=trace.element_handle(), timeout=WAIT_MS
    )
    # Staff set the quantities to what the shopper really took, and resolve.
    for sku, n in truth["items"].items():
        qty = page.get_by_test_id(f"review-qty-{review_id}-{sku}")
        if qty.count() == 0:
            page.get_by_test_id(f"review-add-{review_id}").select_option(sku)
        qty.fill(str(n))
    for box in page.locator(f'[data-testid^="review-qty-{review_id}-"]').all():
        sku = box.get_attribute("data-sku")
        if sku not in truth["items"]:
            box.fill("0")
    page.get_by_test_id(f"review-resolve-{review_id}").click()
    expect(card).to_have_count(0, timeout=WAIT_MS)
    expect(page.get_by_test_id("reviews-count")).to_have_text("0")

    receipts = {r["session_id"]: r for r in store.get("/v1/staff/receipts").json()}
    assert receipts[review_id]["items"] == truth["items"]
    assert receipts[review_id]["status"] == "charged"
    expect(page.get_by_test_id(f"receipt-{review_id}")).to_contain_text("charged")


def test_an_id_check_is_confirmed_from_the_page(page: Any, id_store: Store) -> None:
    store = id_store
    _open(page, store)
    store.feed_until(store.messages[-1]["t"])
    account = store.truth["receipts"][0]["account"]

    card = page.locator(f'[data-testid^="id-check-"][data-account="{account}"]')
    expect(card).to_have_count(1, timeout=WAIT_MS)
    check_id = card.get_attribute("data-testid").removeprefix("id-check-")
    page.get_by_test_id(f"id-check-confirm-{check_id}").click()
    expect(card).to_have_count(0, timeout=WAIT_MS)

    checks = {c["id"]: c for c in store.get("/v1/staff/id-checks").json()}
    assert checks[check_id]["status"] == "confirmed"
    receipt = next(r for r in store.get("/v1/staff/receipts").json() if r["account"] == account)
    assert receipt["status"] == "charged"


def test_an_id_check_removes_the_item_from_the_page(
    page: Any, tmp_path: Path, beer: list[Any]
) -> None:
    """The core's ``beer`` scene: acct-c takes a cola and a beer; staff remove the beer."""
    from tests.engine.scenes import small_store

    write_store(tmp_path, small_store())
    for store in _run(tmp_path, tmp_path, beer, "acct-c", {}):
        _open(page, store)
        store.feed_until(store.messages[-1]["t"])
        card = page.locator('[data-testid^="id-check-"][data-account="acct-c"]')
        expect(card).to_contain_text("Beer", timeout=WAIT_MS)
        check_id = card.get_attribute("data-testid").removeprefix("id-check-")
        page.get_by_test_id(f"id-check-remove-{check_id}").click()
        expect(card).to_have_count(0, timeout=WAIT_MS)
        receipt = page.locator('[data-testid^="receipt-acct-c"]')
        expect(receipt).to_contain_text("charged", timeout=WAIT_MS)
        expect(receipt).not_to_contain_text("Beer")
        charged = store.get("/v1/staff/receipts").json()
        assert [(r["items"], r["status"]) for r in charged] == [({"cola": 1}, "charged")]
        page.context.close()


def test_a_shopper_key_opens_nothing(page: Any, review_store: Store) -> None:
    store = review_store
    page.goto(store.page_url(store.shopper))
    expect(page.get_by_test_id("auth-error")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_test_id("status")).to_have_attribute("data-state", "denied")
    expect(page.get_by_test_id("dashboard")).to_be_hidden()

    for path in ("/v1/staff/snapshot", "/v1/staff/stream", "/v1/staff/reviews/x/trace.png"):
        by_header = store.get(path, key=store.shopper)
        by_query = httpx.get(f"{store.url}{path}?key={store.shopper}", timeout=30)
        nobody = httpx.get(f"{store.url}{path}", timeout=30)
        assert by_header.status_code == 403, path
        assert by_query.status_code == 403, path
        assert nobody.status_code == 401, path


def test_a_low_plate_and_a_misplaced_unit_show_as_restock_alerts(page: Any, tmp_path: Path) -> None:
    """On the engine tests' one-shelf store, 900 g per plate: acct-m takes a cola (the cola
    plate drops to 1.4 units: low) and sets it down on the chips plate (misplaced)."""
    from tests.engine.scenes import Scene, small_store

    layout = small_store()
    write_store(tmp_path, layout)
    scene = Scene(layout, seed=3, initial_g=900.0)
    stops = [(1.0, 4.0, 7.0), (2.2, 8.0, 11.0)]
    scene.shopper("tm", "acct-m", 2.0, stops, reaches=[(0, 4.8, 6.2), (3, 8.8, 10.2)])
    scene.pick(0, 5.5, 368.0)
    scene.put(3, 9.5, 368.0)
    for store in _run(tmp_path, tmp_path, scene.build(20.0), "acct-m", {}):
        _open(page, store)
        expect(page.get_by_test_id("stock-row-S1-P1")).not_to_have_attribute("data-state", "low")
        store.feed_until(20.0)
        restock = page.get_by_test_id("alert-restock-S1-P1")
        expect(restock).to_contain_text("Cola: 1 left", timeout=WAIT_MS)
        expect(page.get_by_test_id("stock-row-S1-P1")).to_have_attribute("data-state", "low")
        misplaced = page.get_by_test_id("alert-misplaced-S1-P4-0")
        expect(misplaced).to_contain_text("Cola")
        expect(misplaced).to_contain_text("where Chips belongs")
        expect(page.get_by_test_id("misplaced-mark-S1-P4")).to_have_count(1)
        expect(page.get_by_test_id("stock-status-S1-P4")).to_contain_text("misplaced: Cola")
        page.context.close()


SHOT = os.environ.get("WALKOUT_DASHBOARD_SHOT")


@pytest.mark.skipif(not SHOT, reason="makes docs/dashboard.png; set WALKOUT_DASHBOARD_SHOT")
def test_docs_screenshot(page: Any, tmp_path: Path) -> None:
    """``WALKOUT_DASHBOARD_SHOT=docs/dashboard.png pytest tests/service/test_dashboard.py -k docs``

    A crowded busy store 45 s in (seed 2): three shoppers inside, two receipts in review.
    """
    assert SHOT
    for store in _service(tmp_path, seed=2, crowded=True):
        _open(page, store)
        store.feed_until(45.0)
        expect(page.locator('[data-testid^="review-"][data-account]')).to_have_count(2)
        expect(page.locator('[data-testid^="person-"]')).to_have_count(3, timeout=WAIT_MS)
        for img in page.locator('img[data-testid^="review-trace-"]').all():
            img.scroll_into_view_if_needed()
            page.wait_for_function(
                "(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle()
            )
        page.evaluate("document.querySelectorAll('.list').forEach((l) => { l.scrollTop = 0; })")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=SHOT, full_page=True)
        page.context.close()
