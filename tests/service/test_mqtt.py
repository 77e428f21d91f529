"""The MQTT bridge against a real mosquitto and the real LiveStore (SQLite log on disk).

A device publishes a small simulated recording line by line, in file order; the receipts that
come out on ``walkout/S/out/receipts/#`` must be ``walkout replay``'s on the same recording with
the live engine config (the log order is the file order, so the engine sees the same feed).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import psutil
import pytest
from tests.service import broker_fixtures
from tests.service.broker_fixtures import (
    DEVICE_USER,
    SERVICE_USER,
    SmallRecording,
    live_service,
    receipt_items,
    wait_until,
)
from tests.service.conftest import free_port

from walkout.recording.models import MESSAGE_ADAPTER
from walkout.service.broker import EmbeddedBroker
from walkout.service.mqtt import TopicError, check_topic, parse_topic
from walkout.service.mqtt_process import BridgeProcess
from walkout.service.settings import ServiceSettings

broker = broker_fixtures.broker
probes = broker_fixtures.probes
small_recording = broker_fixtures.small_recording


def _latest_receipts(probe: broker_fixtures.MqttProbe, store_id: str) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for _, payload in probe.messages(f"walkout/{store_id}/out/receipts/"):
        account, items = receipt_items(payload)
        out[account] = items
    return out


def _key(msg: object) -> bytes:
    return orjson.dumps(msg.model_dump(), option=orjson.OPT_SORT_KEYS)  # type: ignore[attr-defined]


def _store_id(rec: SmallRecording) -> str:
    return str(orjson.loads((rec.folder / "store.json").read_bytes())["store_id"])


def test_recording_over_mqtt_gives_replays_receipts(
    broker: EmbeddedBroker, probes, small_recording: SmallRecording, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    rec = small_recording
    sid = _store_id(rec)
    expected = rec.replay_items
    assert len(expected) >= 3 and any(expected.values())
    with live_service(rec.folder, f"sqlite:///{tmp_path / 'w.db'}", broker.url) as (store, _):
        shopper_app = probes(SERVICE_USER)
        shopper_app.subscribe(f"walkout/{sid}/out/receipts/#")
        probes(DEVICE_USER).publish_many(rec.payloads(sid))
        wait_until(
            lambda: set(_latest_receipts(shopper_app, sid)) == set(expected),
            "a receipt for every account",
        )
        assert _latest_receipts(shopper_app, sid) == expected
        wait_until(lambda: len(store.log) == len(rec.lines), "every message in the log")
        assert store.health()["rejected"] == 0


def test_bad_payloads_go_to_the_dead_letter_topic_and_the_service_goes_on(
    broker: EmbeddedBroker, probes, small_recording: SmallRecording, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    rec = small_recording
    sid = _store_id(rec)
    lines = [orjson.loads(ln) for ln in rec.lines]
    weight = next(m for m in lines if m["type"] == "weight")
    shelf = weight["shelf"]
    other_shelf = next(m["shelf"] for m in lines if m["type"] == "weight" and m["shelf"] != shelf)
    entry = next(m for m in lines if m["type"] == "entry")
    bad = [
        (f"walkout/{sid}/in/weight/{shelf}", b"{not json", "not valid JSON"),
        (f"walkout/{sid}/in/weight/{shelf}", b'{"t": 1.0, "type": "weight"}', "shelf"),
        (
            f"walkout/{sid}/in/weight/{other_shelf}",
            orjson.dumps(weight),
            f"shelf '{shelf}' on the topic of shelf '{other_shelf}'",
        ),
        (
            f"walkout/{sid}/in/weight/{shelf}",
            orjson.dumps({**weight, "g": weight["g"] + [1.0]}),
            "",
        ),
        (f"walkout/{sid}/in/gate/{entry['gate']}", orjson.dumps(weight), "on a gate topic"),
        (f"walkout/{sid}/in/gate/nowhere", orjson.dumps({**entry, "gate": "nowhere"}), "gate"),
        (f"walkout/{sid}/in/coffee/machine", orjson.dumps(weight), "unknown input kind"),
        (f"walkout/{sid}/in/weight/{shelf}", b"\xff\xfe\x00", "not valid JSON"),
        (f"walkout/{sid}/in/weight/{shelf}", orjson.dumps([weight, {"t": 2}]), "[1]"),
    ]
    with live_service(rec.folder, f"sqlite:///{tmp_path / 'w.db'}", broker.url) as (store, _):
        staff = probes(SERVICE_USER)
        staff.subscribe(f"walkout/{sid}/deadletter")
        device = probes(DEVICE_USER)
        for topic, payload, _ in bad:
            device.publish(topic, payload)
        # and then good ones: the bridge is still there and takes them
        device.publish(f"walkout/{sid}/in/gate/{entry['gate']}", orjson.dumps(entry))
        device.publish(f"walkout/{sid}/in/weight/{shelf}", orjson.dumps([weight, weight]))
        wait_until(lambda: len(staff.messages()) == len(bad), "a dead letter per bad payload")
        wait_until(lambda: len(store.log) == 3, "the good messages in the log")
        letters = [orjson.loads(p) for _, p in staff.messages()]
        for (topic, payload, needle), letter in zip(bad, letters, strict=True):
            assert letter["topic"] == topic
            assert needle in letter["error"], letter
            assert letter["payload"] == payload.decode("utf-8", errors="replace")
        assert store.health()["rejected"] == len(bad)


def test_messages_sent_while_the_service_is_down_arrive_after_restart(
    broker: EmbeddedBroker, probes, small_recording: SmallRecording, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The persistent session: the broker keeps QoS 1 input for the service while it is away."""
    rec = small_recording
    sid = _store_id(rec)
    payloads = rec.payloads(sid)
    half = len(payloads) // 2
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    device = probes(DEVICE_USER)
    receipts = probes(SERVICE_USER)
    receipts.subscribe(f"walkout/{sid}/out/receipts/#")
    with live_service(rec.folder, db_url, broker.url) as (store, _):
        device.publish_many(payloads[:half])
        wait_until(lambda: len(store.log) >= half, "the first half in the log")
    # the service is down: everything from here on waits in the broker
    device.publish_many(payloads[half:])
    with live_service(rec.folder, db_url, broker.url) as (store, _):
        wait_until(
            lambda: set(_latest_receipts(receipts, sid)) == set(rec.replay_items),
            "a receipt for every account",
        )
        sent = {_key(MESSAGE_ADAPTER.validate_json(ln)) for ln in rec.lines}
        # (a count of the log would not do: a redelivered message may be logged twice)
        wait_until(
            lambda: {_key(m) for _, m in store.log.iter_from(1)} >= sent,
            "every message in the log",
        )
        logged = {_key(m) for _, m in store.log.iter_from(1)}
        assert logged == sent  # none lost (a redelivered one may be logged twice)
    assert _latest_receipts(receipts, sid) == rec.replay_items


