"""The MQTT bridge in a process of its own, so that the network client and the engine do not
take turns on one interpreter lock.

Why: paho's client is pure Python. In ``bench/live_load.py`` (2,000 payloads a second) the
bridge's thread held the GIL 46 % of the time and the ingestor, which logs and feeds the
engine, spent two thirds of its time waiting for it (py-spy, session 13); in the store's busy
minutes the log fell 6 s behind the devices, and every receipt waited that long.

The child process runs the very same :class:`~walkout.service.mqtt.MqttBridge` (topics, dead
letters, manual acks after the commit, reconnects) against a :class:`StoreLink`, a
``StoreLike`` whose ``submit`` sends the validated messages' JSON down a pipe. The parent's
:class:`BridgeProcess` logs them through ``LiveStore.submit`` and answers once they are
committed; only then does the child ack them to the broker. Receipts go the other way: the
parent's :class:`~walkout.service.mqtt.ReceiptPump` hands each to the child to publish.

If the parent dies, the child's end of the pipe closes and it leaves without acking what was not
answered, so the broker keeps it for the next start. If the child dies, the parent starts
another; the broker hands the new one whatever the old one had not acked.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing as mp
import signal
import threading
import time
from concurrent.futures import Future
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walkout.recording.files import read_store, validate_line
from walkout.service.heap import freeze_startup_heap
from walkout.service.messages import Checker, StoreClock
from walkout.service.mqtt import AnyMessage, MqttBridge, ReceiptPump

if TYPE_CHECKING:
    from walkout.service.runtime import LiveStore

log = logging.getLogger(__name__)

RESTART_AFTER_S = 1.0
"""Pause before a bridge process that died is started again."""

START_TIMEOUT_S = 30.0
"""How long a new bridge process may take to import, connect and subscribe."""


# --- the child -------------------------------------------------------------------------------


class StoreLink:
    """What the bridge sees of the store in the child: submits and rejects go down the pipe.

    The store clock that bounds a message's ``t`` is the parent's; the child keeps a copy that
    every commit answer brings up to date (a copy a little behind only allows less).
    """

    def __init__(self, conn: Connection, store_dir: Path, max_ahead_s: float) -> None:
        layout = read_store(store_dir)
        self.store_id = layout.store_id
        self.clock = StoreClock(max_ahead_s)
        self.checker = Checker(layout, self.clock)
        self._conn = conn
        self._send_lock = threading.Lock()
        self._tokens = itertools.count(1)
        self._waiting: dict[int, Future[list[int]]] = {}
        self._waiting_lock = threading.Lock()

    def send(self, item: tuple[Any, ...]) -> None:
        with self._send_lock:
            self._conn.send(item)

    def submit(self, msgs: list[AnyMessage], source: str) -> Future[list[int]]:
        fut: Future[list[int]] = Future()
        token = next(self._tokens)
        with self._waiting_lock:
            self._waiting[token] = fut
        self.send(("submit", token, source, [m.model_dump_json().encode() for m in msgs]))
        return fut

    def reject(self, source: str, where: str, error: str, raw: bytes) -> None:
        self.send(("reject", source, where, error, bytes(raw)))

    def subscribe(self, account: str | None, kinds: frozenset[str] | None = None) -> Any:
        raise NotImplementedError("receipts are pumped by the parent (BridgeProcess)")

    def feed_link(self, name: str, up: bool) -> None:
        self.send(("link", name, up))

    def serve(self, bridge: MqttBridge) -> None:
        """Answer the parent until it goes away. Its "close" is done beside this loop, which
        must go on reading: the bridge drains by waiting for the answers of what it sent."""
        closer: threading.Thread | None = None
        while True:
            try:
                item = self._conn.recv()
            except (EOFError, OSError):
                if closer is None:
                    log.error("the service process is gone; the MQTT bridge stops unacked")
                    self._fail_waiting("the service process is gone")
                else:
                    closer.join()
                return
            kind = item[0]
            if kind == "done":
                _, token, error, clock = item
                if clock is not None:
                    self.clock.advance(*clock)
                with self._waiting_lock:
                    fut = self._waiting.pop(token, None)
                if fut is None:
                    continue
                if error is None:
                    fut.set_result([])
                else:
                    fut.set_exception(RuntimeError(error))
            elif kind == "publish":
                bridge.publish_receipt(item[1], item[2])
            elif kind == "close" and closer is None:
                closer = threading.Thread(
                    target=self._close, args=(bridge, float(item[1])), name="mqtt-close"
                )
                closer.start()

    def _close(self, bridge: MqttBridge, drain_s: float) -> None:
        bridge.close(drain_s)
        with contextlib.suppress(OSError, ValueError):
            self.send(("closed", bridge.stats.as_dict()))

    def _fail_waiting(self, why: str) -> None:
        with self._waiting_lock:
            waiting, self._waiting = self._waiting, {}
        for fut in waiting.values():
            fut.set_exception(RuntimeError(why))


def _child_main(
    conn: Connection,
    store_dir: str,
    url: str,
    client_id: str | None,
    max_ahead_s: float,
    log_level: int,
) -> None:
    """The bridge process: connect, say "up" (or why not), serve the pipe, close.

    Ctrl-C and a service manager's SIGTERM reach the whole process group; the child ignores
    them and leaves when the service closes it (draining its acks) or its pipe ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    link = StoreLink(conn, Path(store_dir), max_ahead_s)
    bridge = MqttBridge(link, url, client_id=client_id, publish_receipts=False)
    try:
        bridge.start()
    except Exception as exc:  # the parent raises it where the service starts
        why = str(exc) if isinstance(exc, ConnectionError) else f"{type(exc).__name__}: {exc}"
        link.send(("failed", why))
        return
    freeze_startup_heap()
    link.send(("up",))
    link.serve(bridge)


