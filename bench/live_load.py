"""Live load: a large, harsh store fed over MQTT in real time to ``walkout serve``.

    python bench/live_load.py                  # 10 minutes (the figure in docs/mqtt.md)
    python bench/live_load.py --minutes 1      # a quick look
    python bench/live_load.py --batch-ms 0     # one MQTT message per reading (no batching)

The store is the simulator's ``scale`` preset (about 1,000 plates at 30 Hz, up to 50 shoppers
inside, 60 arrivals a minute) with every sensor and behaviour knob of ``hard`` (ringing, shocks,
drift, dropped and late lines, id swaps, parties...). ``walkout serve`` runs as a subprocess with
its embedded mosquitto and a SQLite log; a separate publisher process plays the recording in
real time, pacing each line by its ``t`` (a late line goes out when the file reaches it, as it
would on a network). Like a shelf controller, the publisher sends each shelf's readings as one
JSON array per ``--batch-ms`` (100 ms by default) and the camera system's tracks likewise; gate
messages go out at once, one by one.

Printed: messages sent vs logged (nothing lost), exit-to-receipt latency p50/p99 (wall time from
the publish of a party's last exit to the arrival of its receipt on
``walkout/S/out/receipts/#``), the service's CPU % of one core and peak RSS (psutil: its main
process and its MQTT bridge process, each also apart; its mosquitto separately), and how far
the publisher fell behind its schedule.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CACHE

ADMIN_KEY = "bench-admin-key-0123456789"
RECEIPTS = "walkout/{sid}/out/receipts/#"
RECEIPTS_WAIT_S = 45.0
"""After the feed, how long to wait for receipts still due (30 s unseen rule + quiet ticks)."""


# --- the recording -------------------------------------------------------------------------------


def hard_scale_config() -> Any:
    """``scale`` with every knob in which ``hard`` differs from ``busy``, except the traffic
    (arrivals, shoppers inside) and the name, which stay ``scale``'s."""
    from walkout.sim.presets import BUSY, HARD, SCALE, variant

    keep = {"store_id", "accounts_per_minute", "max_inside", "default_minutes"}
    busy = BUSY.model_dump()
    harsh = {k: v for k, v in HARD.model_dump().items() if v != busy[k] and k not in keep}
    return variant(SCALE, store_id="sim-hard-scale", **harsh)


def hard_scale_recording(seed: int, minutes: float) -> Path:
    """The hard-scale recording, simulated once and cached (the simulator is deterministic)."""
    from walkout.sim.simulate import simulate_config

    folder = CACHE / f"hard-scale-s{seed}-m{minutes:g}"
    if not (folder / "truth.json").is_file():
        print(f"simulating hard-scale, {minutes:g} min, seed {seed} into {folder} ...", flush=True)
        folder.mkdir(parents=True, exist_ok=True)
        simulate_config(folder, hard_scale_config(), seed=seed, minutes=minutes, gzip_events=True)
    return folder


def events_path(folder: Path) -> Path:
    gz = folder / "events.jsonl.gz"
    return gz if gz.exists() else folder / "events.jsonl"


def read_lines(folder: Path) -> Iterator[bytes]:
    path = events_path(folder)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield line


# --- walkout serve as a subprocess ------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MqttLogin:
    host: str
    port: int
    user: str
    password: str