def test_embedded_broker_when_no_url_is_given(tmp_path: Path, small_recording) -> None:  # type: ignore[no-untyped-def]
    """``walkout serve`` without ``--mqtt-url``: mosquitto beside the DB; devices log in."""
    rec = small_recording
    sid = _store_id(rec)
    with live_service(rec.folder, f"sqlite:///{tmp_path / 'w.db'}", None) as (store, side):
        assert side.broker is not None and side.broker.running
        assert side.broker.state_dir == (tmp_path / "w.db.mqtt").resolve()
        device = broker_fixtures.MqttProbe(side.broker, DEVICE_USER)
        try:
            topic, payload = rec.payloads(sid)[0]
            device.publish(topic, payload)
            wait_until(lambda: len(store.log) == 1, "the message in the log")
        finally:
            device.close()
        broker_dir = side.broker.state_dir
    assert not (broker_dir / "mosquitto.pid").exists()  # stopped with the service


def test_settings_name_every_mqtt_option() -> None:
    fields = ServiceSettings.model_fields
    for name in ("mqtt", "mqtt_url", "mqtt_port", "mqtt_state_dir", "mqtt_publish_receipts"):
        assert name in fields


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("walkout/S/in/weight/A1-2", ("weight", "A1-2")),
        ("walkout/S/in/track/cams", ("track", "cams")),
        ("walkout/S/in/gate/in-1", ("gate", "in-1")),
        ("walkout/T/in/weight/A1", "store 'T'"),
        ("walkout/S/in/weight", "not an input topic"),
        ("walkout/S/in/weight/A1/extra", "not an input topic"),
        ("walkout/S/out/receipts/a", "not an input topic"),
        ("walkout/S/in/door/d1", "unknown input kind"),
        ("walkout/S/in/gate/", "empty gate name"),
    ],
)
def test_parse_topic(topic: str, expected: tuple[str, str] | str) -> None:
    if isinstance(expected, tuple):
        assert parse_topic(topic, "S") == expected
    else:
        with pytest.raises(TopicError, match=expected):
            parse_topic(topic, "S")


