"""Simulated store devices: play a recording's messages over MQTT as its shelves, cameras and
gates would, paced by their own clock. For ``walkout serve --demo`` and the live benches."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from walkout.recording.files import iter_messages
from walkout.service.mqtt import MqttUrl

log = logging.getLogger(__name__)

MAX_UNACKED = 1000
"""Publishes in flight at once (mosquitto's default Receive Maximum; more stalls the client)."""


def topic_of(store_id: str, msg: Mapping[str, Any]) -> str:
    """The topic a device publishes a spec message (its JSON object) on (docs/mqtt.md)."""
    kind = msg["type"]
    if kind == "weight":
        return f"walkout/{store_id}/in/weight/{msg['shelf']}"
    if kind in ("entry", "exit"):
        return f"walkout/{store_id}/in/gate/{msg['gate']}"
    return f"walkout/{store_id}/in/track/overhead"


class RecordingDevices:
    """Publishes a recording's events over MQTT in a background thread, as its devices would.

    Messages go out at their own pace (``speed`` times real time), in the recording's delivery
    order, QoS 1, with the device user's credentials (the broker's ACL applies).
    """

    def __init__(self, recording: Path, store_id: str, device_url: str, speed: float = 1.0):
        self.recording = recording
        self.store_id = store_id
        self.url = MqttUrl.parse(device_url)
        self.speed = speed
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-devices", daemon=True)

    def start(self) -> RecordingDevices:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="walkout-demo-devices", protocol=mqtt.MQTTv5
        )
        client.username_pw_set(self.url.username, self.url.password)
        client.max_inflight_messages_set(MAX_UNACKED)
        client.connect(self.url.host, self.url.port)
        client.loop_start()
        return client

    def _run(self) -> None:
        client = self._client()
        try:
            start = time.monotonic()
            t0: float | None = None
            for msg in iter_messages(self.recording):
                if self._stop.is_set():
                    return
                t0 = msg.t if t0 is None else t0
                delay = start + (msg.t - t0) / self.speed - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    return
                body = msg.model_dump(mode="json", exclude_none=True)
                client.publish(topic_of(self.store_id, body), orjson.dumps(body), qos=1)
                self.sent += 1
            log.info("demo devices: the recording is over (%d messages sent)", self.sent)
        finally:
            client.loop_stop()
            client.disconnect()
