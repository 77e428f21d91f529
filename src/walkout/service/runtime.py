"""The live store: one ingestor thread logs every message, then feeds the engine in log order.

Order of work for each batch: validate (callers), append to the log and commit, acknowledge
(resolve the submitters' futures), feed the engine, act on what it returns (carts, receipts,
charges, events). Because the engine only ever sees the log, in log order, a restart that
replays the log through a fresh engine reaches exactly the same state; the ledger's idempotency
keys make the charges of that replay no-ops.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from walkout.engine import CartChange, Engine, FinalReceipt, StoreAlert
from walkout.engine.engine import Output
from walkout.recording.files import AnyMessage, read_store
from walkout.recording.models import EntryMsg, TrackMsg
from walkout.service import db
from walkout.service.auth import EntryTokens, KeyStore
from walkout.service.db import make_engine
from walkout.service.events import Hub, Subscription
from walkout.service.ledger import SqlLedger
from walkout.service.log import MessageLog
from walkout.service.messages import (
    Checker,
    ClockTick,
    LoggedMessage,
    ParsedBatch,
    StoreClock,
    parse_batch,
)
from walkout.service.sessions import Sessions
from walkout.service.settings import ServiceSettings

log = logging.getLogger(__name__)

PEOPLE_EVERY_S = 0.2
QUIET_CHECK_S = 0.25
"""How often (wall time) an idle ingestor asks whether the store clock must move on."""

QUIET_TICKS_FOR_S = 120.0
"""How long a quiet spell is ticked through: long enough for every timer of the engine
(receipts of the unseen close after 30 s), short enough that a store closed overnight does
not fill the log with ticks."""
"""Wall-clock gap between two ``people`` events (at most 5 a second for the dashboard)."""


class Overloaded(RuntimeError):
    """The ingest queue is full: the caller should retry later (HTTP 503, MQTT no ack)."""


def submit_when_room(
    submit: Callable[[], Future[list[int]]], deadline: float, stopping: Callable[[], bool]
) -> Future[list[int]]:
    """``submit()``, tried again with a growing pause while the store is full (``Overloaded``)
    until the ``time.monotonic()`` ``deadline`` or ``stopping()``; then Overloaded is raised.
    For the MQTT bridge, which holds its reading (the broker keeps the backlog) instead of
    refusing a payload the way HTTP does."""
    pause = 0.005
    while True:
        try:
            return submit()
        except Overloaded:
            if stopping() or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(2 * pause, 0.25)


@dataclass(slots=True)
class _Job:
    msgs: list[LoggedMessage]
    source: str
    future: Future[list[int]]
    bodies: list[bytes] | None = None  # the messages' log JSON, when the caller has it


class LiveStore:
    """Owns the engine, the log and the derived state; the transports only submit to it."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.layout = read_store(settings.store_dir)
        self.store_id = self.layout.store_id
        self.config = settings.engine_config()
        self.clock = StoreClock(settings.max_ahead_s)
        self.checker = Checker(self.layout, self.clock)
        self.db = make_engine(settings.db_url)
        self.log = MessageLog(self.db)
        self.keys = KeyStore(self.db)
        self.tokens = EntryTokens(self.db, settings.token_ttl_s)
        self.ledger = SqlLedger(self.db, self.layout.currency)
        self.hub = Hub(settings.subscriber_queue)
        self.lock = threading.RLock()  # guards the engine and everything derived from it
        self.engine = Engine(self.layout, self.config)
        self.sessions = Sessions(
            self.layout, self.ledger, self.db, self.hub.publish, self.config.review_below
        )
        self.alerts: deque[dict[str, Any]] = deque(maxlen=200)
        self.fed_seq = 0
        self.clock_ticks = 0  # of the log's lines, those the service wrote (ClockTick)
        self.rejected = 0
        self.generated_admin_key: str | None = None
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._queued = 0  # messages waiting for the log (back-pressure and health)
        self._queued_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._links_down: set[str] = set()  # transports that lost their connection
        self._link_drops = 0  # connections lost since start
        self._heard_at_drops: int | None = None  # _link_drops when a device was last heard
        self._last_people = 0.0
        self._want_people = False  # a track moved since the last ``people`` event

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Bootstrap the admin key, rebuild from the log, start the ingestor thread."""
        self.generated_admin_key = self.keys.ensure_admin(self.settings.admin_key)
        newest = self.log.newest()
        if newest is not None:
            self.clock.advance(*newest)
        started = time.perf_counter()
        with self.lock:
            self.sessions.load_decisions()
            for seq, msg in self.log.iter_from(1):
                self._feed_logged(seq, msg)
        log.info(
            "rebuilt %d messages from the log in %.2f s",
            self.fed_seq,
            time.perf_counter() - started,
        )
        self._thread = threading.Thread(target=self._run, name="walkout-ingestor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish what was queued, then stop the ingestor (the engine is not finished: the
        store goes on when the service comes back)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None
        self.hub.close_all()
        self.db.dispose()

    # -- transports' entry points (thread-safe) ---------------------------------------------

    def parse(self, data: bytes, where: str) -> ParsedBatch:
        """Parse a payload against this store's layout (shelves and gates must exist)."""
        return parse_batch(data, where, self.checker)

    def submit(
        self, msgs: list[AnyMessage], source: str, bodies: list[bytes] | None = None
    ) -> Future[list[int]]:
        """Queue validated messages; the future gives their log seqs once committed.

        ``bodies``, when given, are the messages' ``model_dump_json()`` (the MQTT bridge's
        process sends them so), logged as they are instead of dumped again.
        """
        fut: Future[list[int]] = Future()
        if not msgs:
            fut.set_result([])
            return fut
        if self._thread is None:
            raise RuntimeError("the store is not running")
        with self._queued_lock:
            if self._queued + len(msgs) > self.settings.queue_max:
                raise Overloaded(f"{self._queued} messages already wait for the log")
            self._queued += len(msgs)
        self._queue.put(_Job(list(msgs), source, fut, bodies))
        return fut

    def reject(self, source: str, where: str, error: str, raw: bytes) -> None:
        """Record a rejected payload in the dead-letter table and the log; never raises."""
        self.rejected += 1
        log.warning("rejected %s: %s", where, error)
        try:
            with self.db.begin() as conn:
                conn.execute(
                    insert(db.dead_letters),
                    [
                        {
                            "at": time.time(),
                            "source": source[:200],
                            "where": where[:300],
                            "error": error,
                            "raw": bytes(raw[:65536]),
                        }
                    ],
                )
        except Exception:  # the dead letter is best effort; the log line above is not
            log.exception("could not store a dead letter from %s", where)

    def feed_link(self, name: str, up: bool) -> None:
        """A transport (MQTT) reports its connection. While one is down, or once one went down
        during a quiet spell, the store clock is not ticked on: the broker holds what devices
        send meanwhile, and it must not arrive too late."""
        if up:
            self._links_down.discard(name)
        else:
            self._links_down.add(name)
            self._link_drops += 1

    def subscribe(self, account: str | None, kinds: frozenset[str] | None = None) -> Subscription:
        """Live events of one account (or all, for staff), on the caller's event loop;
        ``kinds`` keeps only those event types (a receipts pump needs no positions)."""
        return self.hub.subscribe(account, kinds)

    # -- staff decisions (thread-safe; raise Conflict when they cannot apply) -----------------

    def resolve_review(self, review_id: str, items: dict[str, int], staff: str) -> dict[str, Any]:
        """Fix a held receipt's items; it is charged at once (unless an ID check is open)."""
        with self.lock:
            return self.sessions.resolve(review_id, items, staff)

    def decide_id_check(self, check_id: str, decision: str, staff: str) -> dict[str, Any]:
        """``confirmed`` keeps the item; ``removed`` takes it off the receipt."""
        with self.lock:
            return self.sessions.decide(check_id, decision, staff)

    def refund(self, session_id: str, amount: Decimal, key: str) -> dict[str, Any]:
        """Money back on a charged session; ``key`` makes a retried request a no-op."""
        with self.lock:
            return self.sessions.refund(session_id, amount, key)

    def reviews(self) -> list[dict[str, Any]]:
        with self.lock:
            return self.sessions.review_views()

    def id_checks(self) -> list[dict[str, Any]]:
        with self.lock:
            return [c.view() for c in self.sessions.checks.values()]

    # -- reads (thread-safe) ------------------------------------------------------------------

    def cart(self, account: str) -> dict[str, Any]:
        with self.lock:
            return self.sessions.cart_view(account, self.engine.carts.get(account))

    def receipts(self, account: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return self.sessions.receipt_views(account)

    def health(self) -> dict[str, Any]:
        stats = self.engine.buffer.stats
        return {
            "ok": self._thread is not None and self._thread.is_alive(),
            "store_id": self.store_id,
            "log_length": len(self.log),
            "clock_ticks": self.clock_ticks,
            "fed_seq": self.fed_seq,
            "queued": self._queued,
            "engine_t": self.engine.now if self.engine.now > float("-inf") else None,
            "rejected": self.rejected,
            "too_late": stats.too_late,
            "taken_late": stats.taken_late,
            "weights_taken_late": stats.weights_taken_late,
            "duplicates": stats.duplicates,
            "links_down": sorted(self._links_down),  # transports (mqtt) cut off from devices
        }

    def snapshot(self) -> dict[str, Any]:
        """The dashboard's whole picture (shape in docs/service-design.md)."""
        with self.lock:
            return self._snapshot()

    # -- the ingestor -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=QUIET_CHECK_S)
            except queue.Empty:
                job = self._quiet_tick()
                if job is None:
                    continue
            if job is None:
                return
            jobs = [job]
            n = len(job.msgs)
            stop = False
            linger_until = time.monotonic() + self.settings.commit_linger_s
            while n < self.settings.batch_max:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    # group commit: a small batch waits a moment for the next payloads
                    wait = linger_until - time.monotonic()
                    if n >= self.settings.batch_max // 10 or wait <= 0:
                        break
                    try:
                        more = self._queue.get(timeout=wait)
                    except queue.Empty:
                        break
                if more is None:
                    stop = True
                    break
                jobs.append(more)
                n += len(more.msgs)
            try:
                self._ingest(jobs)
            except Exception:  # keep ingesting: what was logged is safe, the rest is retried
                log.exception("ingestor step failed")
            if stop:
                return

    def _quiet_tick(self) -> _Job | None:
        """A clock tick when no message came for ``quiet_clock_s``: store time goes on with
        wall time (less that margin), so receipts due by then come out with no reading to
        carry them. Logged, so a rebuild ticks where the live run did. Only on a clock heard
        in this process's life, with every link up since: after a restart or a cut, the
        devices' backlog sets the clock first."""
        if self._links_down or self._heard_at_drops != self._link_drops:
            return None  # a link is (or was) cut, or nothing heard since start: a backlog may come
        quiet = self.clock.quiet_for(time.time())
        if quiet is None:
            return None
        newest_t, waited = quiet
        lag = self.settings.quiet_clock_s
        if not lag <= waited <= lag + QUIET_TICKS_FOR_S:
            return None
        return _Job([ClockTick(t=newest_t + waited - lag)], "service:clock", Future())

    def _ingest(self, jobs: list[_Job]) -> None:
        pairs = [(m, j.source) for j in jobs for m in j.msgs]
        bodies = [b for j in jobs for b in (j.bodies or [None] * len(j.msgs))]
        # the devices' times: ticks follow the devices' clock (they do not set it) and never
        # went through submit()'s queue count
        heard = [m.t for m, _ in pairs if not isinstance(m, ClockTick)]
        queued = len(heard)
        try:
            seqs = self.log.append(pairs, bodies)
        except Exception as exc:
            log.exception("log append failed; %d messages not accepted", len(pairs))
            self._dequeued(queued)
            for j in jobs:
                j.future.set_exception(exc)
            return
        self._dequeued(queued)
        if heard:
            self.clock.advance(max(heard), time.time())
            self._heard_at_drops = self._link_drops
        i = 0
        for j in jobs:
            j.future.set_result(seqs[i : i + len(j.msgs)])
            i += len(j.msgs)
        with self.lock:
            for seq, (msg, _) in zip(seqs, pairs, strict=True):
                self._feed_logged(seq, msg)
        self._maybe_people()

    def _dequeued(self, n: int) -> None:
        with self._queued_lock:
            self._queued -= n

    def _feed_logged(self, seq: int, msg: LoggedMessage) -> None:
        """Feed one logged message, live or in a rebuild alike; callers hold the lock."""
        try:
            self._feed(seq, msg)
        except Exception:  # one bad step must not stop the store; the message stays logged
            log.exception("engine failed on log seq %d", seq)
        self.fed_seq = seq

    def _feed(self, seq: int, msg: LoggedMessage) -> None:
        """Feed one logged message; callers hold the lock."""
        if isinstance(msg, ClockTick):
            self.clock_ticks += 1
            outputs: list[Output] = self.engine.advance_to(msg.t)
        else:
            if isinstance(msg, EntryMsg):
                self.sessions.on_entry(msg.account, seq, msg.t)
            outputs = self.engine.feed(msg)
        for out in outputs:
            if isinstance(out, CartChange):
                self.sessions.on_change(out, self.engine.carts.get(out.account), seq)
            elif isinstance(out, FinalReceipt):
                self.sessions.on_receipt(out, seq)
            elif isinstance(out, StoreAlert):
                alert = {
                    "type": "alert",
                    "account": None,
                    "t": out.t,
                    "kind": out.kind,
                    "message": out.message,
                }
                self.alerts.append(alert)
                self.hub.publish(alert, True)
        if isinstance(msg, TrackMsg) and self.hub.has_staff():
            self._want_people = True

    def _maybe_people(self) -> None:
        now = time.monotonic()
        if not self._want_people or now - self._last_people < PEOPLE_EVERY_S:
            return
        with self.lock:
            people = engine_floor(self.engine)[0]
        self._want_people = False
        self._last_people = now
        self.hub.publish({"type": "people", "account": None, "people": people}, True)

    def _snapshot(self) -> dict[str, Any]:
        people, plates = engine_floor(self.engine)
        carts = [
            self.sessions.cart_view(account, cart) for account, cart in self.engine.carts.items()
        ]
        return {
            "store_id": self.store_id,
            "t": self.engine.now if self.engine.now > float("-inf") else None,
            "layout": {
                "plates": [p.model_dump(mode="json") for p in self.layout.plates],
                "gates": [g.model_dump(mode="json") for g in self.layout.gates],
            },
            "products": {
                p.sku: {
                    "name": p.name,
                    "price": str(p.price),
                    "age_restricted": p.age_restricted,
                    "weight_g": p.weight_g,
                }
                for p in self.layout.products
            },
            "people": people,
            "plates": plates,
            "carts": carts,
            "reviews": self.sessions.review_views(),
            "id_checks": [c.view() for c in self.sessions.checks.values()],
            "alerts": list(self.alerts),
        }


LOW_UNITS = 2.0
"""A plate with fewer planogram units than this shows as low (restock)."""


def engine_floor(engine: Engine) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """People and plates from ``Engine.snapshot()``, in the dashboard's JSON shape."""
    snap = engine.snapshot()
    people = [
        {
            "pid": p.pid,
            "account": p.account,
            "pos": list(p.pos),
            "hands": [list(h) for h in p.hands],
            "seen_t": p.seen_t,
        }
        for p in snap.people
    ]
    plates = [
        {
            "id": v.plate,
            "shelf": v.shelf,
            "counts": v.counts,
            "level_g": v.level_g,
            "low": v.units < LOW_UNITS,
            "misplaced": [{"sku": u.sku, "g": u.weight_g} for u in v.loose if u.misplaced],
            "loose": [
                {"uid": u.uid, "sku": u.sku, "g": u.weight_g, "misplaced": u.misplaced}
                for u in v.loose
            ],
        }
        for v in snap.plates
    ]
    return people, plates