def test_check_topic_names_the_mismatch() -> None:
    from walkout.recording.models import EntryMsg, ExitMsg, TrackMsg, WeightMsg

    check_topic("weight", "A1", [WeightMsg(t=0, shelf="A1", g=[1.0])])
    check_topic("gate", "g1", [EntryMsg(t=0, gate="g1", account="a"), ExitMsg(t=1, gate="g1")])
    check_topic("track", "anything", [TrackMsg(t=0, id="x", pos=(0, 0))])
    with pytest.raises(TopicError, match="message 1: shelf 'A2'"):
        check_topic(
            "weight",
            "A1",
            [WeightMsg(t=0, shelf="A1", g=[1.0]), WeightMsg(t=0, shelf="A2", g=[1.0])],
        )
    with pytest.raises(TopicError, match="a 'exit' message on a track topic"):
        check_topic("track", "cams", [ExitMsg(t=1, gate="g1")])


def test_whole_service_on_postgresql_over_mqtt(
    broker: EmbeddedBroker,
    probes,
    small_recording: SmallRecording,
    make_service,
    postgres_url: str,
) -> None:  # type: ignore[no-untyped-def]
    """The stack ``walkout serve`` runs (uvicorn, PostgreSQL log, MQTT bridge), with a restart.

    The staff HTTP view of the receipts must agree with what MQTT published, and with replay.
    """
    rec = small_recording
    sid = _store_id(rec)
    payloads = rec.payloads(sid)
    third = len(payloads) // 3
    settings = {
        "store_dir": rec.folder,
        "db_url": postgres_url,
        "mqtt": True,
        "mqtt_url": broker.url,
        "reorder_window_s": broker_fixtures.LIVE_CONFIG.reorder_window_s,
        "exit_settle_s": broker_fixtures.LIVE_CONFIG.exit_settle_s,
    }
    out = probes(SERVICE_USER)
    out.subscribe(f"walkout/{sid}/out/receipts/#")
    device = probes(DEVICE_USER)
    first = make_service(**settings)
    device.publish_many(payloads[:third])
    wait_until(lambda: len(first.store.log) >= third, "the first third in the log")
    first.close()
    device.publish_many(payloads[third:])  # while the service is down
    second = make_service(**settings)
    second.wait_fed()
    wait_until(lambda: len(second.store.log) >= len(payloads), "every message in the log")
    second.wait_fed()
    http = {r["account"]: r["items"] for r in second.receipts()}
    assert http == rec.replay_items
    wait_until(lambda: set(_latest_receipts(out, sid)) == set(http), "receipts on MQTT")
    assert _latest_receipts(out, sid) == rec.replay_items


