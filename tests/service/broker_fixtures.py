"""Fixtures for the MQTT tests: a real mosquitto per test, real paho clients, a real LiveStore.

Test modules import what they use from here (``from tests.service.broker_fixtures import ...``);
pytest picks the fixtures up from the import.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from walkout.engine import EngineConfig
from walkout.replay import replay
from walkout.service.broker import DEVICE_USER, SERVICE_USER, EmbeddedBroker
from walkout.service.devices import topic_of
from walkout.sim.presets import EASY, variant
from walkout.sim.simulate import simulate_config

DEADLINE_S = 60.0


def wait_until(cond: Callable[[], bool], what: str, timeout_s: float = DEADLINE_S) -> None:
    """Poll ``cond`` until true; fail naming ``what`` after the deadline (no blind sleeps)."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


class MqttProbe:
    """A real paho client logged in as ``device`` or ``service``, collecting what it receives."""

    def __init__(self, broker: EmbeddedBroker, user: str, password: str | None = None) -> None:
        if password is None:
            creds = broker.credentials
            password = creds.device_password if user == DEVICE_USER else creds.service_password
        self.received: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subacks: dict[int, list[ReasonCode]] = {}
        self.connect_reason: ReasonCode | None = None
        self._connack = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"probe-{user}-{id(self)}",
            protocol=mqtt.MQTTv5,
        )
        self.client.username_pw_set(user, password)
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect = self._on_connect
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._connack.wait(10), "no CONNACK from mosquitto"

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:  # type: ignore[no-untyped-def]
        self.connect_reason = reason
        self._connack.set()

    def _on_message(self, client, userdata, msg) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            self.received.append((msg.topic, bytes(msg.payload)))

    def _on_subscribe(self, client, userdata, mid, reasons, properties) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            self._subacks[mid] = list(reasons)

    @property
    def connected(self) -> bool:
        return self.connect_reason is not None and not self.connect_reason.is_failure

    def subscribe(self, topic: str) -> list[ReasonCode]:
        """Subscribe with QoS 1 and return the broker's SUBACK reason codes."""
        _, mid = self.client.subscribe(topic, qos=1)
        wait_until(lambda: mid in self._subacks, f"SUBACK for {topic}", 10)
        return self._subacks[mid]

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> None:
        """Publish and wait for the broker's PUBACK."""
        self.client.publish(topic, payload, qos=qos).wait_for_publish(30)

    def publish_denied(self, topic: str, payload: bytes) -> None:
        """Publish where the ACL forbids it: mosquitto acks, drops it and drops the client."""
        with contextlib.suppress(RuntimeError):  # "not currently connected" once dropped
            self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def publish_many(self, items: list[tuple[str, bytes]]) -> None:
        """Publish in order (QoS 1) and wait for every PUBACK: all are with the broker."""
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in items]
        for info in infos:
            info.wait_for_publish(120)

    def messages(self, prefix: str = "") -> list[tuple[str, bytes]]:
        with self._lock:
            return [(t, p) for t, p in self.received if t.startswith(prefix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A real mosquitto on a free loopback port, its files in the test's folder."""
    with EmbeddedBroker(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def probes(broker: EmbeddedBroker) -> Iterator[Callable[..., MqttProbe]]:
    """Make MQTT clients (``probes("device")``); all are closed after the test."""
    made: list[MqttProbe] = []

    def make(user: str, password: str | None = None) -> MqttProbe:
        probe = MqttProbe(broker, user, password)
        made.append(probe)
        return probe

    yield make
    for probe in made:
        probe.close()


# --- a small store and its recording ---------------------------------------------------------

#: easy sensors, four shoppers in a minute and a half, everyone out 25 s before the end.
SMALL = variant(EASY, store_id="mqtt-test", accounts_per_minute=5.0, max_inside=3, closing_s=25.0)
LIVE_CONFIG = EngineConfig(reorder_window_s=0.5, exit_settle_s=0.2)


@dataclass(frozen=True)
class SmallRecording:
    folder: Path
    lines: list[bytes]
    replay_items: dict[str, dict[str, int]]  # walkout replay's receipts, live engine config

    def payloads(self, store_id: str) -> list[tuple[str, bytes]]:
        """(topic, payload) for every line, one message per publish, in file order."""
        return [(topic_of(store_id, orjson.loads(line)), line) for line in self.lines]


@pytest.fixture(scope="session")
def small_recording(tmp_path_factory: pytest.TempPathFactory) -> SmallRecording:
    folder = tmp_path_factory.mktemp("mqtt-rec")
    simulate_config(folder, SMALL, seed=1, minutes=1.5)
    lines = [ln.rstrip(b"\n") for ln in (folder / "events.jsonl").read_bytes().splitlines()]
    result = replay(folder, config=LIVE_CONFIG)
    items = {r.account: dict(r.to_out().items) for r in result.receipts}
    return SmallRecording(folder, [ln for ln in lines if ln], items)


# --- the real service ---------------------------------------------------------------------------


@contextmanager
def live_service(
    recording: Path, db_url: str, mqtt_url: str | None, **settings: object
) -> Iterator[tuple[object, object]]:
    """A started LiveStore on ``db_url`` with the MQTT side from ``start_mqtt``; stops both."""
    from walkout.service.mqtt import start_mqtt
    from walkout.service.runtime import LiveStore
    from walkout.service.settings import ServiceSettings

    cfg = ServiceSettings(
        store_dir=recording,
        db_url=db_url,
        mqtt_url=mqtt_url,
        reorder_window_s=LIVE_CONFIG.reorder_window_s,
        exit_settle_s=LIVE_CONFIG.exit_settle_s,
        **settings,  # type: ignore[arg-type]
    )
    store = LiveStore(cfg)
    store.start()
    try:
        mqtt_side = start_mqtt(store, cfg)
        try:
            yield store, mqtt_side
        finally:
            mqtt_side.close()
    finally:
        store.stop()


def receipt_items(payload: bytes) -> tuple[str, dict[str, int]]:
    """(account, items) of a receipt event published on ``out/receipts/{account}``."""
    event = orjson.loads(payload)
    receipt = event.get("receipt", event)
    return str(event.get("account") or receipt["account"]), dict(receipt["items"])


__all__ = [
    "DEVICE_USER",
    "LIVE_CONFIG",
    "SERVICE_USER",
    "MqttProbe",
    "SmallRecording",
    "broker",
    "live_service",
    "probes",
    "receipt_items",
    "small_recording",
    "wait_until",
]