class ServeProcess:
    """``walkout serve`` in a subprocess on a SQLite file in ``workdir`` (kept across restarts,
    so a restarted one rebuilds from the same log and finds the same embedded broker)."""

    def __init__(
        self,
        store_dir: Path,
        workdir: Path,
        mqtt_url: str | None = None,
        port: int = 0,
        serve_args: tuple[str, ...] = (),
    ) -> None:
        self.serve_args = serve_args
        self.store_dir = store_dir
        self.workdir = workdir
        self.db = workdir / "walkout.db"
        self.mqtt_url = mqtt_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=30.0)

    def start(self, timeout_s: float = 300.0) -> ServeProcess:
        cmd = [
            sys.executable, "-c", "from walkout.cli import app; app()", "serve",
            "--store", str(self.store_dir), "--db", f"sqlite:///{self.db}",
            "--port", str(self.port), "--admin-key", ADMIN_KEY,
        ]  # fmt: skip
        if self.mqtt_url:
            cmd += ["--mqtt-url", self.mqtt_url]
        cmd += self.serve_args
        log = open(self.workdir / "serve.log", "ab")  # noqa: SIM115 (the child owns it)
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                tail = (self.workdir / "serve.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"walkout serve exited with {self.proc.returncode}:\n{tail}")
            try:
                if self.http.get("/v1/health").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("walkout serve did not answer /v1/health in time")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def health(self) -> dict[str, Any]:
        return dict(self.http.get("/v1/health").json())

    def receipts(self) -> list[dict[str, Any]]:
        r = self.http.get("/v1/staff/receipts", headers={"X-API-Key": ADMIN_KEY})
        r.raise_for_status()
        return list(r.json())

    def wait_fed(self, n_logged: int, timeout_s: float = 120.0) -> dict[str, Any]:
        """Until the log holds ``n_logged`` messages and the engine has taken them all."""
        deadline = time.monotonic() + timeout_s
        while True:
            h = self.health()
            devices = h["log_length"] - h.get("clock_ticks", 0)  # the rest are the service's
            if devices >= n_logged and h["fed_seq"] == h["log_length"]:
                return h
            if time.monotonic() > deadline:
                return h
            time.sleep(0.1)

    def mqtt_login(self, user: str = "service") -> MqttLogin:
        """The embedded broker's address and a login, from its state folder beside the DB."""
        state = self.workdir / "walkout.db.mqtt"
        creds = json.loads((state / "credentials.json").read_text())
        port = int((state / "port").read_text())
        return MqttLogin("127.0.0.1", port, user, creds[f"{user}_password"])

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout_s: float = 60.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.http.close()


# --- the publisher (its own process: a device, not a thread of the bench) ----------------------


@dataclass
class DeliveryCounts:
    """What ``delivery`` has read so far: lines, and the first and newest time stamps."""

    lines: int = 0
    t0: float = 0.0
    tmax: float = float("-inf")


@dataclass(frozen=True)
class Send:
    """One MQTT publish of the bench's devices, due at store time ``due_t``."""

    due_t: float
    topic: str
    payload: bytes
    exit: tuple[str, float] | None = None  # (gate, t) when the payload is an exit line


def delivery(
    lines: Iterator[bytes], sid: str, batch_s: float, counts: DeliveryCounts
) -> Iterator[Send]:
    """The devices' publishes in order, as a shelf controller and a camera system send them:
    each topic's lines as one JSON array per ``batch_s`` of store time (flushed once the file
    reaches the batch's end), gate lines at once, one by one, when the file reaches them (a
    late line goes out late). ``batch_s`` 0: every line at once."""
    from walkout.service.devices import topic_of

    buffers: dict[str, list[bytes]] = {}
    next_flush = 0.0
    for line in lines:
        msg = orjson.loads(line)
        t = float(msg["t"])
        if counts.lines == 0:
            counts.t0 = t
            next_flush = t + batch_s
        counts.lines += 1
        counts.tmax = max(counts.tmax, t)
        if batch_s > 0:
            while next_flush <= counts.tmax:
                for topic, items in buffers.items():
                    if items:
                        yield Send(next_flush, topic, b"[" + b",".join(items) + b"]")
                        items.clear()
                next_flush += batch_s
        topic = topic_of(sid, msg)
        if msg["type"] in ("entry", "exit") or batch_s <= 0:
            gate_exit = (msg["gate"], t) if msg["type"] == "exit" else None
            yield Send(counts.tmax, topic, line, gate_exit)
        else:
            buffers.setdefault(topic, []).append(line)
    for topic, items in buffers.items():
        if items:
            yield Send(counts.tmax, topic, b"[" + b",".join(items) + b"]")


def publish_recording(
    folder: str,
    sid: str,
    login: MqttLogin,
    start_at: float,
    speed: float,
    batch_s: float,
    out_path: str,
) -> None:
    """Play the recording over MQTT, QoS 1, paced by ``t``; write what was sent to ``out_path``."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    acked = payloads = 0
    lock = threading.Lock()

    def on_publish(client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        nonlocal acked
        with lock:
            acked += 1

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}",
                         protocol=mqtt.MQTTv5)  # fmt: skip
    client.username_pw_set(login.user, login.password)
    # Never more unacked than the broker's Receive Maximum (1000 in the embedded config):
    # mosquitto 2.0.11 stalls a client that goes over it for seconds at a time.
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect(login.host, login.port)
    client.loop_start()

    exits: list[tuple[str, float, float]] = []
    lag_max = 0.0
    lags: list[float] = []
    counts = DeliveryCounts()

    def wait_for(store_t: float) -> None:
        nonlocal lag_max
        due = start_at + (store_t - counts.t0) / speed
        now = time.time()
        if due > now:
            time.sleep(due - now)
        else:
            lag_max = max(lag_max, now - due)

    def send(topic: str, payload: bytes) -> None:
        """Publish, first waiting while too much is unacknowledged: MQTT packet ids are 16-bit,
        and paho reuses the id of a message still queued once 65,535 wait (it is lost)."""
        nonlocal payloads
        while payloads - acked > 30_000:
            time.sleep(0.001)
        client.publish(topic, payload, qos=1)
        payloads += 1

    next_sample = 20_000
    for item in delivery(read_lines(Path(folder)), sid, batch_s, counts):
        wait_for(item.due_t)
        send(item.topic, item.payload)
        if item.exit is not None:
            exits.append((*item.exit, time.time()))
        if counts.lines >= next_sample:
            next_sample += 20_000
            lags.append(max(0.0, time.time() - (start_at + (counts.tmax - counts.t0) / speed)))
    lines, tmax, t0 = counts.lines, counts.tmax, counts.t0
    finished = time.time()
    deadline = time.monotonic() + 120
    while acked < payloads and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    Path(out_path).write_text(
        json.dumps(
            {"lines": lines, "payloads": payloads, "acked": acked, "exits": exits,
             "lag_max_s": lag_max, "lag_samples": lags, "finished": finished,
             "store_s": (tmax - (t0 or 0.0))}
        )
    )  # fmt: skip


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Sampler:
    """CPU and RSS of the service, sampled from a thread: its main process, its MQTT bridge
    process and (apart) the mosquitto it started."""

    pid: int
    every_s: float = 0.5
    peak_rss: int = 0  # main process and bridge process together
    peak_child_rss: int = 0  # mosquitto
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _t0: float = 0.0
    _cpu0: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cpu_pct: float = 0.0  # main and bridge processes
    main_cpu_pct: float = 0.0
    bridge_cpu_pct: float = 0.0
    child_cpu_pct: float = 0.0  # mosquitto

    def _split(self) -> tuple[psutil.Process, list[psutil.Process], list[psutil.Process]]:
        proc = psutil.Process(self.pid)
        kids = proc.children(recursive=True)
        broker = [c for c in kids if c.name() == "mosquitto"]
        return proc, [c for c in kids if c not in broker], broker

    def _cpu(self) -> tuple[float, float, float]:
        proc, bridge, broker = self._split()

        def cpu(ps: list[psutil.Process]) -> float:
            total = 0.0
            for p in ps:
                with contextlib.suppress(psutil.Error):
                    total += sum(p.cpu_times()[:2])
            return total

        return cpu([proc]), cpu(bridge), cpu(broker)

    def start(self) -> Sampler:
        self._t0 = time.monotonic()
        self._cpu0 = self._cpu()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                proc, bridge, broker = self._split()
                own = proc.memory_info().rss + sum(c.memory_info().rss for c in bridge)
                self.peak_rss = max(self.peak_rss, own)
                kids = sum(c.memory_info().rss for c in broker)
                self.peak_child_rss = max(self.peak_child_rss, kids)
            except psutil.Error:
                return

    def stop(self) -> None:
        main, bridge, broker = self._cpu()
        wall = time.monotonic() - self._t0
        self.main_cpu_pct = 100.0 * (main - self._cpu0[0]) / wall
        self.bridge_cpu_pct = 100.0 * (bridge - self._cpu0[1]) / wall
        self.cpu_pct = self.main_cpu_pct + self.bridge_cpu_pct
        self.child_cpu_pct = 100.0 * (broker - self._cpu0[2]) / wall
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class ReceiptListener:
    """Subscribes to ``out/receipts/#`` as the service user; first arrival per account."""

    def __init__(self, login: MqttLogin, sid: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.first: dict[str, float] = {}
        self.count = 0
        ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-receipts",
                                  protocol=mqtt.MQTTv5)  # fmt: skip
        self.client.username_pw_set(login.user, login.password)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: ready.set()
        self.client.connect(login.host, login.port)
        self.client.loop_start()
        self.client.subscribe(RECEIPTS.format(sid=sid), qos=1)
        if not ready.wait(10):
            raise RuntimeError("no SUBACK for the receipts topic")

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        now = time.time()
        self.count += 1
        account = str(orjson.loads(msg.payload)["account"])
        self.first.setdefault(account, now)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100.0 * (len(ordered) - 1))))
    return ordered[k]