# --- the parent ------------------------------------------------------------------------------


class BridgeProcess:
    """Runs :class:`MqttBridge` in a child process for ``store``; same ``close()`` as it.

    ``stats`` is the last child's ``BridgeStats`` as it closed (``as_dict()``), and
    ``restarts`` counts the children started again after one died.
    """

    def __init__(
        self,
        store: LiveStore,
        url: str,
        client_id: str | None = None,
        publish_receipts: bool = True,
        max_block_s: float = 15.0,
    ) -> None:
        self.store = store
        self.url = url
        self.client_id = client_id
        self.publish_receipts = publish_receipts
        self.max_block_s = max_block_s
        self.stats: dict[str, int] = {}
        self.restarts = 0
        self._ctx = mp.get_context("spawn")  # no fork of a process with threads
        self._conn: Connection | None = None
        self._proc: mp.process.BaseProcess | None = None
        self._send_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._receipts: ReceiptPump | None = None
        self._closing = False

    @property
    def pid(self) -> int | None:
        """The bridge process now running (a new one after a restart)."""
        return self._proc.pid if self._proc is not None else None

    def start(self, timeout_s: float = START_TIMEOUT_S) -> BridgeProcess:
        """Start the child and wait until it is connected and subscribed (or raise why not)."""
        self._spawn(timeout_s)
        self._reader = threading.Thread(target=self._read, name="mqtt-process", daemon=True)
        self._reader.start()
        if self.publish_receipts:
            self._receipts = ReceiptPump(self.store, self._publish).start()
        return self

    def close(self, drain_s: float = 5.0) -> None:
        """Have the child ack what is being committed (up to ``drain_s``) and disconnect."""
        self._closing = True
        if self._receipts is not None:
            self._receipts.stop()
        with contextlib.suppress(OSError, ValueError):
            self._send(("close", drain_s))
        if self._reader is not None:
            self._reader.join(drain_s + 10.0)
        if self._conn is not None:
            self._conn.close()  # the child leaves on this end of the pipe
        if self._proc is not None:
            self._proc.join(5.0)
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(5.0)

    # -- the child's life --------------------------------------------------------------------

    def _spawn(self, timeout_s: float) -> None:
        ours, theirs = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_child_main,
            args=(
                theirs,
                str(self.store.settings.store_dir),
                self.url,
                self.client_id,
                self.store.settings.max_ahead_s,
                logging.getLogger().getEffectiveLevel(),
            ),
            name="walkout-mqtt",
            daemon=True,
        )
        proc.start()
        theirs.close()  # the child holds it now: EOF here when the child is gone
        deadline = time.monotonic() + timeout_s
        while True:  # link reports may come before "up"
            if not ours.poll(max(deadline - time.monotonic(), 0.0)):
                proc.kill()
                raise ConnectionError(f"the MQTT bridge process did not start in {timeout_s} s")
            try:
                item = ours.recv()
            except EOFError:
                proc.join(5.0)
                raise ConnectionError(
                    f"the MQTT bridge process ended at start (exit code {proc.exitcode})"
                ) from None
            if item[0] == "up":
                break
            if item[0] == "failed":
                proc.join(5.0)
                raise ConnectionError(str(item[1]))
            self._handle(ours, item)
        self._conn, self._proc = ours, proc

    def _read(self) -> None:
        """Serve the child's requests; start a new child if this one dies."""
        while True:
            conn = self._conn
            assert conn is not None
            try:
                item = conn.recv()
            except (EOFError, OSError):
                if self._closing:
                    return
                self._restart()
                continue
            try:
                self._handle(conn, item)
            except Exception:  # one bad request must not stop the bridge
                log.exception("the MQTT bridge process's request %r failed", item[0])
            if item[0] == "closed":
                return

    def _restart(self) -> None:
        if self._proc is not None:
            self._proc.join(1.0)  # its pipe ends a moment before it is reaped
        code = self._proc.exitcode if self._proc is not None else None
        log.error("the MQTT bridge process died (exit code %s); starting another", code)
        self.store.feed_link("mqtt", False)
        while not self._closing:
            time.sleep(RESTART_AFTER_S)
            try:
                self._spawn(START_TIMEOUT_S)
            except Exception:
                log.exception("could not start the MQTT bridge process again")
                continue
            self.restarts += 1
            return

    def _handle(self, conn: Connection, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "submit":
            _, token, source, bodies = item
            self._submit(conn, token, source, bodies)
        elif kind == "reject":
            self.store.reject(*item[1:])
        elif kind == "link":
            self.store.feed_link(item[1], item[2])
        elif kind == "closed":
            self.stats = item[1]

    def _submit(self, conn: Connection, token: int, source: str, bodies: list[bytes]) -> None:
        """Log the child's messages; answer when committed (with the store clock), or why not.

        A full queue is waited out here, up to ``max_block_s``: the child's bridge then stops
        reading, and the backlog waits in the broker, in order (see ``MqttBridge._submit``).
        """
        from walkout.service.runtime import Overloaded, submit_when_room

        msgs = [validate_line(b) for b in bodies]
        try:
            fut = submit_when_room(
                lambda: self.store.submit(msgs, source, bodies),
                time.monotonic() + self.max_block_s,
                lambda: self._closing,
            )
        except Overloaded as exc:
            self._answer(conn, token, str(exc))
            return
        except Exception as exc:
            self._answer(conn, token, f"{type(exc).__name__}: {exc}")
            return

        def done(f: Future[list[int]]) -> None:
            error = None if f.exception() is None else str(f.exception())
            self._answer(conn, token, error)

        fut.add_done_callback(done)

    def _answer(self, conn: Connection, token: int, error: str | None) -> None:
        """Answer on the pipe the request came on; a child that died since gets nothing (the
        broker resends its unacked messages to the next), and the next, counting its tokens
        from 1 again, never gets an answer meant for another."""
        if conn is not self._conn:
            return
        with contextlib.suppress(OSError, ValueError):
            self._send(("done", token, error, self.store.clock.state()))

    def _publish(self, topic: str, payload: bytes) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._send(("publish", topic, payload))

    def _send(self, item: tuple[Any, ...]) -> None:
        conn = self._conn
        if conn is None:
            raise OSError("no MQTT bridge process")
        with self._send_lock:
            conn.send(item)
