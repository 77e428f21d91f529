"""The HTTP and WebSocket API of a live store (``/v1``), over one ``LiveStore``.

Every write goes through the store's ingestor and is answered only once it is in the durable
log; reads come from the store's derived state. Who may call what is decided by the API key's
role (see ``auth.py``); a shopper key only ever sees its own account.
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from walkout.recording.models import EntryMsg
from walkout.service.auth import Principal, Role, TokenError, require, shopper_account
from walkout.service.messages import ParsedBatch
from walkout.service.runtime import LiveStore, Overloaded
from walkout.service.sessions import Conflict

WEB_DIR = Path(__file__).with_name("web")

Device = Annotated[Principal, require("device")]
Shopper = Annotated[Principal, require("shopper")]
Staff = Annotated[Principal, require("staff")]
Admin = Annotated[Principal, require("admin")]


class ItemError(BaseModel):
    index: int = Field(description="Position of the bad item in the posted array (0 for one).")
    error: str = Field(description="Where and what: the item and the spec field at fault.")


class Accepted(BaseModel):
    accepted: int
    seqs: list[int] = Field(description="Log sequence numbers of the accepted messages.")
    errors: list[ItemError] = Field(default_factory=list)


class SessionRequest(BaseModel):
    party_size: int = Field(1, ge=1, le=10, description="People the token admits.")


class EntryToken(BaseModel):
    token: str = Field(description="Show it as a QR code at the entry gate.")
    expires_at: float = Field(description="Unix time after which the gate refuses it.")
    account: str
    party_size: int


class ScanRequest(BaseModel):
    token: str
    t: float = Field(allow_inf_nan=False, description="Store-clock time of the scan.")


class ScanResult(BaseModel):
    account: str
    seq: int = Field(description="Log seq of the entry message.")


class Resolution(BaseModel):
    items: dict[str, Annotated[int, Field(ge=0)]] = Field(
        description="What the customer really took: sku to quantity."
    )


class IdDecision(BaseModel):
    decision: Literal["confirmed", "removed"]


class RefundRequest(BaseModel):
    session_id: str
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    key: str = Field(
        min_length=1, max_length=100, description="Idempotency key: a retry refunds nothing more."
    )


class KeyRequest(BaseModel):
    role: Role
    name: str = Field(min_length=1, max_length=200)
    account: str | None = Field(None, min_length=1, max_length=200)


class KeyCreated(BaseModel):
    key: str = Field(description="Shown once; only its hash is stored.")
    role: Role
    name: str
    account: str | None


def _store(request: Request) -> LiveStore:
    store: LiveStore = request.app.state.store
    return store


async def _submit(store: LiveStore, msgs: list[Any], source: str) -> list[int]:
    try:
        return await asyncio.wrap_future(store.submit(msgs, source))
    except Overloaded as exc:
        raise HTTPException(503, f"busy: {exc}; retry later") from exc


def create_app(store: LiveStore) -> FastAPI:
    """The service's FastAPI app over a started ``LiveStore``."""
    app = FastAPI(title="walkout live store", version="1")
    app.state.store = store

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        """Liveness, log length and how far the engine is behind the log."""
        return store.health()

    @app.post("/v1/messages", status_code=202, response_model=Accepted)
    async def post_messages(request: Request, who: Device) -> Any:
        """Spec messages (one object or an array); answered once the good ones are logged."""
        data = await request.body()
        parsed = store.parse(data, f"POST /v1/messages by {who.name}")
        if parsed.errors:  # dead letters are database writes: off the event loop
            await asyncio.to_thread(_reject_all, store, f"http:{who.name}", parsed)
        seqs = await _submit(store, parsed.messages, f"http:{who.name}")
        body = Accepted(
            accepted=len(seqs),
            seqs=seqs,
            errors=[ItemError(index=i, error=str(e)) for i, e in parsed.errors],
        )
        if parsed.errors:
            return JSONResponse(body.model_dump(), status_code=422)
        return body

    @app.post("/v1/sessions", response_model=EntryToken)
    def new_session(body: SessionRequest, who: Shopper) -> EntryToken:
        """An entry token for the shopper's party (shown as a QR code at the gate)."""
        account = shopper_account(who)
        token, expires = store.tokens.issue(account, body.party_size)
        return EntryToken(
            token=token, expires_at=expires, account=account, party_size=body.party_size
        )

    @app.post("/v1/gates/{gate}/scan", response_model=ScanResult)
    async def scan(gate: str, body: ScanRequest, who: Device) -> ScanResult:
        """A gate read a token: log the spec's ``entry`` message for one member of its party."""
        kinds = {g.id: g.kind for g in store.layout.gates}
        if kinds.get(gate) != "entry":
            raise HTTPException(404, f"no entry gate {gate!r} in store {store.store_id!r}")
        try:
            account = await asyncio.to_thread(store.tokens.use, body.token)
        except TokenError as exc:
            raise HTTPException(409, str(exc)) from exc
        msg = EntryMsg(t=body.t, gate=gate, account=account)
        seqs = await _submit(store, [msg], f"gate:{gate}:{who.name}")
        return ScanResult(account=account, seq=seqs[0])

    @app.get("/v1/carts/me")
    def my_cart(who: Shopper) -> dict[str, Any]:
        """The shopper's cart now (empty when not in the store)."""
        return store.cart(shopper_account(who))

    @app.get("/v1/receipts/me")
    def my_receipts(who: Shopper) -> list[dict[str, Any]]:
        """The shopper's receipts, newest last, with their charge status."""
        return store.receipts(shopper_account(who))

    @app.websocket("/v1/carts/me/ws")
    async def cart_ws(ws: WebSocket) -> None:
        """The shopper's cart now, then every change of it (and its receipt) as JSON."""
        key = ws.headers.get("x-api-key") or ws.query_params.get("key")
        who = store.keys.lookup(key)
        if who is None or who.account is None or not who.may("shopper"):
            await ws.close(code=4403, reason="a shopper key is needed (X-API-Key or ?key=)")
            return
        await ws.accept()
        sub = store.subscribe(who.account)
        try:
            await ws.send_json(await asyncio.to_thread(store.cart, who.account))
            await _pump(ws, sub.queue)
        finally:
            sub.close()

    @app.get("/v1/staff/reviews")
    def reviews(who: Staff) -> list[dict[str, Any]]:
        """Receipts the engine was not sure of, with its reasons and the rival explanations."""
        return store.reviews()

    @app.post("/v1/staff/reviews/{review_id}/resolve")
    def resolve(review_id: str, body: Resolution, who: Staff) -> dict[str, Any]:
        """Fix a held receipt's items; the charge follows (once no ID check is open)."""
        try:
            return store.resolve_review(review_id, body.items, who.name)
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from exc

    @app.get("/v1/staff/id-checks")
    def id_checks(who: Staff) -> list[dict[str, Any]]:
        """Age-restricted items in carts, and what staff decided."""
        return store.id_checks()

    @app.post("/v1/staff/id-checks/{check_id}")
    def decide(check_id: str, body: IdDecision, who: Staff) -> dict[str, Any]:
        """``confirmed`` keeps the item; ``removed`` takes it off the receipt."""
        try:
            return store.decide_id_check(check_id, body.decision, who.name)
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from exc

    @app.get("/v1/staff/receipts")
    def all_receipts(who: Staff) -> list[dict[str, Any]]:
        """Every receipt since the log began, with review reasons and the engine's items."""
        return store.receipts(None)

    @app.get("/v1/staff/ledger")
    def ledger(
        who: Staff, session_id: str | None = None, account: str | None = None
    ) -> list[dict[str, Any]]:
        """Money moved: charges, refunds and adjustments (amounts signed)."""
        entries = store.ledger.entries(session_id=session_id, account=account)
        return [
            {
                "key": e.key,
                "kind": e.kind,
                "session_id": e.session_id,
                "account": e.account,
                "amount": f"{e.amount:.2f}",
                "currency": e.currency,
                "at": e.at,
            }
            for e in entries
        ]

    @app.post("/v1/staff/refunds")
    def refund(body: RefundRequest, who: Staff) -> dict[str, Any]:
        """Give money back on a charged session (returns, goodwill), once per key."""
        try:
            return store.refund(body.session_id, body.amount, body.key)
        except Conflict as exc:
            raise HTTPException(409, str(exc)) from exc

    @app.post("/v1/admin/keys", response_model=KeyCreated, status_code=201)
    def new_key(body: KeyRequest, who: Admin) -> KeyCreated:
        """A new API key (shown once). Shopper keys need the account they act for."""
        try:
            key = store.keys.create(body.role, body.name, body.account)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
        return KeyCreated(key=key, role=body.role, name=body.name, account=body.account)

    _add_dashboard(app)
    return app


def _reject_all(store: LiveStore, source: str, parsed: ParsedBatch) -> None:
    for _, err in parsed.errors:
        store.reject(source, err.where, err.what, err.raw)


async def _pump(ws: WebSocket, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
    """Send queued events until the client leaves or the store stops."""
    closed = asyncio.ensure_future(_until_closed(ws))
    try:
        while True:
            event = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({event, closed}, return_when=asyncio.FIRST_COMPLETED)
            if closed in done:
                event.cancel()
                return
            item = event.result()
            if item is None:
                await ws.close(code=1001, reason="store stopping")
                return
            await ws.send_json(item)
    finally:
        closed.cancel()


async def _until_closed(ws: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await ws.receive_text()  # shoppers send nothing; this only notices the close


def _add_dashboard(app: FastAPI) -> None:
    """Mount the staff dashboard's routes and page when that part is installed."""
    try:
        from walkout.service import staff_api
    except ImportError:
        staff_api = None  # type: ignore[assignment]
    if staff_api is not None:
        app.include_router(staff_api.router)
    if WEB_DIR.is_dir():
        app.mount("/dashboard", StaticFiles(directory=WEB_DIR, html=True), name="dashboard")