def timed_exits(
    truth: dict[str, Any], exits: list[tuple[str, float, float]]
) -> dict[str, tuple[str, float, float]]:
    """Per account, the exit line its receipt is timed from: of the lines at the gate of the
    party's last exit in truth, within 0.25 s of it, the first published, as (gate, t, wall).
    An account whose exit line the simulated network dropped has none."""
    by_gate: dict[str, list[tuple[float, float]]] = {}
    for gate, t, wall in exits:
        by_gate.setdefault(gate, []).append((t, wall))
    last_exit: dict[str, tuple[str, float]] = {}
    for person in truth.get("persons", []):
        acct, t = person["account"], person.get("exit_t")
        if t is not None and (acct not in last_exit or t > last_exit[acct][1]):
            last_exit[acct] = (person["exit_gate"], t)
    out: dict[str, tuple[str, float, float]] = {}
    for acct, (gate, t) in last_exit.items():
        near = [(w, te) for (te, w) in by_gate.get(gate, []) if abs(te - t) <= 0.25]
        if near:
            wall, te = min(near)
            out[acct] = (gate, te, wall)
    return out


def exit_latencies(
    truth: dict[str, Any], exits: list[tuple[str, float, float]], arrivals: dict[str, float]
) -> tuple[dict[str, float], int]:
    """Per account, receipt arrival minus the publish of the party's last exit (matched by
    gate and t); and how many receipts could not be matched to an exit."""
    timed = timed_exits(truth, exits)
    out = {acct: arrived - timed[acct][2] for acct, arrived in arrivals.items() if acct in timed}
    return out, len(arrivals) - len(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-ms", type=float, default=100.0,
                        help="per-shelf batching window; 0 = one message per publish")  # fmt: skip
    parser.add_argument("--speed", type=float, default=1.0, help="1 = real time")
    parser.add_argument("--workdir", type=Path, default=None, help="kept if given")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--exit-window", type=float, default=None, help="walkout serve --exit-window, s (0.5: off)"
    )
    parser.add_argument(
        "--commit-linger", type=float, default=None, help="walkout serve --commit-linger, s"
    )
    args = parser.parse_args()
    serve_args: tuple[str, ...] = ()
    if args.exit_window is not None:
        serve_args += ("--exit-window", str(args.exit_window))
    if args.commit_linger is not None:
        serve_args += ("--commit-linger", str(args.commit_linger))

    folder = hard_scale_recording(args.seed, args.minutes)
    store = json.loads((folder / "store.json").read_text())
    truth = json.loads((folder / "truth.json").read_text())
    sid = store["store_id"]
    n_plates = len(store["plates"])
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="walkout-live-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "walkout.db").unlink(missing_ok=True)

    print(f"store {sid}: {n_plates} plates, {len(truth['receipts'])} accounts; "
          f"walkout serve in {workdir}", flush=True)  # fmt: skip
    serve = ServeProcess(folder, workdir, serve_args=serve_args).start()
    try:
        listener = ReceiptListener(serve.mqtt_login("service"), sid)
        sampler = Sampler(serve.pid).start()
        out_path = workdir / "publisher.json"
        start_at = time.time() + 1.0
        ctx = mp.get_context("spawn")
        pub = ctx.Process(
            target=publish_recording,
            args=(str(folder), sid, serve.mqtt_login("device"), start_at, args.speed,
                  args.batch_ms / 1000.0, str(out_path)),
        )  # fmt: skip
        pub.start()
        pub.join()
        sent = json.loads(out_path.read_text())
        health = serve.wait_fed(sent["lines"])
        drained = time.time()
        sampler.stop()
        # The feed has stopped: the service ticks its clock on after 2 s of quiet, so the last
        # leavers' receipts still come (the unseen rule's after 30 s); wait for them a while.
        accounts = len(truth["receipts"])
        deadline = time.monotonic() + RECEIPTS_WAIT_S
        while len(listener.first) < accounts and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1.0)  # let the last receipts' MQTT publishes land
        listener.close()
        receipts = serve.receipts()
    finally:
        serve.stop()

    per_account, unmatched = exit_latencies(truth, sent["exits"], listener.first)
    # kept beside the log for a breakdown of where each receipt's time went (bench/live_lag.py)
    (workdir / "arrivals.json").write_text(
        json.dumps({"arrivals": listener.first, "latency_s": per_account}, indent=0)
    )
    lat = list(per_account.values())
    late = sorted(((round(v, 2), a) for a, v in per_account.items() if v > 1.0), reverse=True)
    wall = sent["finished"] - start_at
    lost = sent["lines"] - (health["log_length"] - health.get("clock_ticks", 0))
    figures = {
        "minutes": args.minutes,
        "plates": n_plates,
        "batch_ms": args.batch_ms,
        "messages_sent": sent["lines"],
        "payloads_sent": sent["payloads"],
        "payloads_acked_by_broker": sent["acked"],
        "messages_logged": health["log_length"] - health.get("clock_ticks", 0),
        "lost": max(lost, 0),
        "rejected": health["rejected"],
        "too_late": health.get("too_late"),
        "taken_late": health.get("taken_late"),
        "duplicates_dropped": health.get("duplicates"),
        "store_s": round(sent["store_s"], 1),
        "publish_wall_s": round(wall, 1),
        "publisher_lag_max_s": round(sent["lag_max_s"], 3),
        "drain_after_publish_s": round(drained - sent["finished"], 2),
        "accounts": len(truth["receipts"]),
        "receipts_http": len(receipts),
        "receipts_mqtt": len(listener.first),
        "latency_n": len(lat),
        "latency_unmatched": unmatched,
        "latency_p50_s": round(percentile(lat, 50), 3),
        "latency_p99_s": round(percentile(lat, 99), 3),
        "latency_max_s": round(max(lat), 3) if lat else None,
        "later_than_1s": len(late),
        "latest": ", ".join(f"{a} {v} s" for v, a in late[:6]) or "none",
        "service_cpu_pct": round(sampler.cpu_pct, 1),
        "service_main_cpu_pct": round(sampler.main_cpu_pct, 1),
        "service_bridge_cpu_pct": round(sampler.bridge_cpu_pct, 1),
        "service_peak_rss_mb": round(sampler.peak_rss / 2**20, 1),
        "mosquitto_cpu_pct": round(sampler.child_cpu_pct, 1),
        "mosquitto_peak_rss_mb": round(sampler.peak_child_rss / 2**20, 1),
    }
    width = max(len(k) for k in figures)
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")
    verdict = "OK" if lost <= 0 and lat and figures["latency_p99_s"] < 1.0 else "MISSED"
    print(f"target: nothing lost and p99 < 1 s -> {verdict}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