def test_a_killed_bridge_process_is_replaced_and_nothing_is_lost(
    broker: EmbeddedBroker, probes, small_recording: SmallRecording, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The bridge runs in a process of its own: ``kill -9`` it mid-feed and the service starts
    another, which the broker hands whatever the dead one had not acked."""
    rec = small_recording
    sid = _store_id(rec)
    payloads = rec.payloads(sid)
    half = len(payloads) // 2
    device = probes(DEVICE_USER)
    with live_service(rec.folder, f"sqlite:///{tmp_path / 'w.db'}", broker.url) as (store, side):
        bridge = side.bridge
        assert isinstance(bridge, BridgeProcess) and bridge.pid is not None
        first_pid = bridge.pid
        device.publish_many(payloads[:half])
        assert store.health()["links_down"] == []
        os.kill(first_pid, signal.SIGKILL)
        wait_until(lambda: store.health()["links_down"] == ["mqtt"], "health to say MQTT is down")
        device.publish_many(payloads[half:])
        sent = {_key(MESSAGE_ADAPTER.validate_json(ln)) for ln in rec.lines}
        wait_until(
            lambda: {_key(m) for _, m in store.log.iter_from(1)} >= sent,
            "every message in the log",
        )
        assert bridge.restarts == 1 and bridge.pid not in (None, first_pid)
        assert store.health()["links_down"] == []
        assert {_key(m) for _, m in store.log.iter_from(1)} == sent


@pytest.mark.parametrize("how", ["kill -9 of the service", "SIGTERM to its process group"])
def test_the_bridge_process_leaves_with_the_service(
    small_recording: SmallRecording, tmp_path: Path, how: str
) -> None:
    """``kill -9`` of ``walkout serve`` must not leave its bridge process behind, holding the
    broker session (and acking nothing) until someone notices. A service manager's SIGTERM (or
    Ctrl-C) reaches the whole group: the service stops cleanly and does not start a new bridge
    on the way out."""
    port = free_port()
    cmd = [
        sys.executable, "-c", "from walkout.cli import app; app()", "serve",
        "--store", str(small_recording.folder), "--db", f"sqlite:///{tmp_path / 'w.db'}",
        "--port", str(port), "--admin-key", "test-admin-key-0123456789",
    ]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    children: list[psutil.Process] = []
    try:

        def serving() -> bool:
            assert serve.poll() is None, log.read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200
            except httpx.TransportError:
                return False

        wait_until(serving, "walkout serve and its bridge process", 60)
        children = psutil.Process(serve.pid).children()
        bridges = [c for c in children if c.name() != "mosquitto"]
        assert bridges, [c.cmdline() for c in children]
        if how.startswith("kill -9"):
            os.kill(serve.pid, signal.SIGKILL)
            serve.wait(10)
        else:
            os.killpg(serve.pid, signal.SIGTERM)
            assert serve.wait(30) == 0, log.read_text()
            text = log.read_text()
            assert "died" not in text and "Traceback" not in text, text
        _, alive = psutil.wait_procs(bridges, timeout=15)
        assert not alive, [c.cmdline() for c in alive]
    finally:
        if serve.poll() is None:
            serve.kill()
        for c in children:  # its mosquitto, left running by the kill
            with contextlib.suppress(psutil.NoSuchProcess):
                c.kill()


def test_serve_with_no_broker_at_the_url_says_so_and_exits(
    small_recording: SmallRecording, tmp_path: Path
) -> None:
    """A wrong ``--mqtt-url`` is an operator's mistake: one line saying what, no traceback."""
    port = free_port()  # nothing listens there
    cmd = [
        sys.executable, "-c", "from walkout.cli import app; app()", "serve",
        "--store", str(small_recording.folder), "--db", f"sqlite:///{tmp_path / 'w.db'}",
        "--port", "0", "--mqtt-url", f"mqtt://u:p@127.0.0.1:{port}",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert done.returncode == 1, done.stderr
    assert f"could not connect to the MQTT broker at 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr
