"""The staff dashboard's routes: one snapshot, a live event stream, and review trace pictures.

The browser page (``web/dashboard.html``) reads the snapshot once, then keeps itself current
from the server-sent event stream; EventSource cannot set headers, so every route here takes
the staff key from ``X-API-Key`` or from ``?key=``. Trace pictures are drawn from the durable
log, so a review shows exactly the readings the engine decided from, even after a restart.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Protocol
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from walkout.engine.cart import CartChange, WeightEvent
from walkout.explain import PLOT_MARGIN_S, plot_changes
from walkout.recording.files import EventsWriter, write_store
from walkout.recording.models import StoreLayout, TrackMsg, WeightMsg
from walkout.service.auth import Principal, principal_of

KEEPALIVE_S = 15.0
"""Seconds between comment lines on a quiet stream, so proxies and browsers keep it open."""

RETRY_MS = 2000
"""How soon a browser reconnects after the stream drops (sent as the SSE ``retry`` field)."""

MAX_TRACE_EVENTS = 4
"""Most weight events drawn side by side in one review picture (the least sure ones)."""

SPAN_GUESS_S = 1.0
"""How long before its end an event is drawn as starting when its review gives no start."""

TRACE_CACHE = 64
"""Review pictures kept in memory; the log never changes, so neither does a picture."""

router = APIRouter(prefix="/v1/staff", tags=["staff dashboard"])


class _Store(Protocol):
    """What these routes need of ``LiveStore`` (kept narrow so the routes are easy to test)."""

    layout: StoreLayout
    log: Any
    db: Any

    def snapshot(self) -> dict[str, Any]: ...

    def subscribe(self, account: str | None) -> Any: ...

    def reviews(self) -> list[dict[str, Any]]: ...


def _store(request: Request) -> _Store:
    store: _Store = request.app.state.store
    return store


def staff_key(
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
    key: Annotated[str | None, Query(description="Staff key, for EventSource and <img>.")] = None,
) -> Principal:
    """A staff (or admin) key from the header or the query string, else 401/403."""
    principal = principal_of(request, x_api_key or key)
    if not principal.may("staff"):
        raise HTTPException(403, f"a staff key is needed; this is a {principal.role} key")
    return principal


Staff = Annotated[Principal, Depends(staff_key)]


@router.get("/snapshot")
def snapshot(request: Request, _who: Staff) -> JSONResponse:
    """The whole picture of the store now (shape in docs/service-design.md)."""
    return JSONResponse(_jsonable(_store(request).snapshot()))


@router.get("/stream")
async def stream(request: Request, _who: Staff) -> StreamingResponse:
    """Every staff event (cart, receipt, alert, review, id_check, people) as server-sent events.

    Each event is one ``data:`` line of JSON with its ``type``; the page re-reads the snapshot
    when it (re)connects, so nothing is lost across a dropped connection.
    """
    sub = _store(request).subscribe(None)
    return StreamingResponse(
        _sse(request, sub),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _sse(request: Request, sub: Any) -> AsyncIterator[str]:
    try:
        yield f"retry: {RETRY_MS}\n: walkout staff stream\n\n"
        while True:
            try:
                event = await asyncio.wait_for(sub.queue.get(), KEEPALIVE_S)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": keepalive\n\n"
                continue
            if event is None:  # the store is shutting down
                return
            yield f"data: {json.dumps(_jsonable(event), separators=(',', ':'))}\n\n"
    finally:
        sub.close()


@router.get(
    "/reviews/{review_id}/trace.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def review_trace(review_id: str, request: Request, _who: Staff) -> Response:
    """The weight trace of the review's least sure events, with shoppers' distances below."""
    store = _store(request)
    changes = _review_changes(store, review_id)
    cache_key = (review_id, tuple(c.change_id for c in changes))
    with _cache_lock:
        cache = _caches.setdefault(store, OrderedDict())
        png = cache.get(cache_key)
    if png is None:
        png = render_trace(store.layout, changes, _window_messages(store, changes))
        with _cache_lock:
            cache[cache_key] = png
            while len(cache) > TRACE_CACHE:
                cache.popitem(last=False)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


# One cache per store (a process may run several, as the tests do); gone with its store.
_caches: WeakKeyDictionary[Any, OrderedDict[tuple[str, tuple[int, ...]], bytes]] = (
    WeakKeyDictionary()
)
_cache_lock = threading.Lock()
_plot_lock = threading.Lock()  # pyplot keeps global state; one figure at a time


def _review_changes(store: _Store, review_id: str) -> list[CartChange]:
    """The doubtful cart changes of a review, least sure first, at most ``MAX_TRACE_EVENTS``.

    The review carries each change's explanation (shelf, plates, times, grams); that is all
    the picture needs, so the change is rebuilt from it rather than kept alive in memory.
    """
    review = next((r for r in store.reviews() if str(r.get("id")) == review_id), None)
    if review is None:
        raise HTTPException(404, f"no review {review_id!r}")
    changes = [_change_of(review.get("account") or "", e) for e in review.get("explanations", [])]
    chosen = sorted(changes, key=lambda c: c.confidence)[:MAX_TRACE_EVENTS]
    return sorted(chosen, key=lambda c: c.event.t_start)


def _change_of(account: str, e: dict[str, Any]) -> CartChange:
    t_end = float(e["t"])
    t_start = float(e.get("t_start", t_end - SPAN_GUESS_S))
    event = WeightEvent(
        event_id=int(e.get("change_id", 0)),
        shelf=str(e["shelf"]),
        plates=tuple(e["plates"]),
        t_start=t_start,
        t_step=float(e.get("t_step", t_start)),
        t_end=t_end,
        delta_g=tuple(float(g) for g in e["delta_g"]),
    )
    return CartChange(
        change_id=int(e.get("change_id", 0)),
        parent_id=None,
        account=account,
        kind=str(e["kind"]),
        items={str(k): int(v) for k, v in e["items"].items()},
        event=event,
        products=(),
        people=(),
        confidence=float(e.get("confidence", 1.0)),
    )


def _window_messages(store: _Store, changes: Sequence[CartChange]) -> list[WeightMsg | TrackMsg]:
    """The logged weights of each event's shelf and every track around each event."""
    out: list[WeightMsg | TrackMsg] = []
    for change in changes:
        ev = change.event
        t0, t1 = ev.t_start - PLOT_MARGIN_S, ev.t_end + PLOT_MARGIN_S
        out.extend(store.log.weights(ev.shelf, t0, t1))
        out.extend(store.log.tracks(t0, t1))
    out.sort(key=lambda m: m.t)
    return out


def render_trace(
    layout: StoreLayout, changes: Sequence[CartChange], messages: Iterable[WeightMsg | TrackMsg]
) -> bytes:
    """PNG of ``walkout explain``'s picture for these changes, drawn from these messages.

    ``plot_changes`` reads a recording folder, so the window is written as a tiny recording:
    the dashboard and ``walkout explain`` then draw the same picture from the same readings.
    """
    if not changes:
        return _placeholder("no weight events on this receipt")
    with tempfile.TemporaryDirectory(prefix="walkout-trace-") as tmp:
        folder = Path(tmp)
        write_store(folder, layout)
        seen: set[tuple[float, str, str]] = set()
        with EventsWriter(folder / "events.jsonl") as writer:
            for msg in messages:
                k = (msg.t, msg.type, msg.shelf if isinstance(msg, WeightMsg) else msg.id)
                if k not in seen:  # two events on one shelf share readings
                    seen.add(k)
                    writer.write(msg.model_dump(mode="json", exclude_none=True))
        out = folder / "trace.png"
        with _plot_lock:
            plot_changes(folder, list(changes), out)
        return out.read_bytes()


def _placeholder(text: str) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with _plot_lock:
        fig, ax = plt.subplots(figsize=(4.5, 1.2))
        ax.axis("off")
        ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, color="#6b7280")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
    return buf.getvalue()


def _jsonable(value: Any) -> Any:
    """Plain JSON types: decimals as strings (money), tuples as lists, NaN as null."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)
