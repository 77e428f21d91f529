"""The MQTT edge of the live service: devices' readings in, dead letters and receipts out.

Why manual acknowledgements: a shelf controller's reading is only safe once it is in the
durable log. The bridge subscribes with a persistent session and QoS 1 and sends the PUBACK for
a message only when ``LiveStore.submit``'s future says the log committed it; if the service dies
in between, the broker still holds the message for the session and delivers it again on
reconnect. A message can therefore reach the log twice (the spec allows duplicates; the engine
drops them), but never zero times.

A payload is handled as a whole: it is either logged entirely or dead-lettered entirely (with
the reason on ``walkout/{store}/deadletter``), so a device never has to guess which part of an
array got in. Nothing a device sends can stop the bridge.

Topics (store ``S``; see docs/mqtt.md):

- ``walkout/S/in/weight/{shelf}``: ``weight`` messages of that shelf
- ``walkout/S/in/track/{source}``: ``track`` messages
- ``walkout/S/in/gate/{gate}``: ``entry`` / ``exit`` messages of that gate
- ``walkout/S/deadletter``: ``{"topic", "error", "payload"}`` for each rejected payload
- ``walkout/S/out/receipts/{account}``: final receipts (service)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from walkout.recording.models import EntryMsg, ExitMsg, TrackMsg, WeightMsg
from walkout.service.messages import Checker, MessageError, parse_payload

if TYPE_CHECKING:
    from walkout.service.broker import EmbeddedBroker
    from walkout.service.mqtt_process import BridgeProcess
    from walkout.service.runtime import LiveStore
    from walkout.service.settings import ServiceSettings

log = logging.getLogger(__name__)

AnyMessage = WeightMsg | EntryMsg | TrackMsg | ExitMsg

#: Which message types each input topic kind may carry.
TOPIC_KINDS: dict[str, tuple[str, ...]] = {
    "weight": ("weight",),
    "track": ("track",),
    "gate": ("entry", "exit"),
}

#: Longest raw payload copied into a dead letter (the rest is cut, and the cut is said).
DEADLETTER_PAYLOAD_CHARS = 16_384


class StoreLike(Protocol):
    """What the bridge needs of ``walkout.service.runtime.LiveStore``."""

    store_id: str
    checker: Checker  # the same rules as HTTP: known shelves and gates, a believable t

    def submit(self, msgs: list[AnyMessage], source: str) -> Future[list[int]]: ...

    def reject(self, source: str, where: str, error: str, raw: bytes) -> None: ...

    def subscribe(self, account: str | None, kinds: frozenset[str] | None = None) -> Any: ...

    def feed_link(self, name: str, up: bool) -> None: ...


class TopicError(ValueError):
    """A payload arrived on a topic that does not agree with it."""


def parse_topic(topic: str, store_id: str) -> tuple[str, str]:
    """``walkout/{store}/in/{kind}/{name}`` -> (kind, name), or TopicError saying why not."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != "walkout" or parts[2] != "in":
        raise TopicError(f"not an input topic: expected walkout/{store_id}/in/<kind>/<name>")
    if parts[1] != store_id:
        raise TopicError(f"store {parts[1]!r} is not this store ({store_id!r})")
    kind, name = parts[3], parts[4]
    if kind not in TOPIC_KINDS:
        raise TopicError(f"unknown input kind {kind!r}; expected one of {', '.join(TOPIC_KINDS)}")
    if not name:
        raise TopicError(f"empty {kind} name in the topic")
    return kind, name


def check_topic(kind: str, name: str, msgs: list[AnyMessage]) -> None:
    """Every message must be of the topic's kind and name the topic's shelf or gate."""
    allowed = TOPIC_KINDS[kind]
    for i, msg in enumerate(msgs):
        at = f"message {i}" if len(msgs) > 1 else "message"
        if msg.type not in allowed:
            raise TopicError(f"{at}: a {msg.type!r} message on a {kind} topic")
        if isinstance(msg, WeightMsg) and msg.shelf != name:
            raise TopicError(f"{at}: shelf {msg.shelf!r} on the topic of shelf {name!r}")
        if isinstance(msg, EntryMsg | ExitMsg) and msg.gate != name:
            raise TopicError(f"{at}: gate {msg.gate!r} on the topic of gate {name!r}")


