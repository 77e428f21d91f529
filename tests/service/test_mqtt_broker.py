"""The embedded mosquitto: who may connect, read and write what; persistence across restarts."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from tests.service import broker_fixtures
from tests.service.broker_fixtures import DEVICE_USER, SERVICE_USER, wait_until

from walkout.service.broker import EmbeddedBroker

broker = broker_fixtures.broker
probes = broker_fixtures.probes


def test_wrong_password_is_refused(probes) -> None:  # type: ignore[no-untyped-def]
    assert not probes(DEVICE_USER, "not-the-password").connected
    assert probes(DEVICE_USER).connected


def test_broker_listens_on_loopback_only(broker: EmbeddedBroker) -> None:
    conf = (broker.state_dir / "mosquitto.conf").read_text()
    assert f"listener {broker.port} 127.0.0.1" in conf
    assert "allow_anonymous false" in conf
    assert broker.url.startswith(f"mqtt://{SERVICE_USER}:")
    assert broker.url.endswith(f"@127.0.0.1:{broker.port}")


def test_device_cannot_read_anything(broker: EmbeddedBroker, probes) -> None:  # type: ignore[no-untyped-def]
    """A device's subscriptions get nothing: not inputs, not receipts, not dead letters."""
    spy = probes(DEVICE_USER)
    for topic in ("#", "walkout/+/in/#", "walkout/+/out/#", "walkout/+/deadletter"):
        spy.subscribe(topic)
    service = probes(SERVICE_USER)
    service.subscribe("#")
    sender = probes(DEVICE_USER)
    sender.publish("walkout/S/in/weight/A1", b"1")
    service.publish("walkout/S/out/receipts/acct-1", b"2")
    service.publish("walkout/S/deadletter", b"3")
    sender.publish("walkout/S/in/gate/in-1", b"last")
    # The service's client reads everything, so once it has the last message the broker has
    # routed all four; a device subscribed to the same topics must have got none of them.
    wait_until(lambda: any(p == b"last" for _, p in service.messages()), "the last message")
    assert [p for _, p in service.messages()] == [b"1", b"2", b"3", b"last"]
    assert spy.messages() == []


@pytest.mark.parametrize(
    "topic",
    [
        "walkout/S/out/receipts/acct-1",  # forging a receipt
        "walkout/S/deadletter",
        "walkout/S/inbox/weight/A1",
        "other/S/in/weight/A1",
        "walkout/S/control",
    ],
)
def test_device_publishes_only_inputs(probes, topic: str) -> None:  # type: ignore[no-untyped-def]
    service = probes(SERVICE_USER)
    service.subscribe("#")
    probes(DEVICE_USER).publish_denied(topic, b"forged")
    probes(DEVICE_USER).publish("walkout/S/in/track/cams", b"allowed")
    wait_until(lambda: bool(service.messages()), "the allowed message")
    assert service.messages() == [("walkout/S/in/track/cams", b"allowed")]


def test_service_writes_only_deadletter_and_out(probes) -> None:  # type: ignore[no-untyped-def]
    """Even the service cannot inject sensor input: only devices speak for the shelves."""
    watcher = probes(SERVICE_USER)
    watcher.subscribe("#")
    probes(SERVICE_USER).publish_denied("walkout/S/in/weight/A1", b"forged")
    probes(SERVICE_USER).publish("walkout/S/out/receipts/a", b"ok")
    wait_until(lambda: bool(watcher.messages()), "the receipt")
    assert watcher.messages() == [("walkout/S/out/receipts/a", b"ok")]


def test_queued_messages_survive_a_broker_restart(tmp_path: Path) -> None:
    """Persistence: QoS 1 messages queued for an offline persistent session outlive mosquitto."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    state = tmp_path / "broker"
    got: list[bytes] = []
    subscribed = threading.Event()

    def session() -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id="svc-session",
            protocol=mqtt.MQTTv311,
            clean_session=False,
        )
        client.username_pw_set(SERVICE_USER, running.credentials.service_password)
        client.on_message = lambda c, u, m: got.append(bytes(m.payload))
        client.on_subscribe = lambda *args: subscribed.set()
        client.connect(running.host, running.port)
        client.loop_start()
        return client

    with EmbeddedBroker(state) as running:
        svc = session()
        wait_until(svc.is_connected, "the session")
        svc.subscribe("walkout/S/in/#", qos=1)
        assert subscribed.wait(10)
        svc.disconnect()
        svc.loop_stop()
        dev = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="dev", protocol=mqtt.MQTTv5)
        dev.username_pw_set(DEVICE_USER, running.credentials.device_password)
        dev.connect(running.host, running.port)
        dev.loop_start()
        for i in range(20):
            dev.publish("walkout/S/in/track/cams", str(i).encode(), qos=1).wait_for_publish(10)
        dev.disconnect()
        dev.loop_stop()
        port = running.port
    assert (state / "mosquitto.db").exists()
    with EmbeddedBroker(state) as running:
        assert running.port == port  # devices find it where it was
        svc = session()
        wait_until(lambda: len(got) == 20, "the 20 queued messages")
        svc.disconnect()
        svc.loop_stop()
    assert got == [str(i).encode() for i in range(20)]


def test_a_broker_left_running_is_stopped_and_replaced(tmp_path: Path) -> None:
    """After ``kill -9`` of the service, its mosquitto still runs; the next start takes over."""
    first = EmbeddedBroker(tmp_path / "b").start()
    old_pid = (tmp_path / "b" / "mosquitto.pid").read_text()
    second = EmbeddedBroker(tmp_path / "b").start()  # as a restarted service would
    try:
        assert not first.running
        assert (tmp_path / "b" / "mosquitto.pid").read_text() != old_pid
        assert second.port == first.port
    finally:
        second.close()
        first.close()


def test_missing_mosquitto_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import walkout.service.broker as broker_module

    monkeypatch.setattr(broker_module.shutil, "which", lambda *a, **k: None)
    with pytest.raises(broker_module.BrokerError, match="apt-get install -y mosquitto"):
        EmbeddedBroker(tmp_path).start()