@dataclass(frozen=True, slots=True)
class MqttUrl:
    """``mqtt://user:pass@host:port`` (or ``mqtts://``) taken apart."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> MqttUrl:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, got {url!r}")
        tls = parts.scheme in ("mqtts", "ssl")
        if not parts.hostname:
            raise ValueError(f"MQTT URL has no host: {url!r}")
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


@dataclass
class BridgeStats:
    """Counters a bench or the health route can read.

    Plain ints without a lock: they are on the path of every payload, and almost each has one
    writer (paho's network thread, or the ingestor for ``messages_committed``); ``acked`` has
    two, and a rare lost increment there is an acceptable price for a statistic.
    """

    payloads: int = 0
    messages_submitted: int = 0
    messages_committed: int = 0
    acked: int = 0
    deadlettered: int = 0
    commit_failures: int = 0
    receipts_published: int = 0
    connects: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


class MqttBridge:
    """Subscribes to the store's input topics and feeds the LiveStore; acks after the commit.

    Args:
        store: The live store (``submit``, ``reject``, ``subscribe``, ``store_id``).
        url: ``mqtt://user:pass@host:port`` of the broker.
        client_id: The persistent session's name; keep it stable across restarts, or the broker
            will not hand over what arrived while the service was down.
        publish_receipts: Also publish final receipts on ``walkout/S/out/receipts/{account}``.
        receive_maximum: Messages the broker may send before the bridge acks (MQTT 5). Larger
            lets one log commit cover more messages; smaller bounds what is redelivered after a
            crash.
        session_expiry_s: How long the broker keeps the session (and queues for it) while the
            service is away.
        max_block_s: Longest the bridge holds its network thread while the store is behind
            before it gives up on a payload and reconnects (under half the 30 s keepalive).
    """

    def __init__(
        self,
        store: StoreLike,
        url: str,
        client_id: str | None = None,
        publish_receipts: bool = True,
        receive_maximum: int = 1000,
        session_expiry_s: int = 7 * 24 * 3600,
        max_block_s: float = 15.0,
    ) -> None:
        self.store = store
        self.store_id = store.store_id
        self.url = MqttUrl.parse(url)
        self.client_id = client_id or f"walkout-service-{self.store_id}"
        self.publish_receipts = publish_receipts
        self.receive_maximum = receive_maximum
        self.session_expiry_s = session_expiry_s
        self.max_block_s = max_block_s
        self.stats = BridgeStats()
        self._checker = store.checker
        self.in_topic = f"walkout/{self.store_id}/in/#"
        self.deadletter_topic = f"walkout/{self.store_id}/deadletter"
        self._connected = threading.Event()
        self._generation = 0  # bumped per connection: a stale mid is never acked
        self._gen_lock = threading.Lock()
        self._closed = False
        self._pending = 0  # payloads submitted whose commit has not come back yet
        self._idle = threading.Condition()
        self._receipts: ReceiptPump | None = None
        self.client = self._make_client()

    # --- lifecycle ---------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self.url.username is not None:
            client.username_pw_set(self.url.username, self.url.password)
        if self.url.tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def start(self, timeout_s: float = 10.0) -> MqttBridge:
        """Connect (then keep reconnecting on its own) and wait for the first CONNACK."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry_s
        props.ReceiveMaximum = self.receive_maximum
        self.client.connect_async(
            self.url.host, self.url.port, keepalive=30, clean_start=False, properties=props
        )
        self.client.loop_start()
        if not self._connected.wait(timeout_s):
            self.client.loop_stop()
            raise ConnectionError(
                f"could not connect to the MQTT broker at {self.url.host}:{self.url.port} "
                f"in {timeout_s} s"
            )
        if self.publish_receipts:
            self._start_receipts()
        return self

    def close(self, drain_s: float = 5.0) -> None:
        """Ack what is being committed (up to ``drain_s``), stop the receipt pump, disconnect.

        Draining first spares the broker redelivering, after the restart, messages that are
        already in the log; whatever is still unacked stays with the broker either way.
        """
        self._closed = True
        with self._idle:
            self._idle.wait_for(lambda: self._pending == 0, drain_s)
        if self._receipts is not None:
            self._receipts.stop()
        self.client.disconnect()
        self.client.loop_stop()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._connected.wait(timeout_s)

    # --- callbacks (paho's network thread) ---------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: Any,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.error("MQTT broker refused the service's connection: %s", reason)
            return
        with self._gen_lock:
            self._generation += 1
        self.stats.connects += 1
        client.subscribe(self.in_topic, qos=1)
        log.info(
            "MQTT connected to %s:%d (session present: %s), subscribed to %s",
            self.url.host,
            self.url.port,
            flags.session_present,
            self.in_topic,
        )
        self._connected.set()
        self.store.feed_link("mqtt", True)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: Any,
        properties: Properties | None,
    ) -> None:
        self._connected.clear()
        self.store.feed_link("mqtt", False)
        with self._gen_lock:
            self._generation += 1
        if not self._closed:
            log.warning("MQTT connection lost (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        """Never raises: paho would stop its network thread on an exception."""
        try:
            self._handle(msg)
        except Exception:  # a bug here must not stop the bridge; the message stays unacked
            log.exception("MQTT bridge failed on a message on %r", msg.topic)

    def _handle(self, msg: mqtt.MQTTMessage) -> None:
        self.stats.payloads += 1
        mid, qos = msg.mid, msg.qos
        generation = self._generation  # an int read is atomic; writers hold _gen_lock
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            self._dead(repr(msg._topic), "topic is not valid UTF-8", msg.payload, mid, qos)
            return
        try:
            kind, name = parse_topic(topic, self.store_id)
            msgs = parse_payload(msg.payload, topic, self._checker)
            check_topic(kind, name, msgs)
        except Exception as exc:  # MessageError, TopicError, or anything odd in a payload
            self._dead(topic, _describe(exc, topic), msg.payload, mid, qos)
            return
        if not msgs:
            self._ack(mid, qos, generation)
            return
        try:
            future = self._submit(msgs)
        except Exception as exc:
            # Still full after waiting, or the store is stopping: leave it unacked and have the
            # broker send it again on a new connection.
            log.error("LiveStore refused a payload on %s (%s); reconnecting", topic, exc)
            self.stats.commit_failures += 1
            self._redeliver(generation)
            return
        self.stats.messages_submitted += len(msgs)
        future.add_done_callback(self._committed_callback(mid, qos, generation, len(msgs)))

    def _submit(self, msgs: list[AnyMessage]) -> Future[list[int]]:
        """Submit, holding paho's network thread while the store is behind (back-pressure).

        The broker should never have more than ``receive_maximum`` messages unacknowledged
        with us, but mosquitto 2.0.11 sends more once acknowledgements flow, so the bridge
        enforces the bound itself: it stops reading until the log has caught up, and the
        backlog waits in the broker, in order. Dropping the connection instead would make
        the broker send the refused messages again only after newer ones were logged, too
        late for the engine's reorder window. The wait stays well inside the keepalive.
        """
        from walkout.service.runtime import submit_when_room

        deadline = time.monotonic() + self.max_block_s
        with self._idle:
            self._idle.wait_for(
                lambda: self._pending < self.receive_maximum or self._closed, self.max_block_s
            )
        # full with HTTP traffic too: wait a little and try again
        future = submit_when_room(
            lambda: self.store.submit(msgs, "mqtt"), deadline, lambda: self._closed
        )
        with self._idle:
            self._pending += 1
        return future

    def _committed_callback(
        self, mid: int, qos: int, generation: int, n: int
    ) -> Callable[[Future[list[int]]], None]:
        def done(future: Future[list[int]]) -> None:
            try:
                if future.cancelled() or future.exception() is not None:
                    self.stats.commit_failures += 1
                    log.error("log commit failed (%s); reconnecting for a redelivery", future)
                    self._redeliver(generation)
                    return
                self.stats.messages_committed += n
                self._ack(mid, qos, generation)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        return done

    def _ack(self, mid: int, qos: int, generation: int) -> None:
        """PUBACK, unless the connection it came on is gone (the broker will send it again)."""
        if qos == 0:
            return
        with self._gen_lock:
            if generation != self._generation:
                return
        self.client.ack(mid, qos)
        self.stats.acked += 1

    def _redeliver(self, generation: int) -> None:
        """Drop the connection so the broker resends every unacked message on reconnect.

        MQTT only redelivers on a new connection; acking later messages while one is missing
        would leave it with the broker until the next restart. The reconnect delay (1 s, then
        longer) gives a full queue time to drain.
        """
        with self._gen_lock:
            if generation != self._generation:
                return  # already reconnecting
            self._generation += 1
        sock = self.client.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _dead(self, topic: str, error: str, raw: bytes, mid: int, qos: int) -> None:
        """Dead-letter a payload: topic, log line, the store's reject table; then ack it."""
        with self._gen_lock:
            generation = self._generation
        log.warning("MQTT payload on %s rejected: %s", topic, error)
        text = raw.decode("utf-8", errors="replace")
        if len(text) > DEADLETTER_PAYLOAD_CHARS:
            cut = len(text) - DEADLETTER_PAYLOAD_CHARS
            text = text[:DEADLETTER_PAYLOAD_CHARS] + f"... [{cut} more characters]"
        letter = orjson.dumps({"topic": topic, "error": error, "payload": text})
        self.client.publish(self.deadletter_topic, letter, qos=1)
        try:
            self.store.reject("mqtt", topic, error, raw)
        except Exception:
            log.exception("LiveStore.reject failed for a payload on %s", topic)
        self.stats.deadlettered += 1
        self._ack(mid, qos, generation)

    # --- receipts out ------------------------------------------------------------------------

    def _start_receipts(self) -> None:
        """Forward the store's receipt events to ``walkout/S/out/receipts/{account}``."""
        self._receipts = ReceiptPump(self.store, self.publish_receipt).start()

    def publish_receipt(self, topic: str, payload: bytes) -> None:
        """Publish one receipt (from any thread: paho's publish is thread-safe)."""
        self.client.publish(topic, payload, qos=1)
        self.stats.receipts_published += 1


class ReceiptPump:
    """Hands the store's final receipts to ``publish(topic, payload)``, one topic per account.

    LiveStore hands events over on an asyncio queue bound to the subscriber's loop, so the
    pump runs its own small event loop in a thread.
    """

    def __init__(self, store: StoreLike, publish: Callable[[str, bytes], None]) -> None:
        self.store = store
        self.publish = publish
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ReceiptPump:
        subscribed = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._task = loop.create_task(self._pump(subscribed))
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(self._task)
            except Exception:
                log.exception("the MQTT receipt pump stopped")
            finally:
                subscribed.set()
                loop.close()

        self._thread = threading.Thread(target=run, name="mqtt-receipts", daemon=True)
        self._thread.start()
        subscribed.wait(5.0)
        return self

    def stop(self) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # its loop already ended with the store
                loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None:
            self._thread.join(5.0)

    async def _pump(self, subscribed: threading.Event) -> None:
        sub = self.store.subscribe(None, frozenset({"receipt"}))
        subscribed.set()
        try:
            while True:
                event = await sub.queue.get()
                if event is None:  # the store is stopping
                    return
                if event.get("type") != "receipt":
                    continue
                account = str(event.get("account") or "unknown")
                topic = f"walkout/{self.store.store_id}/out/receipts/{_topic_safe(account)}"
                self.publish(topic, orjson.dumps(event, default=str))
        finally:
            sub.close()


def _topic_safe(name: str) -> str:
    """An account as one topic level (no wildcards or separators)."""
    return "".join("_" if c in "/+#\0" else c for c in name) or "_"


def _describe(exc: BaseException, topic: str) -> str:
    if isinstance(exc, MessageError):
        # The topic is beside the error in the dead letter; keep only an item's index.
        at = exc.where.removeprefix(topic)
        return f"{at.strip()}: {exc.what}" if at.strip() else exc.what
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"


# --- wiring for ``walkout serve`` ------------------------------------------------------------


class MqttService:
    """The bridge plus, when the service runs its own, the embedded broker; ``close()`` both."""

    def __init__(self, bridge: MqttBridge | BridgeProcess, broker: EmbeddedBroker | None) -> None:
        self.bridge = bridge
        self.broker = broker

    @property
    def device_url(self) -> str | None:
        return self.broker.device_url if self.broker is not None else None

    def close(self) -> None:
        self.bridge.close()
        if self.broker is not None:
            self.broker.close()


def broker_state_dir(settings: ServiceSettings) -> Path:
    """Where the embedded broker keeps its files: stable across restarts, beside the DB."""
    if settings.mqtt_state_dir is not None:
        return Path(settings.mqtt_state_dir)
    db_url = settings.db_url
    if db_url.startswith("sqlite:///") and db_url != "sqlite:///:memory:":
        db = Path(db_url.removeprefix("sqlite:///"))
        return db.parent / f"{db.name}.mqtt"
    return Path.home() / ".local" / "state" / "walkout" / "mqtt"


def start_mqtt(store: LiveStore, settings: ServiceSettings) -> MqttService:
    """Connect the store to MQTT: the broker at ``settings.mqtt_url``, or an embedded one.

    With no ``mqtt_url``, Debian's mosquitto is started on 127.0.0.1 (see ``broker.py``) and the
    devices' URL is printed once, the way the admin key is. The bridge runs in a process of its
    own unless ``settings.mqtt_process`` is off.
    """
    from walkout.service.broker import EmbeddedBroker
    from walkout.service.mqtt_process import BridgeProcess

    broker: EmbeddedBroker | None = None
    url = settings.mqtt_url
    if not url:
        broker = EmbeddedBroker(broker_state_dir(settings), port=settings.mqtt_port).start()
        url = broker.url
        print(f"MQTT broker for devices: {broker.device_url}", file=sys.stderr, flush=True)
    try:
        receipts = settings.mqtt_publish_receipts
        bridge: MqttBridge | BridgeProcess
        if settings.mqtt_process:
            bridge = BridgeProcess(store, url, publish_receipts=receipts).start()
        else:
            bridge = MqttBridge(store, url, publish_receipts=receipts).start()
    except BaseException:
        if broker is not None:
            broker.close()
        raise
    return MqttService(bridge, broker)
